// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title FixedPointNeuron
/// @notice One neuron of vcp's fixed-point arithmetic, bit for bit as `vcp.fixedpoint.neuron_output`
/// (and the vectorised `QuantizedDense.__call__` / `requantize`):
///
///     acc = bias + sum_i w[i] * x[i]                      (int8 weights and inputs, exact)
///     y   = clamp((acc * M + 2**(s - 1)) >> s, lo, 127)   (>> arithmetic: floor division by 2**s)
///
/// with `lo = 0` for RELU (activation 1) and -128 for NONE (activation 0), the width in
/// 1..4096 (`MAX_WIDTH`), bias an int32, `M` in [1, 2**31) and `s` in [1, 62].
/// @dev Vectors are `bytes`, one two's-complement byte per int8 value (`vcp.encoding.int8_bytes`).
/// Under the bounds above |acc| < 2**31.05 and |acc * M| + 2**61 < 2**63, so int256 arithmetic
/// never wraps and equals Python's unbounded integers. The dot product is computed 32 bytes at a
/// time with SIMD-within-a-register multiplications (see `dot`); `vcp` tests it against the
/// Python reference on thousands of random neurons, including every bound.
library FixedPointNeuron {
    /// @dev vcp.fixedpoint.MAX_WIDTH: the widest layer vcp accepts (and the bound `dot` relies on).
    uint256 internal constant MAX_WIDTH = 4096;
    /// @dev vcp.fixedpoint.MULTIPLIER_MAX: multipliers are in [1, 2**31).
    uint256 internal constant MULTIPLIER_MAX = 2 ** 31 - 1;
    /// @dev vcp.fixedpoint.SHIFT_MIN / SHIFT_MAX.
    uint256 internal constant SHIFT_MIN = 1;
    uint256 internal constant SHIFT_MAX = 62;
    /// @dev vcp.fixedpoint.Activation.NONE / RELU, as encoded in the neuron leaf.
    uint8 internal constant ACTIVATION_NONE = 0;
    uint8 internal constant ACTIVATION_RELU = 1;

    /// @dev Every byte 0x80: XOR maps an int8 v to the unsigned byte v + 128.
    uint256 private constant _OFFSET = 0x8080808080808080808080808080808080808080808080808080808080808080;
    /// @dev The low byte of each of the eight 32-bit lanes.
    uint256 private constant _LANE_BYTE = 0x000000ff000000ff000000ff000000ff000000ff000000ff000000ff000000ff;
    /// @dev The low 64 bits of each 128-bit half / the low 32 bits of each 64-bit quarter.
    uint256 private constant _LOW64 = 0x0000000000000000ffffffffffffffff0000000000000000ffffffffffffffff;
    uint256 private constant _LOW32 = 0x00000000ffffffff00000000ffffffff00000000ffffffff00000000ffffffff;
    /// @dev 1 in each 32-bit lane: multiplying by it puts the sum of all lanes in the top lane.
    uint256 private constant _LANE_ONES = 0x0000000100000001000000010000000100000001000000010000000100000001;

    /// @notice The weight and input vectors have different lengths.
    error NeuronWidthMismatch(uint256 weights, uint256 inputs);
    /// @notice The vector width is 0 or above MAX_WIDTH (4096).
    error NeuronWidthOutOfRange(uint256 width);
    /// @notice The bias is not an int32.
    error NeuronBiasOutOfRange(int256 bias);
    /// @notice The multiplier is outside [1, 2**31).
    error NeuronMultiplierOutOfRange(uint256 multiplier);
    /// @notice The shift is outside [1, 62].
    error NeuronShiftOutOfRange(uint256 shift);
    /// @notice The activation is neither NONE (0) nor RELU (1).
    error NeuronActivationUnknown(uint8 activation);
    /// @notice An int8 vector was read past its end.
    error NeuronIndexOutOfRange(uint256 index, uint256 length);

    /// @notice The neuron's int8 output for `inputs`; mirrors `vcp.fixedpoint.neuron_output`.
    /// @param weights The neuron's int8 weights, one byte each (the weights of its model leaf).
    /// @param inputs The previous layer's int8 activations, one byte each (same length).
    /// @param bias int32 bias, as int256.
    /// @param multiplier Requantization multiplier M in [1, 2**31).
    /// @param shift Requantization shift s in [1, 62].
    /// @param activation 0 (NONE: clamp to [-128, 127]) or 1 (RELU: clamp to [0, 127]).
    /// @dev Reverts with a `Neuron*` error on any argument outside the spec's bounds, which are
    /// exactly the bounds `vcp.fixedpoint.QuantizedDense` enforces on a model.
    function output(
        bytes calldata weights,
        bytes calldata inputs,
        int256 bias,
        uint256 multiplier,
        uint256 shift,
        uint8 activation
    ) internal pure returns (int8) {
        uint256 width = weights.length;
        if (width != inputs.length) revert NeuronWidthMismatch(width, inputs.length);
        if (width == 0 || width > MAX_WIDTH) revert NeuronWidthOutOfRange(width);
        if (bias < type(int32).min || bias > type(int32).max) revert NeuronBiasOutOfRange(bias);
        if (multiplier == 0 || multiplier > MULTIPLIER_MAX) revert NeuronMultiplierOutOfRange(multiplier);
        if (shift < SHIFT_MIN || shift > SHIFT_MAX) revert NeuronShiftOutOfRange(shift);
        if (activation > ACTIVATION_RELU) revert NeuronActivationUnknown(activation);
        unchecked {
            return requantize(bias + dot(weights, inputs), multiplier, shift, activation);
        }
    }

    /// @notice `clamp((acc * multiplier + 2**(shift - 1)) >> shift, lo, 127)`, arithmetic shift;
    /// mirrors `vcp.fixedpoint.requantize` for one value.
    /// @dev Unchecked: the caller guarantees |acc| < 2**32, multiplier < 2**31 and shift in [1, 62]
    /// (`output` does), so nothing can wrap.
    function requantize(int256 acc, uint256 multiplier, uint256 shift, uint8 activation)
        internal
        pure
        returns (int8)
    {
        unchecked {
            // Solidity's >> on a signed integer rounds towards negative infinity, like Python's.
            int256 y = (acc * int256(multiplier) + int256(uint256(1) << (shift - 1))) >> shift;
            int256 low = activation == ACTIVATION_RELU ? int256(0) : int256(type(int8).min);
            if (y < low) return int8(low);
            if (y > type(int8).max) return type(int8).max;
            return int8(y);
        }
    }

    /// @notice The exact dot product `sum_i int8(a[i]) * int8(b[i])`.
    /// @dev PRECONDITION (checked by `output`, not here): `a.length == b.length <= MAX_WIDTH`.
    /// Beyond 4096 bytes the 32-bit lanes below could carry into each other and the result is
    /// wrong. How it works, per 32-byte word of each vector:
    /// 1. XOR with 0x80.. turns every int8 v into the unsigned byte v + 128 (in 0..255).
    /// 2. The word is split into four words of eight 32-bit lanes, holding bytes 4l+g of lane l
    ///    (g = 0..3); for `b` the lane order is reversed first. Multiplying the two lane words
    ///    of the same g is a polynomial product in 2**32 whose top coefficient (bits 224..255) is
    ///    sum_l a'[lane l] * b'[same byte]: eight byte products in one MUL. Every coefficient is
    ///    at most 8 * 255**2 per product, so even summed over 4 groups and 128 words it stays
    ///    below 2**32 (266,342,400): no lane ever carries into the next, and products are simply
    ///    added up and read from the top lane once, at the end.
    /// 3. The lane words are also summed, for sum a' and sum b' (the top lane of a final MUL by
    ///    0x..00000001 per lane; at most 8 * 261,120 < 2**32).
    /// Then sum a*b = sum (a'-128)(b'-128) = sum a'b' - 128 (sum a' + sum b') + 16384 n.
    /// A trailing partial word is masked to its real bytes after the XOR, so the bytes
    /// calldataload reads past the vector's end count as a' = b' = 0 and drop out.
    function dot(bytes calldata a, bytes calldata b) internal pure returns (int256 result) {
        assembly ("memory-safe") {
            // Adds one word pair (already offset and masked) to the running lane sums.
            function accumulate(wa, wb, products, sums) -> products2, sums2 {
                // Reverse the order of wb's eight 32-bit lanes (the bytes inside a lane keep theirs).
                wb := or(shr(128, wb), shl(128, wb))
                wb := or(and(shr(64, wb), _LOW64), shl(64, and(wb, _LOW64)))
                wb := or(and(shr(32, wb), _LOW32), shl(32, and(wb, _LOW32)))
                let a0 := and(wa, _LANE_BYTE)
                let a1 := and(shr(8, wa), _LANE_BYTE)
                let a2 := and(shr(16, wa), _LANE_BYTE)
                let a3 := and(shr(24, wa), _LANE_BYTE)
                let b0 := and(wb, _LANE_BYTE)
                let b1 := and(shr(8, wb), _LANE_BYTE)
                let b2 := and(shr(16, wb), _LANE_BYTE)
                let b3 := and(shr(24, wb), _LANE_BYTE)
                products2 := add(products, add(add(mul(a0, b0), mul(a1, b1)), add(mul(a2, b2), mul(a3, b3))))
                sums2 := add(sums, add(add(add(a0, a1), add(a2, a3)), add(add(b0, b1), add(b2, b3))))
            }

            let n := a.length
            let full := and(n, not(31))
            let products := 0
            let sums := 0
            for { let i := 0 } lt(i, full) { i := add(i, 32) } {
                products, sums := accumulate(
                    xor(calldataload(add(a.offset, i)), _OFFSET),
                    xor(calldataload(add(b.offset, i)), _OFFSET),
                    products,
                    sums
                )
            }
            let rest := and(n, 31)
            if rest {
                // Keep the first `rest` bytes (the high ones) of the last word.
                let mask := not(shr(shl(3, rest), not(0)))
                products, sums := accumulate(
                    and(xor(calldataload(add(a.offset, full)), _OFFSET), mask),
                    and(xor(calldataload(add(b.offset, full)), _OFFSET), mask),
                    products,
                    sums
                )
            }
            let offsetSum := shr(224, mul(sums, _LANE_ONES))
            result := add(sub(shr(224, products), shl(7, offsetSum)), shl(14, n))
        }
    }

    /// @notice Value `index` of an int8 vector; mirrors `int(values[index])` on the numpy vector.
    function readInt8(bytes calldata values, uint256 index) internal pure returns (int8 value) {
        if (index >= values.length) revert NeuronIndexOutOfRange(index, values.length);
        assembly ("memory-safe") {
            value := signextend(0, byte(0, calldataload(add(values.offset, index))))
        }
    }
}
