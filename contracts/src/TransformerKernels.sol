// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {FixedPointNeuron} from "./FixedPointNeuron.sol";
import {GraphKernels} from "./GraphKernels.sol";

/// @title TransformerKernels
/// @notice One output element of each integer transformer operator, bit for bit as the numpy kernels
/// `vcp_toolkit.model.graph.softmax`, `.layernorm`, `.gelu` and `.matmul` (docs/arithmetic.md,
/// "Transformer operators"). Each element is a function of one row (int8 bytes in memory, one per value, gathered from proven tiles), the
/// operator's integer parameters and the element's index, so a fraud proof opens one row.
/// @dev Bounds (rows of at most 4096, restated from the Python modules): softmax's sum of exps is at
/// most 2**42; LayerNorm's V << 20 < 2**59 and |acc| < 2**24 + 2**31; a matmul's |acc| <= 2**26.
/// int256 never wraps, so every result equals Python's integers. Requantization and half-up division
/// are GraphKernels' (one rounding rule for the whole graph).
library TransformerKernels {
    /// @dev vcp_toolkit.model.fixedpoint.MAX_WIDTH: the longest row.
    uint256 internal constant MAX_WIDTH = 4096;
    /// @dev softmax.EXP_FRAC, EXP_ONE, EXP_A, EXP_B, PROB_ONE.
    uint256 internal constant EXP_FRAC = 16;
    uint256 internal constant EXP_ONE = 1 << 30;
    uint256 internal constant EXP_A = 721_984_002;
    uint256 internal constant EXP_B = 186_294_206;
    uint256 internal constant PROB_ONE = 127;
    /// @dev layernorm.LN_FRAC: fractional bits of the normalised value.
    uint256 internal constant LN_FRAC = 10;
    /// @dev gelu.TABLE_SIZE: one output code per int8 input code.
    uint256 internal constant GELU_TABLE_SIZE = 256;

    /// @notice A row is empty or longer than MAX_WIDTH (4096).
    error TransformerWidthOutOfRange(uint256 width);
    /// @notice The element's index is not inside its row.
    error TransformerIndexOutOfRange(uint256 index, uint256 width);
    /// @notice A vector does not have the length its operator requires.
    error TransformerLengthMismatch(uint256 expected, uint256 actual);
    /// @notice An operator parameter is outside its range (`name` says which).
    error TransformerParameterOutOfRange(string name, int256 value);

    /// @notice Softmax element `index` of an int8 score row: an int8 probability code in 0..127 (scale 1/127).
    /// @param multiplier,shift `M * 2**-s ~= scale_in * log2(e) * 2**16`, M in [1, 2**31), s in [1, 62].
    function softmax(bytes memory row, uint256 multiplier, uint256 shift, uint256 index)
        internal
        pure
        returns (int256)
    {
        uint256 n = _checkRow(row, index);
        _checkRescale(multiplier, shift);
        uint256 top;
        unchecked {
            for (uint256 i = 0; i < n; ++i) {
                uint256 code = _code(row, i);
                if (code > top) top = code;
            }
            // Codes are values + 128, so top - code = max - x[i] in 0..255; every term below is non-negative.
            uint256 half = 1 << (shift - 1);
            uint256 total;
            for (uint256 i = 0; i < n; ++i) {
                total += exp2Neg(((top - _code(row, i)) * multiplier + half) >> shift);
            }
            uint256 mine = exp2Neg(((top - _code(row, index)) * multiplier + half) >> shift);
            return int256((2 * PROB_ONE * mine + total) / (2 * total));
        }
    }

    /// @notice `2**30 * 2**(-u / 2**16)`: the quadratic `1 - f (a - b f)` on the fraction, shifted by the integer part.
    function exp2Neg(uint256 u) internal pure returns (uint256) {
        unchecked {
            uint256 z = u >> EXP_FRAC;
            if (z >= 31) return 0; // the quadratic is at most 2**30
            uint256 r = u & ((1 << EXP_FRAC) - 1);
            uint256 p = EXP_ONE - ((r * (EXP_A - ((EXP_B * r) >> EXP_FRAC))) >> EXP_FRAC);
            return p >> z;
        }
    }

    /// @notice One LayerNorm channel's integer parameters.
    /// @param gamma int8 scale of the channel; `beta` its int32 offset (units gamma_scale * 2**-10).
    /// @param epsilon E >= 1 in units of n**2 * var (codes squared): a constant row divides by sqrt(E), never 0.
    struct LayerNormChannel {
        int256 gamma;
        int256 beta;
        uint256 multiplier;
        uint256 shift;
        uint256 epsilon;
        int256 lo;
        int256 hi;
    }

    /// @notice LayerNorm element `index` of an int8 row, with that channel's parameters `p`.
    function layerNorm(bytes memory row, LayerNormChannel memory p, uint256 index) internal pure returns (int256) {
        uint256 n = _checkRow(row, index);
        if (p.gamma < type(int8).min || p.gamma > type(int8).max) revert TransformerParameterOutOfRange("gamma", p.gamma);
        if (p.beta < type(int32).min || p.beta > type(int32).max) revert TransformerParameterOutOfRange("beta", p.beta);
        if (p.epsilon == 0 || p.epsilon > uint256(uint32(type(int32).max))) {
            revert TransformerParameterOutOfRange("epsilon", int256(p.epsilon));
        }
        _checkRescale(p.multiplier, p.shift);
        _checkRange(p.lo, p.hi);
        (int256 total, int256 squares) = _moments(row);
        // n**2 * var + E, exact: sum((n x - t)**2) = n (n q - t**2).
        int256 variance = int256(n) * squares - total * total + int256(p.epsilon);
        uint256 sd = isqrt(uint256(variance) << (2 * LN_FRAC));
        int256 centered = int256(n) * (int256(_code(row, index)) - 128) - total;
        int256 h = GraphKernels.halfUpDiv(centered * int256(1 << (2 * LN_FRAC)), sd);
        return GraphKernels.requantize(p.gamma * h + p.beta, p.multiplier, p.shift, p.lo, p.hi);
    }

    /// @dev Sum and sum of squares of an int8 row (|.| <= 2**20 and 2**26 for 4096 values).
    function _moments(bytes memory row) private pure returns (int256 total, int256 squares) {
        unchecked {
            for (uint256 i = 0; i < row.length; ++i) {
                int256 v = int256(_code(row, i)) - 128;
                total += v;
                squares += v * v;
            }
        }
    }

    /// @notice `floor(sqrt(a))`: Newton's iteration from a power of two at or above the root.
    /// @dev From any start x >= isqrt(a) the iterates decrease strictly until they reach isqrt(a)
    /// (AM-GM: each is >= isqrt(a)), so the first non-decreasing step returns the floor root.
    function isqrt(uint256 a) internal pure returns (uint256 x) {
        if (a < 2) return a;
        unchecked {
            uint256 bits;
            uint256 rest = a;
            for (uint256 step = 128; step > 0; step >>= 1) {
                if (rest >> step != 0) {
                    rest >>= step;
                    bits += step;
                }
            }
            x = 1 << ((bits >> 1) + 1); // a < 2**(bits + 1), so sqrt(a) < 2**(bits / 2 + 1)
            while (true) {
                uint256 y = (x + a / x) >> 1;
                if (y >= x) return x;
                x = y;
            }
        }
    }

    /// @notice GELU element `index` of an int8 row: `table[x + 128]`, the layer's committed 256-byte table.
    function gelu(bytes memory row, bytes memory table, uint256 index) internal pure returns (int256) {
        _checkRow(row, index);
        if (table.length != GELU_TABLE_SIZE) revert TransformerLengthMismatch(GELU_TABLE_SIZE, table.length);
        return int256(_code(table, _code(row, index))) - 128; // entry x + 128, an int8 byte
    }

    /// @notice MatMul element: `clamp((sum_k aRow[k] * bColumn[k] * M + 2**(s-1)) >> s, lo, hi)`.
    /// @param aRow Row i of the left operand; `bColumn` column j of the right one (same length, <= 4096).
    function matmul(
        bytes memory aRow,
        bytes memory bColumn,
        uint256 multiplier,
        uint256 shift,
        int256 lo,
        int256 hi
    ) internal pure returns (int256) {
        _checkRow(aRow, 0);
        if (bColumn.length != aRow.length) revert TransformerLengthMismatch(aRow.length, bColumn.length);
        _checkRescale(multiplier, shift);
        _checkRange(lo, hi);
        return GraphKernels.requantize(_dot(aRow, bColumn), multiplier, shift, lo, hi);
    }

    /// @dev Sum of products of two int8 vectors of equal length (|.| <= 2**26 for 4096 values).
    function _dot(bytes memory a, bytes memory b) private pure returns (int256 total) {
        unchecked {
            for (uint256 i = 0; i < a.length; ++i) {
                total += (int256(_code(a, i)) - 128) * (int256(_code(b, i)) - 128);
            }
        }
    }

    /// @dev Value `i` of an int8 row plus 128 (0..255), unchecked: callers keep `i` inside the row.
    function _code(bytes memory row, uint256 i) private pure returns (uint256 code) {
        assembly ("memory-safe") {
            code := xor(byte(0, mload(add(add(row, 0x20), i))), 0x80)
        }
    }

    function _checkRow(bytes memory row, uint256 index) private pure returns (uint256 n) {
        n = row.length;
        if (n == 0 || n > MAX_WIDTH) revert TransformerWidthOutOfRange(n);
        if (index >= n) revert TransformerIndexOutOfRange(index, n);
    }

    function _checkRescale(uint256 multiplier, uint256 shift) private pure {
        if (multiplier == 0 || multiplier > FixedPointNeuron.MULTIPLIER_MAX) {
            revert TransformerParameterOutOfRange("multiplier", int256(multiplier));
        }
        if (shift < FixedPointNeuron.SHIFT_MIN || shift > FixedPointNeuron.SHIFT_MAX) {
            revert TransformerParameterOutOfRange("shift", int256(shift));
        }
    }

    function _checkRange(int256 lo, int256 hi) private pure {
        if (lo < type(int8).min || lo > hi) revert TransformerParameterOutOfRange("lo", lo);
        if (hi > type(int8).max) revert TransformerParameterOutOfRange("hi", hi);
    }
}
