// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IOwned} from "./IOwned.sol";

/// @title Owned
/// @notice The one ownership behaviour of vcp's contracts: a single non-zero owner, `onlyOwner`,
/// and `transferOwnership`. Every change of owner (deployment included, from the zero address)
/// first updates the state, then emits `OwnershipTransferred(previous, new)`.
/// @dev No renounce and no two-step transfer: the owner only configures (registers models, and in
/// the registry provers and zk verifiers), so a lost owner freezes configuration, never funds.
/// A revert names the contract it came from: each contract declares its own two custom errors,
/// `error <Prefix>UnauthorizedAccount(address account)` and `error <Prefix>ZeroAddress()`, and
/// hands their selectors to this base through `_unauthorizedError` and `_zeroAddressError`.
/// (Selectors rather than virtual functions that revert: with those, solc's legacy optimizer laid
/// the registry out differently and its submitAttestation cost ~140 gas more; with selectors no
/// other function's gas moves.) `_owner` is slot 0 of a contract whose only stateful base this is.
abstract contract Owned is IOwned {
    address private _owner;

    /// @dev Reverts with the contract's zero-address error if `initialOwner` is zero.
    constructor(address initialOwner) {
        if (initialOwner == address(0)) _revertWith(_zeroAddressError());
        _owner = initialOwner;
        emit OwnershipTransferred(address(0), initialOwner);
    }

    /// @dev Reverts with the contract's unauthorized error (naming the sender) unless the sender
    /// is the owner.
    modifier onlyOwner() {
        if (msg.sender != _owner) _revertWith(_unauthorizedError(), msg.sender);
        _;
    }

    /// @inheritdoc IOwned
    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) _revertWith(_zeroAddressError());
        address previous = _owner;
        _owner = newOwner;
        emit OwnershipTransferred(previous, newOwner);
    }

    /// @inheritdoc IOwned
    function owner() external view returns (address) {
        return _owner;
    }

    /// @dev The selector of the contract's `error ...UnauthorizedAccount(address account)`.
    function _unauthorizedError() internal pure virtual returns (bytes4);

    /// @dev The selector of the contract's `error ...ZeroAddress()`.
    function _zeroAddressError() internal pure virtual returns (bytes4);

    /// @dev Reverts with the custom error `selector()` (no arguments).
    function _revertWith(bytes4 selector) private pure {
        assembly ("memory-safe") {
            mstore(0, selector)
            revert(0, 0x04)
        }
    }

    /// @dev Reverts with the custom error `selector(address account)`.
    function _revertWith(bytes4 selector, address account) private pure {
        assembly ("memory-safe") {
            mstore(0, selector)
            mstore(0x04, account)
            revert(0, 0x24)
        }
    }
}
