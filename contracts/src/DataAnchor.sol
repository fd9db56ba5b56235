// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IDataAnchor} from "./IDataAnchor.sol";

/// @title DataAnchor
/// @notice Calldata data availability: items live in the chain's transaction history, found by
/// their keccak256 (the `DataPublished` event). No state, no owner, nothing to grief.
contract DataAnchor is IDataAnchor {
    /// @inheritdoc IDataAnchor
    function publish(bytes[] calldata items) external returns (bytes32[] memory digests) {
        if (items.length == 0) revert DataAnchorNothingToPublish(0);
        digests = new bytes32[](items.length);
        for (uint256 i = 0; i < items.length; ++i) {
            if (items[i].length == 0) revert DataAnchorNothingToPublish(i);
            digests[i] = keccak256(items[i]);
            emit DataPublished(digests[i], msg.sender, i, items[i].length);
        }
    }
}
