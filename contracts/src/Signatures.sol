// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title Signatures
/// @notice ecrecover that accepts only canonical signatures, mirrored by
/// `vcp.attest.eip712.Signature.is_canonical`.
/// @dev IMPORTANT: returns address(0) for any non-canonical or unrecoverable signature; callers
/// must treat zero as failure. High-s signatures are refused so that a signature cannot be
/// re-shaped into a second valid one (EIP-2).
library Signatures {
    /// @dev secp256k1 n / 2.
    uint256 internal constant HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    function recover(bytes32 digest, uint8 v, bytes32 r, bytes32 s) internal pure returns (address) {
        if (uint256(s) > HALF_ORDER || uint256(s) == 0 || (v != 27 && v != 28)) return address(0);
        return ecrecover(digest, v, r, s);
    }
}
