// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IGraphOperators} from "./IGraphOperators.sol";
import {GraphEncoding} from "./GraphEncoding.sol";
import {FixedPointNeuron} from "./FixedPointNeuron.sol";

/// @title GraphKernels
/// @notice One output element of each graph operator, bit for bit as the numpy kernels of
/// `vcp_toolkit.model.graph` (docs/arithmetic.md, "Operator graph"), reading proven tiles.
/// @dev Bounds (enforced when a model is built, restated here): a conv or dense fan-in is at most
/// 4096, so |acc| < 2**31.05 and |acc * M| + 2**61 < 2**63; an add's |a*Ma + b*Mb| <= 2**39; a
/// pool's sum is at most 128 * cells. int256 never wraps, so the results equal Python's integers.
/// Index arithmetic is unchecked: every factor is a uint32 field or smaller, so no product of
/// four of them reaches 2**256. Tiles are read straight from calldata at offsets recorded when
/// they were proven (`Opened`), each of exactly the tensor's tile size.
library GraphKernels {
    /// @notice A proven tensor: its shape, its trace index, and per opened tile
    /// `tileIndex << 128 | calldataOffsetOfItsValues`.
    struct Opened {
        GraphEncoding.Shape shape;
        uint256 node;
        uint256[] tiles;
    }

    /// @dev One filter row's reach: input row `r`, padded column `left` of filter column 0, the
    /// filter columns [vStart, vEnd) that land inside the input, and (depthwise) the input channel.
    struct Span {
        uint256 r;
        uint256 u;
        uint256 left;
        uint256 vStart;
        uint256 vEnd;
        uint256 channel;
    }

    /// @dev Running max, sum and count of a pool window.
    struct Window {
        int256 best;
        int256 total;
        uint256 count;
    }

    /// @notice Value `index` of an int8 vector in calldata.
    function int8At(bytes calldata values, uint256 index) internal pure returns (int256) {
        return FixedPointNeuron.readInt8(values, index);
    }

    /// @notice Calldata offset of tile `tile`'s values; reverts if that tile was not opened.
    function find(Opened memory x, uint256 tile) internal pure returns (uint256 offset) {
        uint256[] memory tiles = x.tiles;
        // Every tile opened: TensorOpenings proved them in order, so tile k is entry k.
        if (tiles.length == x.shape.tiles && tile < tiles.length) return tiles[tile] & type(uint128).max;
        unchecked {
            for (uint256 k = 0; k < tiles.length; ++k) {
                uint256 entry = tiles[k];
                if (entry >> 128 == tile) return entry & type(uint128).max;
            }
        }
        revert IGraphOperators.GraphMissingTile(x.node, tile);
    }

    /// @notice Cell (c, h, w) of an opened tensor.
    function cell(Opened memory x, uint256 c, uint256 h, uint256 w) internal pure returns (int256 value) {
        (uint256 tile, uint256 offset) = GraphEncoding.locate(x.shape, c, h, w);
        uint256 pos = find(x, tile) + offset;
        assembly ("memory-safe") {
            value := signextend(0, byte(0, calldataload(pos)))
        }
    }

    /// @dev `len` calldata bytes at `offset` as a slice (within a proven tile).
    function _slice(uint256 offset, uint256 len) private pure returns (bytes calldata values) {
        assembly ("memory-safe") {
            values.offset := offset
            values.length := len
        }
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
    function denseSum(Opened memory x, GraphEncoding.Node memory n, bytes calldata weights)
        internal
        pure
        returns (int256)
    {
        if (n.input.h != 1 || n.input.w != 1 || weights.length != n.input.c || weights.length > 4096) {
            revert IGraphOperators.GraphInvalidEvidence("weights");
        }
        return FixedPointNeuron.dot(weights, _slice(find(x, 0), weights.length));
    }

    /// @notice Conv2D without its bias: the window of output (i, j), padding read as 0.
    function convSum(
        Opened memory x,
        GraphEncoding.Node memory n,
        bytes calldata weights,
        uint256 c,
        uint256 i,
        uint256 j
    ) internal pure returns (int256) {
        bool depthwise = n.groups != 1;
        Span memory span = _span(n, j, depthwise ? _depthwiseChannel(n, weights.length, c) : 0);
        if (!depthwise && (weights.length != n.kh * n.kw * n.input.c || weights.length > 4096)) {
            revert IGraphOperators.GraphInvalidEvidence("weights");
        }
        return _convRows(x, n, weights, span, i, depthwise);
    }

    /// @dev The input channel a depthwise filter reads (groups = C, O a multiple of C).
    function _depthwiseChannel(GraphEncoding.Node memory n, uint256 weights, uint256 c) private pure returns (uint256) {
        uint256 channels = n.input.c;
        if (n.groups != channels || n.output.c % channels != 0 || weights != n.kh * n.kw) {
            revert IGraphOperators.GraphInvalidEvidence("groups");
        }
        return c / (n.output.c / channels);
    }

    function _span(GraphEncoding.Node memory n, uint256 j, uint256 channel) private pure returns (Span memory span) {
        uint256 width = n.input.w + n.padLeft;
        span.left = j * n.sw;
        span.channel = channel;
        if (span.left >= width) return span; // vStart == vEnd == 0: nothing to read
        span.vStart = span.left < n.padLeft ? n.padLeft - span.left : 0;
        span.vEnd = span.left + n.kw > width ? width - span.left : n.kw;
    }

    function _convRows(
        Opened memory x,
        GraphEncoding.Node memory n,
        bytes calldata weights,
        Span memory span,
        uint256 i,
        bool depthwise
    ) private pure returns (int256 acc) {
        unchecked {
            for (uint256 u = 0; u < n.kh; ++u) {
                uint256 row = i * n.sh + u;
                if (row < n.padTop || row - n.padTop >= n.input.h) continue;
                span.r = row - n.padTop;
                span.u = u;
                acc += depthwise ? _depthwiseRow(x, n, weights, span) : _convRow(x, n, weights, span);
            }
        }
    }

    /// @dev groups = 1: the run of a filter row inside one tile is contiguous in both the tile
    /// ((h, w, c) order) and the filter ((KH, KW, C) order), so it is one SWAR dot product.
    function _convRow(Opened memory x, GraphEncoding.Node memory n, bytes calldata weights, Span memory span)
        private
        pure
        returns (int256 acc)
    {
        GraphEncoding.Shape memory s = x.shape;
        unchecked {
            uint256 v = span.vStart;
            while (v < span.vEnd) {
                uint256 q = span.left + v - n.padLeft;
                uint256 end = v + s.tw - q % s.tw; // first filter column past this tile
                if (end > span.vEnd) end = span.vEnd;
                uint256 base = find(x, (span.r / s.th) * s.cols + q / s.tw);
                uint256 offset = ((span.r % s.th) * s.tw + q % s.tw) * s.c;
                uint256 len = (end - v) * s.c;
                uint256 wOffset = (span.u * n.kw + v) * s.c;
                acc += FixedPointNeuron.dot(weights[wOffset:wOffset + len], _slice(base + offset, len));
                v = end;
            }
        }
    }

    /// @dev Depthwise: output channel c reads input channel `span.channel` alone, one value per tap.
    function _depthwiseRow(Opened memory x, GraphEncoding.Node memory n, bytes calldata weights, Span memory span)
        private
        pure
        returns (int256 acc)
    {
        unchecked {
            for (uint256 v = span.vStart; v < span.vEnd; ++v) {
                int256 value = cell(x, span.channel, span.r, span.left + v - n.padLeft);
                acc += int256(int8(uint8(weights[span.u * n.kw + v]))) * value;
            }
        }
    }

    /// @notice MaxPool (padding reads -128) or AveragePool (padding adds 0; n = the kernel area
    /// when countIncludePad, else the window's real cells) at output (c, i, j).
    function pool(Opened memory x, GraphEncoding.Node memory n, uint256 c, uint256 i, uint256 j)
        internal
        pure
        returns (int256)
    {
        Window memory acc = Window({best: type(int8).min, total: 0, count: 0});
        Span memory span = _span(n, j, c);
        unchecked {
            for (uint256 u = 0; u < n.kh; ++u) {
                uint256 row = i * n.sh + u;
                if (row < n.padTop || row - n.padTop >= n.input.h) continue;
                span.r = row - n.padTop;
                _poolRow(x, n, span, acc);
            }
        }
        if (n.kind == GraphEncoding.OP_MAXPOOL) return acc.best;
        uint256 divisor = n.countIncludePad ? n.kh * n.kw : acc.count;
        if (divisor == 0) revert IGraphOperators.GraphInvalidEvidence("window");
        return halfUpDiv(acc.total, divisor);
    }

    function _poolRow(Opened memory x, GraphEncoding.Node memory n, Span memory span, Window memory acc) private pure {
        unchecked {
            for (uint256 v = span.vStart; v < span.vEnd; ++v) {
                int256 value = cell(x, span.channel, span.r, span.left + v - n.padLeft);
                if (value > acc.best) acc.best = value;
                acc.total += value;
                ++acc.count;
            }
        }
    }

    /// @notice GlobalAveragePool of channel c: the average rule over the whole H x W, summed tile
    /// by tile (cells past the tensor's edge are skipped, whatever a tile holds there). Every tile
    /// is read, so the opening must list tile k at position k (else GraphMissingTile).
    function globalAverage(Opened memory x, uint256 c) internal pure returns (int256) {
        GraphEncoding.Shape memory s = x.shape;
        uint256[] memory tiles = x.tiles;
        int256 total = 0;
        unchecked {
            for (uint256 t = 0; t < s.tiles; ++t) {
                if (t >= tiles.length || tiles[t] >> 128 != t) revert IGraphOperators.GraphMissingTile(x.node, t);
                uint256 top = (t / s.cols) * s.th;
                uint256 left = (t % s.cols) * s.tw;
                uint256 rows = s.h - top < s.th ? s.h - top : s.th;
                uint256 cols = s.w - left < s.tw ? s.w - left : s.tw;
                total += _tileChannelSum((tiles[t] & type(uint128).max) + c, rows, cols, s.tw, s.c);
            }
        }
        return halfUpDiv(total, s.h * s.w);
    }

    /// @dev Sum of one channel over the first `rows` x `cols` cells of a tile ((h, w, c) order).
    function _tileChannelSum(uint256 start, uint256 rows, uint256 cols, uint256 tw, uint256 channels)
        private
        pure
        returns (int256 total)
    {
        assembly ("memory-safe") {
            for { let h := 0 } lt(h, rows) { h := add(h, 1) } {
                let p := add(start, mul(mul(h, tw), channels))
                for { let w := 0 } lt(w, cols) { w := add(w, 1) } {
                    total := add(total, signextend(0, byte(0, calldataload(add(p, mul(w, channels))))))
                }
            }
        }
    }

    /// @notice Add: `clamp((a * Ma + b * Mb + 2**(s-1)) >> s, lo, hi)`.
    function add(Opened memory a, Opened memory b, GraphEncoding.Node memory n, uint256 c, uint256 i, uint256 j)
        internal
        pure
        returns (int256)
    {
        uint256 maxM = FixedPointNeuron.MULTIPLIER_MAX;
        if (n.multiplierA == 0 || n.multiplierA > maxM || n.multiplierB == 0 || n.multiplierB > maxM) {
            revert IGraphOperators.GraphInvalidEvidence("multiplier");
        }
        int256 acc = cell(a, c, i, j) * int256(n.multiplierA) + cell(b, c, i, j) * int256(n.multiplierB);
        return requantize(acc, 1, n.shift, n.lo, n.hi);
    }
}
