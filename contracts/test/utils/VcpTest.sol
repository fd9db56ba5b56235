// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Vm} from "./Vm.sol";

/// @title VcpTest
/// @notice Base of vcp's Foundry tests: the cheatcode handle and a fuzz-input `bound`.
abstract contract VcpTest {
    /// @dev The address forge serves cheatcodes at: address(bytes20(uint160(uint256(keccak256("hevm cheat code"))))).
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    /// @dev `x` mapped into [lo, hi] (lo <= hi), keeping small values small so edge cases stay likely.
    function _bound(uint256 x, uint256 lo, uint256 hi) internal pure returns (uint256) {
        require(lo <= hi, "VcpTest: lo > hi");
        uint256 size = hi - lo;
        if (size == type(uint256).max) return x;
        return lo + x % (size + 1);
    }

    /// @dev `x` mapped into [lo, hi] for signed bounds.
    function _boundInt(int256 x, int256 lo, int256 hi) internal pure returns (int256) {
        require(lo <= hi, "VcpTest: lo > hi");
        uint256 size = uint256(hi - lo);
        uint256 offset = uint256(x) % (size + 1);
        return lo + int256(offset);
    }

    /// @dev `n` pseudo-random bytes from `seed` (keccak in counter mode): fuzzed vectors of any length.
    function _bytes(bytes32 seed, uint256 n) internal pure returns (bytes memory out) {
        out = new bytes(n);
        for (uint256 i = 0; i < n; i += 32) {
            bytes32 word = keccak256(abi.encode(seed, i));
            for (uint256 j = 0; j < 32 && i + j < n; ++j) {
                out[i + j] = word[j];
            }
        }
    }

    /// @dev An int8 vector (one two's-complement byte per value) from JSON integers.
    function _int8Bytes(int256[] memory values) internal pure returns (bytes memory out) {
        out = new bytes(values.length);
        for (uint256 i = 0; i < values.length; ++i) {
            require(values[i] >= -128 && values[i] <= 127, "VcpTest: not an int8");
            out[i] = bytes1(uint8(int8(values[i])));
        }
    }
}
