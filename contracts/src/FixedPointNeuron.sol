// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title FixedPointNeuron
/// @notice One neuron of vcp's fixed-point arithmetic, bit for bit as `vcp.model.fixedpoint.neuron_output`
/// (and the vectorised `QuantizedDense.__call__` / `requantize`):
///
///     acc = bias + sum_i w[i] * x[i]                      (int8 weights and inputs, exact)
///     y   = clamp((acc * M + 2**(s - 1)) >> s, lo, 127)   (>> arithmetic: floor division by 2**s)
///
/// with `lo = 0` for RELU (activation 1) and -128 for NONE (activation 0), the width in
/// 1..4096 (`MAX_WIDTH`), bias an int32, `M` in [1, 2**31) and `s` in [1, 62].
/// @dev Vectors are `bytes`, one two's-complement byte per int8 value (`vcp.commit.encoding.int8_bytes`).
/// Under the bounds above |acc| < 2**31.05 and |acc * M| + 2**61 < 2**63, so int256 arithmetic
/// never wraps and equals Python's unbounded integers. The dot product is computed 32 bytes at a
/// time with SIMD-within-a-register multiplications (see `dot`); `vcp` tests it against the
/// Python reference on thousands of random neurons, including every bound.
library FixedPointNeuron {
    /// @dev vcp.model.fixedpoint.MAX_WIDTH: the widest layer vcp accepts (and the bound `dot` relies on).
    uint256 internal constant MAX_WIDTH = 4096;
    /// @dev vcp.model.fixedpoint.MULTIPLIER_MAX: multipliers are in [1, 2**31).
    uint256 internal constant MULTIPLIER_MAX = 2 ** 31 - 1;
    /// @dev vcp.model.fixedpoint.SHIFT_MIN / SHIFT_MAX.
    uint256 internal constant SHIFT_MIN = 1;
    uint256 internal constant SHIFT_MAX = 62;
    /// @dev vcp.model.fixedpoint.Activation.NONE / RELU, as encoded in the neuron leaf.
    uint8 internal constant ACTIVATION_NONE = 0;
    uint8 internal constant ACTIVATION_RELU = 1;

    /// @dev Every byte 0x80: XOR maps an int8 v to the unsigned byte v + 128.
    uint256 private constant _OFFSET = 0x8080808080808080808080808080808080808080808080808080808080808080;
    /// @dev The low byte of each of the eight 32-bit lanes.
    uint256 private constant _LANE_BYTE = 0x000000ff000000ff000000ff000000ff000000ff000000ff000000ff000000ff;
    /// @dev The low 64 bits of each 128-bit half / the low 32 bits of each 64-bit quarter.
    uint256 private constant _LOW64 = 0x0000000000000000ffffffffffffffff0000000000000000ffffffffffffffff;
    uint256 private constant _LOW32 = 0x00000000ffffffff00000000ffffffff00000000ffffffff00000000ffffffff;
    /// @dev 128 in each 32-bit lane.
    uint256 private constant _LANE_128 = 0x0000008000000080000000800000008000000080000000800000008000000080;
    /// @dev 2**223: half of the top lane's unit 2**224.
    uint256 private constant _HALF_LANE7 = 0x0000000080000000000000000000000000000000000000000000000000000000;

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

    /// @notice The neuron's int8 output for `inputs`; mirrors `vcp.model.fixedpoint.neuron_output`.
    /// @param weights The neuron's int8 weights, one byte each (the weights of its model leaf).
    /// @param inputs The previous layer's int8 activations, one byte each (same length).
    /// @param bias int32 bias, as int256.
    /// @param multiplier Requantization multiplier M in [1, 2**31).
    /// @param shift Requantization shift s in [1, 62].
    /// @param activation 0 (NONE: clamp to [-128, 127]) or 1 (RELU: clamp to [0, 127]).
    /// @dev Reverts with a `Neuron*` error on any argument outside the spec's bounds, which are
    /// exactly the bounds `vcp.model.fixedpoint.QuantizedDense` enforces on a model.
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
    /// mirrors `vcp.model.fixedpoint.requantize` for one value.
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
    /// Beyond 4096 bytes the lane bounds below no longer hold and the result is wrong.
    ///
    /// How it works (SIMD within a register), per 32-byte word of each vector:
    /// 1. XOR with 0x80.. turns each int8 v into the byte v + 128, so that `(byte & 0xff) - 128`
    ///    is v again: subtracting 128 from every 32-bit lane of a masked word at once gives the
    ///    word sum_l v_l * 2**(32 l) (mod 2**256), i.e. eight signed lanes, borrows included.
    /// 2. Byte j of the word (j = 0 is the most significant) sits in lane l = (31 - j) / 4 of
    ///    group g = (31 - j) % 4, extracted with `(word >> 8g) & 0x000000ff..`. For `b` the order
    ///    of the eight 32-bit lanes is reversed first, so that in the product of the two group
    ///    words, read as polynomials in X = 2**32, the coefficient of X**7 is
    ///    sum_l a_l * b_l: eight products per MUL (X**8 and up fall off the 256-bit word).
    /// 3. Every coefficient of X**0..X**7 is a sum of at most eight products of magnitude at most
    ///    2**14. The group products of all words are simply added up (mod 2**256): at most
    ///    4 * 128 products, so the X**7 coefficient (the dot product, |.| <= 2**26) fits in 32
    ///    signed bits, and the part below X**7 has magnitude below 2**218. Adding 2**223 makes
    ///    that lower part non-negative and smaller than X**7 without touching bit 224 and up,
    ///    so the top 32 bits, sign-extended, are exactly the dot product.
    /// A trailing partial word is masked before the XOR, so the bytes that calldataload reads
    /// past the vector's end become the value 0 in both vectors and add nothing.
    function dot(bytes calldata a, bytes calldata b) internal pure returns (int256 result) {
        assembly ("memory-safe") {
            // X**7 coefficient of the four group products of one word pair (both XORed with 0x80..).
            function wordProducts(wa, wb) -> p {
                // Reverse the order of wb's eight 32-bit lanes (the bytes inside a lane keep theirs).
                wb := or(shr(128, wb), shl(128, wb))
                wb := or(and(shr(64, wb), _LOW64), shl(64, and(wb, _LOW64)))
                wb := or(and(shr(32, wb), _LOW32), shl(32, and(wb, _LOW32)))
                p := add(
                    add(
                        mul(sub(and(wa, _LANE_BYTE), _LANE_128), sub(and(wb, _LANE_BYTE), _LANE_128)),
                        mul(
                            sub(and(shr(8, wa), _LANE_BYTE), _LANE_128),
                            sub(and(shr(8, wb), _LANE_BYTE), _LANE_128)
                        )
                    ),
                    add(
                        mul(
                            sub(and(shr(16, wa), _LANE_BYTE), _LANE_128),
                            sub(and(shr(16, wb), _LANE_BYTE), _LANE_128)
                        ),
                        mul(
                            sub(and(shr(24, wa), _LANE_BYTE), _LANE_128),
                            sub(and(shr(24, wb), _LANE_BYTE), _LANE_128)
                        )
                    )
                )
            }

            let pa := a.offset
            let pb := b.offset
            let n := a.length
            let products := 0
            for { let end := add(pa, and(n, not(31))) } lt(pa, end) {
                pa := add(pa, 32)
                pb := add(pb, 32)
            } {
                products := add(
                    products, wordProducts(xor(calldataload(pa), _OFFSET), xor(calldataload(pb), _OFFSET))
                )
            }
            let rest := and(n, 31)
            if rest {
                // Keep the first `rest` bytes (the high ones) of the last, partial word.
                let mask := not(shr(shl(3, rest), not(0)))
                products := add(
                    products,
                    wordProducts(xor(and(calldataload(pa), mask), _OFFSET), xor(and(calldataload(pb), mask), _OFFSET))
                )
            }
            result := signextend(3, shr(224, add(products, _HALF_LANE7)))
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
