// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title IDataAnchor
/// @notice Publishes bytes in a transaction's calldata, where every node keeps them, and names
/// each item by its keccak256 in an event, so that a reader finds the transaction by the digest
/// it already knows (an on-chain commitment) and checks the bytes against it. Nothing is stored.
interface IDataAnchor {
    /// @notice Emitted once per published item.
    /// @param digest keccak256 of the item's bytes.
    /// @param publisher The caller.
    /// @param index The item's position in the call's `items`.
    /// @param size The item's length in bytes.
    event DataPublished(bytes32 indexed digest, address indexed publisher, uint256 index, uint256 size);

    /// @notice Thrown for a call with no items, or with an empty item.
    error DataAnchorNothingToPublish(uint256 index);

    /// @notice Publishes `items` (at least one, none empty) and returns their digests.
    /// @dev Open to anyone: a copy of someone's items names the same digests, and whoever pays
    /// for the calldata gains nothing but having published them.
    function publish(bytes[] calldata items) external returns (bytes32[] memory digests);
}
