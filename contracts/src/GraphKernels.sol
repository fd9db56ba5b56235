// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IGraphOperators} from "./IGraphOperators.sol";
import {GraphEncoding} from "./GraphEncoding.sol";
import {FixedPointNeuron} from "./FixedPointNeuron.sol";

/// @title GraphKernels
/// @notice One output element of each graph operator, bit for bit as the numpy kernels of
/// `vcp_toolkit.model.graph` (docs/arithmetic.md, "Operator graph"), reading opened tiles.
/// @dev Bounds (enforced when a model is built, restated here): a conv or dense fan-in is at most
/// 4096, so |acc| < 2**31.05 and |acc * M| + 2**61 < 2**63; an add's |a*Ma + b*Mb| <= 2**39; a
/// pool's sum is at most 128 * cells. int256 never wraps, so the results equal Python's integers.
library GraphKernels {
    /// @notice Value `index` of an int8 vector in calldata.
    function int8At(bytes calldata values, uint256 index) internal pure returns (int256) {
        return FixedPointNeuron.readInt8(values, index);
    }

    /// @notice Cell (c, h, w) of an opened tensor of shape `s`; reverts if its tile is not opened.
    function cell(
        IGraphOperators.TensorOpening calldata t,
        GraphEncoding.Shape memory s,
        uint256 node,
        uint256 c,
        uint256 h,
        uint256 w
    ) internal pure returns (int256) {
        (uint256 tile, uint256 offset) = GraphEncoding.locate(s, c, h, w);
        return FixedPointNeuron.readInt8(tileValues(t, node, tile), offset);
    }

    /// @notice The bytes of tile `tile` in the opening.
    function tileValues(IGraphOperators.TensorOpening calldata t, uint256 node, uint256 tile)
        internal
        pure
        returns (bytes calldata)
    {
        for (uint256 k = 0; k < t.tiles.length; ++k) {
            if (t.tiles[k].index == tile) return t.tiles[k].values;
        }
        revert IGraphOperators.GraphMissingTile(node, tile);
    }

    /// @notice `clamp((acc * M + 2**(s-1)) >> s, lo, hi)`, `>>` arithmetic (round half up).
    function requantize(int256 acc, uint256 multiplier, uint256 shift, int256 lo, int256 hi)
        internal
        pure
        returns (int256)
    {
        if (multiplier == 0 || multiplier > FixedPointNeuron.MULTIPLIER_MAX) {
            revert IGraphOperators.GraphInvalidEvidence("multiplier");
        }
        if (shift < FixedPointNeuron.SHIFT_MIN || shift > FixedPointNeuron.SHIFT_MAX) {
            revert IGraphOperators.GraphInvalidEvidence("shift");
        }
        int256 y = (acc * int256(multiplier) + int256(uint256(1) << (shift - 1))) >> shift;
        return clamp(y, lo, hi);
    }

    function clamp(int256 x, int256 lo, int256 hi) internal pure returns (int256) {
        return x < lo ? lo : (x > hi ? hi : x);
    }

    /// @notice `floor((2*total + n) / (2*n))`: total / n rounded half up, floor division.
    function halfUpDiv(int256 total, uint256 n) internal pure returns (int256 q) {
        int256 den = int256(2 * n);
        int256 num = 2 * total + int256(n);
        q = num / den;
        if (num % den != 0 && num < 0) q -= 1; // Solidity truncates towards zero
    }

    /// @notice Dense: `sum_i w[i] * x[i]` over the (F, 1, 1) input's only tile.
    function denseSum(IGraphOperators.TensorOpening calldata x, GraphEncoding.Node memory n, bytes calldata weights)
        internal
        pure
        returns (int256)
    {
        if (n.input.h != 1 || n.input.w != 1 || weights.length != n.input.c || weights.length > 4096) {
            revert IGraphOperators.GraphInvalidEvidence("weights");
        }
        return FixedPointNeuron.dot(weights, tileValues(x, n.inputA, 0));
    }

    /// @notice Conv2D without its bias: the window of output (i, j), padding read as 0.
    function convSum(
        IGraphOperators.TensorOpening calldata x,
        GraphEncoding.Node memory n,
        bytes calldata weights,
        uint256 c,
        uint256 i,
        uint256 j
    ) internal pure returns (int256) {
        uint256 channels = n.input.c;
        if (n.groups == 1) {
            if (weights.length != n.kh * n.kw * channels || weights.length > 4096) {
                revert IGraphOperators.GraphInvalidEvidence("weights");
            }
            return _convDense(x, n, weights, i, j);
        }
        if (n.groups != channels || n.output.c % channels != 0 || weights.length != n.kh * n.kw) {
            revert IGraphOperators.GraphInvalidEvidence("groups");
        }
        return _convDepthwise(x, n, weights, c / (n.output.c / channels), i, j);
    }

    /// @dev One filter row's reach: input row `r`, padded column `left` of filter column 0, and
    /// the filter columns [vStart, vEnd) that land inside the input.
    struct Span {
        uint256 r;
        uint256 u;
        uint256 left;
        uint256 vStart;
        uint256 vEnd;
        uint256 channel; // depthwise: the one input channel the filter reads
    }

    /// @dev groups = 1: per window row, the run of pixels inside one tile is contiguous in both the
    /// tile ((h, w, c) order) and the filter ((KH, KW, C) order), so it is one SWAR dot product.
    function _convDense(
        IGraphOperators.TensorOpening calldata x,
        GraphEncoding.Node memory n,
        bytes calldata weights,
        uint256 i,
        uint256 j
    ) private pure returns (int256 acc) {
        GraphEncoding.Shape memory s = n.input;
        Span memory span;
        span.left = j * n.sw;
        if (span.left >= s.w + n.padLeft) return 0;
        span.vStart = span.left < n.padLeft ? n.padLeft - span.left : 0;
        span.vEnd = span.left + n.kw > s.w + n.padLeft ? s.w + n.padLeft - span.left : n.kw;
        for (uint256 u = 0; u < n.kh; ++u) {
            uint256 row = i * n.sh + u;
            if (row < n.padTop || row - n.padTop >= s.h) continue;
            span.r = row - n.padTop;
            span.u = u;
            acc += _convRow(x, n, weights, span);
        }
    }

    function _convRow(
        IGraphOperators.TensorOpening calldata x,
        GraphEncoding.Node memory n,
        bytes calldata weights,
        Span memory span
    ) private pure returns (int256 acc) {
        GraphEncoding.Shape memory s = n.input;
        uint256 v = span.vStart;
        while (v < span.vEnd) {
            uint256 q = span.left + v - n.padLeft;
            uint256 end = v + s.tw - q % s.tw; // first filter column past this tile
            if (end > span.vEnd) end = span.vEnd;
            bytes calldata values = tileValues(x, n.inputA, (span.r / s.th) * s.cols + q / s.tw);
            uint256 offset = ((span.r % s.th) * s.tw + q % s.tw) * s.c;
            uint256 len = (end - v) * s.c;
            uint256 wOffset = (span.u * n.kw + v) * s.c;
            acc += FixedPointNeuron.dot(weights[wOffset:wOffset + len], values[offset:offset + len]);
            v = end;
        }
    }

    /// @dev Depthwise: output channel c reads input channel g alone, one value per filter tap.
    function _convDepthwise(
        IGraphOperators.TensorOpening calldata x,
        GraphEncoding.Node memory n,
        bytes calldata weights,
        uint256 g,
        uint256 i,
        uint256 j
    ) private pure returns (int256 acc) {
        Span memory span;
        span.left = j * n.sw;
        span.channel = g;
        for (uint256 u = 0; u < n.kh; ++u) {
            uint256 row = i * n.sh + u;
            if (row < n.padTop || row - n.padTop >= n.input.h) continue;
            span.r = row - n.padTop;
            span.u = u;
            acc += _depthwiseRow(x, n, weights, span);
        }
    }

    function _depthwiseRow(
        IGraphOperators.TensorOpening calldata x,
        GraphEncoding.Node memory n,
        bytes calldata weights,
        Span memory span
    ) private pure returns (int256 acc) {
        for (uint256 v = 0; v < n.kw; ++v) {
            uint256 col = span.left + v;
            if (col < n.padLeft || col - n.padLeft >= n.input.w) continue;
            int256 value = cell(x, n.input, n.inputA, span.channel, span.r, col - n.padLeft);
            acc += int256(int8(uint8(weights[span.u * n.kw + v]))) * value;
        }
    }

    /// @notice MaxPool (padding reads -128) or AveragePool (padding adds 0; n = the kernel area
    /// when countIncludePad, else the window's real cells) at output (c, i, j).
    function pool(IGraphOperators.TensorOpening calldata x, GraphEncoding.Node memory n, uint256 c, uint256 i, uint256 j)
        internal
        pure
        returns (int256)
    {
        Window memory acc = Window({best: type(int8).min, total: 0, count: 0});
        for (uint256 u = 0; u < n.kh; ++u) {
            uint256 row = i * n.sh + u;
            if (row < n.padTop || row - n.padTop >= n.input.h) continue;
            _poolRow(x, n, c, row - n.padTop, j, acc);
        }
        if (n.kind == GraphEncoding.OP_MAXPOOL) return acc.best;
        uint256 divisor = n.countIncludePad ? n.kh * n.kw : acc.count;
        if (divisor == 0) revert IGraphOperators.GraphInvalidEvidence("window");
        return halfUpDiv(acc.total, divisor);
    }

    /// @dev Running max, sum and count of a pool window.
    struct Window {
        int256 best;
        int256 total;
        uint256 count;
    }

    function _poolRow(
        IGraphOperators.TensorOpening calldata x,
        GraphEncoding.Node memory n,
        uint256 c,
        uint256 r,
        uint256 j,
        Window memory acc
    ) private pure {
        for (uint256 v = 0; v < n.kw; ++v) {
            uint256 col = j * n.sw + v;
            if (col < n.padLeft || col - n.padLeft >= n.input.w) continue;
            int256 value = cell(x, n.input, n.inputA, c, r, col - n.padLeft);
            if (value > acc.best) acc.best = value;
            acc.total += value;
            ++acc.count;
        }
    }

    /// @notice GlobalAveragePool of channel c: the average rule over the whole H x W.
    function globalAverage(IGraphOperators.TensorOpening calldata x, GraphEncoding.Node memory n, uint256 c)
        internal
        pure
        returns (int256)
    {
        int256 total = 0;
        for (uint256 h = 0; h < n.input.h; ++h) {
            for (uint256 w = 0; w < n.input.w; ++w) {
                total += cell(x, n.input, n.inputA, c, h, w);
            }
        }
        return halfUpDiv(total, n.input.h * n.input.w);
    }

    /// @notice Add: `clamp((a * Ma + b * Mb + 2**(s-1)) >> s, lo, hi)`.
    function add(
        IGraphOperators.TensorOpening calldata a,
        IGraphOperators.TensorOpening calldata b,
        GraphEncoding.Node memory n,
        uint256 c,
        uint256 i,
        uint256 j
    ) internal pure returns (int256) {
        uint256 maxM = FixedPointNeuron.MULTIPLIER_MAX;
        if (n.multiplierA == 0 || n.multiplierA > maxM || n.multiplierB == 0 || n.multiplierB > maxM) {
            revert IGraphOperators.GraphInvalidEvidence("multiplier");
        }
        int256 acc = cell(a, n.input, n.inputA, c, i, j) * int256(n.multiplierA)
            + cell(b, n.input, n.inputB, c, i, j) * int256(n.multiplierB);
        return requantize(acc, 1, n.shift, n.lo, n.hi);
    }
}
