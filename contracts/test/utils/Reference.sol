// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title Reference
/// @notice Deliberately plain Solidity versions of what vcp's libraries compute, written from the
/// specs (docs/arithmetic.md, docs/encoding.md) rather than from the libraries: checked arithmetic,
/// one byte at a time, no assembly. The fuzz tests hold the optimised libraries to them.
library Reference {
    /// @notice The neuron rule of docs/arithmetic.md: acc = bias + sum w[i] * x[i].
    function accumulate(bytes memory weights, bytes memory inputs, int256 bias) internal pure returns (int256 acc) {
        require(weights.length == inputs.length, "Reference: width mismatch");
        acc = bias;
        for (uint256 i = 0; i < weights.length; ++i) {
            acc += int256(int8(uint8(weights[i]))) * int256(int8(uint8(inputs[i])));
        }
    }

    /// @notice y = min(127, max(lo, floor((acc * M + 2^(s-1)) / 2^s))), lo = 0 for ReLU else -128.
    /// @dev Floor division written out (Solidity's `/` truncates towards zero).
    function requantize(int256 acc, uint256 multiplier, uint256 shift, uint8 activation)
        internal
        pure
        returns (int8)
    {
        int256 numerator = acc * int256(multiplier) + int256(2 ** (shift - 1));
        int256 denominator = int256(2 ** shift);
        int256 t = numerator / denominator;
        if (numerator % denominator != 0 && numerator < 0) t -= 1;
        int256 lo = activation == 1 ? int256(0) : int256(-128);
        if (t < lo) return int8(lo);
        if (t > 127) return int8(127);
        return int8(t);
    }

    /// @notice `value` as `width` big-endian bytes (the fixed-width integers of docs/encoding.md).
    function bigEndian(uint256 value, uint256 width) internal pure returns (bytes memory out) {
        out = new bytes(width);
        for (uint256 i = width; i > 0; --i) {
            out[i - 1] = bytes1(uint8(value & 0xff));
            value >>= 8;
        }
        require(value == 0, "Reference: value wider than its field");
    }

    /// @notice An int32 as its four two's-complement big-endian bytes.
    function int32Bytes(int32 value) internal pure returns (bytes memory) {
        return bigEndian(uint256(uint32(value)), 4);
    }

    /// @notice keccak256(0x00 || payload).
    function leafHash(bytes memory payload) internal pure returns (bytes32) {
        return keccak256(bytes.concat(hex"00", payload));
    }

    /// @notice keccak256(0x01 || left || right).
    function nodeHash(bytes32 left, bytes32 right) internal pure returns (bytes32) {
        return keccak256(bytes.concat(hex"01", left, right));
    }

    /// @notice Depth of the padded tree over `leaves` leaves: the least d with 2^d >= leaves.
    function depth(uint256 leaves) internal pure returns (uint256 d) {
        uint256 size = 1;
        while (size < leaves) {
            size *= 2;
            d += 1;
        }
    }

    /// @notice The root of `leaves` padded with bytes32(0) to a power of two, and the sibling path of `index`.
    function rootAndProof(bytes32[] memory leaves, uint256 index)
        internal
        pure
        returns (bytes32 root, bytes32[] memory proof)
    {
        uint256 d = depth(leaves.length);
        bytes32[] memory level = new bytes32[](2 ** d);
        for (uint256 i = 0; i < leaves.length; ++i) level[i] = leaves[i];
        proof = new bytes32[](d);
        for (uint256 h = 0; h < d; ++h) {
            proof[h] = level[index ^ 1];
            bytes32[] memory up = new bytes32[](level.length / 2);
            for (uint256 i = 0; i < up.length; ++i) up[i] = nodeHash(level[2 * i], level[2 * i + 1]);
            level = up;
            index /= 2;
        }
        root = level[0];
    }

    /// @notice keccak256(0x00 || "A" || uint16 index || uint32 n || values): one trace vector's leaf.
    function activationLeaf(uint256 index, bytes memory values) internal pure returns (bytes32) {
        return leafHash(bytes.concat("A", bigEndian(index, 2), bigEndian(values.length, 4), values));
    }
}
