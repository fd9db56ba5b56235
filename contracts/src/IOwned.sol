// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title IOwned
/// @notice One owner, who may hand the contract to another (see `Owned`).
interface IOwned {
    /// @notice Emitted when ownership moves (at deployment, from the zero address).
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    /// @notice Hands ownership to `newOwner` (non-zero). Owner only.
    function transferOwnership(address newOwner) external;

    /// @notice The owner.
    function owner() external view returns (address);
}
