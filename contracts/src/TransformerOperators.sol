// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IGraphOperators} from "./IGraphOperators.sol";
import {ITransformerOperators} from "./ITransformerOperators.sol";
import {GraphEncoding} from "./GraphEncoding.sol";
import {GraphKernels} from "./GraphKernels.sol";
import {TensorOpenings} from "./TensorOpenings.sol";
import {TransformerKernels} from "./TransformerKernels.sol";

/// @title TransformerOperators
/// @notice One-element re-execution of a transformer's operators (see ITransformerOperators).
/// @dev Stateless and pure; the same order of checks as GraphOperators: prove the node leaf, each
/// tensor leaf and tile, then recompute the one element and compare. Rows run along a tensor's W
/// axis (docs/encoding.md, "Transformer nodes"): the row of cell (c, h, w) is (c, h, 0..W-1).
contract TransformerOperators is ITransformerOperators {
    /// @inheritdoc ITransformerOperators
    function check(IGraphOperators.TraceContext calldata context, IGraphOperators.GraphEvidence calldata evidence)
        external
        pure
        returns (bool wrong, uint256 node)
    {
        (bool ok, GraphEncoding.Node memory n) = GraphEncoding.readNode(evidence.nodeLeaf);
        if (!ok || n.node == 0 || n.node > context.nodes || evidence.target != IGraphOperators.Target.Operator) {
            revert IGraphOperators.GraphInvalidEvidence("node");
        }
        if (n.kind < GraphEncoding.OP_TOKEN_DENSE || n.kind > GraphEncoding.OP_CONST) {
            revert IGraphOperators.GraphInvalidEvidence("kind");
        }
        TensorOpenings.proveModelLeaf(context, evidence.nodeLeaf, n.leafIndex, evidence.nodeProof, "node");
        _checkShapes(n);
        return (_wrong(context, evidence, n), n.node);
    }

    function _wrong(IGraphOperators.TraceContext calldata ctx, IGraphOperators.GraphEvidence calldata e, GraphEncoding.Node memory n)
        private
        pure
        returns (bool)
    {
        if (e.element >= n.output.c * n.output.h * n.output.w) revert IGraphOperators.GraphInvalidEvidence("element");
        uint256 arity = n.kind == GraphEncoding.OP_CONST ? 0 : (n.kind == GraphEncoding.OP_MATMUL ? 2 : 1);
        if (e.inputs.length != arity || n.inputA >= n.node || n.inputB >= n.node) {
            revert IGraphOperators.GraphInvalidEvidence("inputs");
        }
        GraphKernels.Opened memory a;
        GraphKernels.Opened memory b;
        bool bad;
        if (arity > 0) (bad, a) = TensorOpenings.open(ctx, n.inputA, n.input, e.inputs[0]);
        if (bad) return true;
        if (arity > 1) (bad, b) = TensorOpenings.open(ctx, n.inputB, _rightOperand(n), e.inputs[1]);
        if (bad) return true;
        GraphKernels.Opened memory out;
        (bad, out) = TensorOpenings.open(ctx, n.node, n.output, e.output);
        if (bad || TensorOpenings.dirtyPadding(out)) return true;
        (uint256 c, uint256 h, uint256 w) = TensorOpenings.split(n.output, e.element);
        return _compute(ctx, e, n, a, b, c, h, w) != GraphKernels.cell(out, c, h, w);
    }

    function _compute(
        IGraphOperators.TraceContext calldata ctx,
        IGraphOperators.GraphEvidence calldata e,
        GraphEncoding.Node memory n,
        GraphKernels.Opened memory a,
        GraphKernels.Opened memory b,
        uint256 c,
        uint256 h,
        uint256 w
    ) private pure returns (int256) {
        uint256 kind = n.kind;
        if (kind == GraphEncoding.OP_TOKEN_DENSE) return _tokenDense(ctx, e, n, _row(a, c, h), w);
        if (kind == GraphEncoding.OP_MATMUL) {
            return TransformerKernels.matmul(_row(a, c, h), _column(b, c, w), n.multiplierA, n.shift, n.lo, n.hi);
        }
        if (kind == GraphEncoding.OP_SOFTMAX) return TransformerKernels.softmax(_row(a, c, h), n.multiplierA, n.shift, w);
        if (kind == GraphEncoding.OP_LAYERNORM) return _layerNorm(ctx, e, n, _row(a, c, h), w);
        if (kind == GraphEncoding.OP_GELU) {
            bytes memory one = new bytes(1);
            one[0] = bytes1(uint8(int8(GraphKernels.cell(a, c, h, w))));
            return TransformerKernels.gelu(one, _channelValues(ctx, e, n, 0, TransformerKernels.GELU_TABLE_SIZE), 0);
        }
        if (kind == GraphEncoding.OP_TRANSPOSE) {
            uint256[3] memory source;
            uint256[3] memory perm = [n.kh, n.kw, n.sh];
            source[perm[0]] = c;
            source[perm[1]] = h;
            source[perm[2]] = w;
            return GraphKernels.cell(a, source[0], source[1], source[2]);
        }
        if (kind == GraphEncoding.OP_TAKE) return GraphKernels.cell(a, 0, n.groups, c);
        if (kind == GraphEncoding.OP_PREPEND) {
            if (h > 0) return GraphKernels.cell(a, c, h - 1, w);
            return GraphKernels.int8At(_channelValues(ctx, e, n, 0, n.output.w), w);
        }
        // OP_CONST: channel k holds the values k * W .. k * W + W - 1 of the constant.
        uint256 width = n.output.w;
        return GraphKernels.int8At(_channelValues(ctx, e, n, e.element / width, width), e.element % width);
    }

    /// @dev Dense on the row's W values with output channel `w`'s leaf (the graph's Dense rule).
    function _tokenDense(
        IGraphOperators.TraceContext calldata ctx,
        IGraphOperators.GraphEvidence calldata e,
        GraphEncoding.Node memory n,
        bytes memory row,
        uint256 w
    ) private pure returns (int256) {
        GraphEncoding.Channel memory k = _provenChannel(ctx, e, n, w);
        bytes calldata weights = e.channelLeaf[GraphEncoding.CHANNEL_PREFIX_BYTES:];
        if (weights.length != row.length) revert IGraphOperators.GraphInvalidEvidence("channel");
        return GraphKernels.requantize(k.bias + _dot(row, weights), k.multiplier, k.shift, n.lo, n.hi);
    }

    /// @dev Sum of products of an int8 row in memory and int8 weights in calldata of the same length
    /// (checked by the caller); |sum| <= 4096 * 128 * 128 = 2**26, so int256 never wraps.
    function _dot(bytes memory row, bytes calldata weights) private pure returns (int256 total) {
        assembly ("memory-safe") {
            let a := add(row, 0x20)
            let b := weights.offset
            for { let i := 0 } lt(i, mload(row)) { i := add(i, 1) } {
                let x := signextend(0, byte(0, mload(add(a, i))))
                let y := signextend(0, byte(0, calldataload(add(b, i))))
                total := add(total, mul(x, y))
            }
        }
    }

    /// @dev LayerNorm element `w` of the row; channel `w`'s leaf holds beta (bias), M, s and gamma
    /// (one weight byte); the node leaf holds epsilon (multiplierA), lo and hi.
    function _layerNorm(
        IGraphOperators.TraceContext calldata ctx,
        IGraphOperators.GraphEvidence calldata e,
        GraphEncoding.Node memory n,
        bytes memory row,
        uint256 w
    ) private pure returns (int256) {
        GraphEncoding.Channel memory k = _provenChannel(ctx, e, n, w);
        bytes calldata gamma = e.channelLeaf[GraphEncoding.CHANNEL_PREFIX_BYTES:];
        if (gamma.length != 1) revert IGraphOperators.GraphInvalidEvidence("channel");
        TransformerKernels.LayerNormChannel memory p = TransformerKernels.LayerNormChannel({
            gamma: GraphKernels.int8At(gamma, 0),
            beta: k.bias,
            multiplier: k.multiplier,
            shift: k.shift,
            epsilon: n.multiplierA,
            lo: n.lo,
            hi: n.hi
        });
        return TransformerKernels.layerNorm(row, p, w);
    }

    /// @dev The `length` weight bytes of channel leaf `channel` (a table, a token, a row of a constant), proven.
    function _channelValues(
        IGraphOperators.TraceContext calldata ctx,
        IGraphOperators.GraphEvidence calldata e,
        GraphEncoding.Node memory n,
        uint256 channel,
        uint256 length
    ) private pure returns (bytes calldata values) {
        _provenChannel(ctx, e, n, channel);
        values = e.channelLeaf[GraphEncoding.CHANNEL_PREFIX_BYTES:];
        if (values.length != length) revert IGraphOperators.GraphInvalidEvidence("channel");
    }

    function _provenChannel(
        IGraphOperators.TraceContext calldata ctx,
        IGraphOperators.GraphEvidence calldata e,
        GraphEncoding.Node memory n,
        uint256 channel
    ) private pure returns (GraphEncoding.Channel memory k) {
        bool ok;
        (ok, k) = GraphEncoding.readChannel(e.channelLeaf);
        if (!ok || k.node != n.node || k.channel != channel || channel >= n.channels) {
            revert IGraphOperators.GraphInvalidEvidence("channel");
        }
        TensorOpenings.proveModelLeaf(ctx, e.channelLeaf, n.leafIndex + 1 + channel, e.channelProof, "channel");
    }

    // ------------------------------------------------------------------ rows, columns and shapes

    /// @dev Row (c, h, 0..W-1) of an opened tensor, copied to memory a tile at a time. The row's
    /// tiles have consecutive indices, and openings list tiles in increasing order, so after the
    /// first each is usually the next entry (else it is looked up).
    function _row(GraphKernels.Opened memory x, uint256 c, uint256 h) private pure returns (bytes memory row) {
        GraphEncoding.Shape memory s = x.shape;
        uint256 tw = s.tw;
        uint256 first = (h / s.th) * s.cols;
        uint256 inner = (h % s.th) * tw * s.c + c; // (c, h, w0) inside the tile of column block w0 / tw
        uint256 start = _position(x, first);
        row = new bytes(s.w);
        for (uint256 column = 0; column * tw < s.w; ++column) {
            uint256 src = _tileAt(x, start + column, first + column) + inner;
            uint256 w0 = column * tw;
            _copyStrided(row, w0, src, s.w - w0 < tw ? s.w - w0 : tw, s.c);
        }
    }

    /// @dev Calldata offset of tile `tile`, expected at entry `k` of the opening's list.
    function _tileAt(GraphKernels.Opened memory x, uint256 k, uint256 tile) private pure returns (uint256) {
        uint256 entry = k < x.tiles.length ? x.tiles[k] : 0;
        return entry >> 128 == tile ? entry & type(uint128).max : GraphKernels.find(x, tile);
    }

    /// @dev `count` calldata bytes `stride` apart from `src`, into `row` from position `w0`.
    function _copyStrided(bytes memory row, uint256 w0, uint256 src, uint256 count, uint256 stride) private pure {
        assembly ("memory-safe") {
            let dst := add(add(row, 0x20), w0)
            for { let k := 0 } lt(k, count) { k := add(k, 1) } {
                mstore8(add(dst, k), byte(0, calldataload(add(src, mul(k, stride)))))
            }
        }
    }

    /// @dev Where tile `tile` is in the opening's list; reverts GraphMissingTile if it is not there.
    function _position(GraphKernels.Opened memory x, uint256 tile) private pure returns (uint256) {
        uint256[] memory tiles = x.tiles;
        for (uint256 k = 0; k < tiles.length; ++k) {
            if (tiles[k] >> 128 == tile) return k;
        }
        revert IGraphOperators.GraphMissingTile(x.node, tile);
    }

    /// @dev Column (c, 0..H-1, w) of an opened tensor (the right operand of a MatMul).
    function _column(GraphKernels.Opened memory x, uint256 c, uint256 w) private pure returns (bytes memory column) {
        uint256 height = x.shape.h;
        column = new bytes(height);
        for (uint256 h = 0; h < height; ++h) {
            column[h] = bytes1(uint8(int8(GraphKernels.cell(x, c, h, w))));
        }
    }

    /// @dev A MatMul's right operand (C, K, N) from the node's shapes: A is (C, M, K), the output (C, M, N).
    function _rightOperand(GraphEncoding.Node memory n) private pure returns (GraphEncoding.Shape memory) {
        return GraphEncoding.shape(n.input.c, n.input.w, n.output.w);
    }

    /// @dev Reverts when the node leaf's shapes do not fit its kind: no trace of such a model is
    /// right or wrong, so no fraud proof against it can succeed (nobody is slashed for it).
    function _checkShapes(GraphEncoding.Node memory n) private pure {
        GraphEncoding.Shape memory i = n.input;
        GraphEncoding.Shape memory o = n.output;
        uint256 kind = n.kind;
        bool fits;
        if (kind == GraphEncoding.OP_TOKEN_DENSE) fits = o.c == i.c && o.h == i.h && o.w == n.channels;
        else if (kind == GraphEncoding.OP_MATMUL) fits = o.c == i.c && o.h == i.h;
        else if (kind == GraphEncoding.OP_SOFTMAX || kind == GraphEncoding.OP_GELU) fits = _same(i, o);
        else if (kind == GraphEncoding.OP_LAYERNORM) fits = _same(i, o) && n.channels == i.w;
        else if (kind == GraphEncoding.OP_TRANSPOSE) fits = _permutes(n, i, o);
        else if (kind == GraphEncoding.OP_TAKE) fits = i.c == 1 && n.groups < i.h && o.c == i.w && o.h == 1 && o.w == 1;
        else if (kind == GraphEncoding.OP_PREPEND) fits = i.c == o.c && o.h == i.h + 1 && o.w == i.w;
        else fits = n.channels * o.w == o.c * o.h * o.w; // OP_CONST: one channel leaf per row
        if (kind == GraphEncoding.OP_GELU || kind == GraphEncoding.OP_PREPEND) fits = fits && n.channels == 1;
        if (!fits) revert IGraphOperators.GraphInvalidEvidence("shape");
    }

    function _same(GraphEncoding.Shape memory a, GraphEncoding.Shape memory b) private pure returns (bool) {
        return a.c == b.c && a.h == b.h && a.w == b.w;
    }

    /// @dev Output axis k is input axis perm[k] (perm = kh, kw, sh), a permutation of (0, 1, 2).
    function _permutes(GraphEncoding.Node memory n, GraphEncoding.Shape memory i, GraphEncoding.Shape memory o)
        private
        pure
        returns (bool)
    {
        uint256[3] memory perm = [n.kh, n.kw, n.sh];
        uint256[3] memory dims = [i.c, i.h, i.w];
        if (perm[0] > 2 || perm[1] > 2 || perm[2] > 2) return false;
        if (perm[0] == perm[1] || perm[0] == perm[2] || perm[1] == perm[2]) return false;
        return o.c == dims[perm[0]] && o.h == dims[perm[1]] && o.w == dims[perm[2]];
    }
}
