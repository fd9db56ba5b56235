// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IGraphOperators} from "./IGraphOperators.sol";
import {GraphEncoding} from "./GraphEncoding.sol";
import {GraphKernels} from "./GraphKernels.sol";
import {MerkleProofs} from "./MerkleProofs.sol";
import {VcpEncoding} from "./VcpEncoding.sol";

/// @title GraphOperators
/// @notice One-element re-execution of operator graphs for OptimisticInference (see IGraphOperators).
/// @dev Stateless and pure. The order of checks is the same for every target: prove the model leaf,
/// prove each tensor leaf in the trace tree (a tensor or tile of the wrong shape is itself wrong),
/// prove each tile, then recompute the one element with GraphKernels and compare.
contract GraphOperators is IGraphOperators {
    /// @inheritdoc IGraphOperators
    function check(TraceContext calldata context, GraphEvidence calldata evidence)
        external
        pure
        returns (bool wrong, uint256 node)
    {
        if (evidence.target == Target.Input) return (_checkInput(context, evidence), 0);
        (bool ok, GraphEncoding.Node memory n) = GraphEncoding.readNode(evidence.nodeLeaf);
        if (!ok || n.node == 0 || n.node > context.nodes) revert GraphInvalidEvidence("node");
        _proveModelLeaf(context, evidence.nodeLeaf, n.leafIndex, evidence.nodeProof, "node");
        node = n.node;
        wrong = evidence.target == Target.Output ? _checkOutput(context, evidence, n) : _checkOperator(context, evidence, n);
    }

    /// @inheritdoc IGraphOperators
    function parseHeader(bytes calldata header)
        external
        pure
        returns (uint16 nodes, uint32 inputSize, uint32 leaves, uint32 traceBytes)
    {
        (bool ok, uint256 n, GraphEncoding.Shape memory input, uint256 l, uint256 t) = GraphEncoding.readHeader(header);
        uint256 size = input.c * input.h * input.w;
        if (!ok || size > type(uint32).max || l < 2) revert GraphInvalidEvidence("header");
        return (uint16(n), uint32(size), uint32(l), uint32(t));
    }

    /// @inheritdoc IGraphOperators
    function revealedCommitments(bytes[] calldata trace, bytes32 inputSalt, bytes32 outputSalt)
        external
        pure
        returns (bytes32 traceRoot, bytes32 inputCommitment, bytes32 outputCommitment)
    {
        uint256 count = trace.length;
        if (count == 0) revert GraphInvalidEvidence("reveal");
        bytes32[] memory leaves = new bytes32[](count);
        for (uint256 k = 0; k < count; ++k) {
            leaves[k] = _revealedTensorLeaf(k, trace[k]);
        }
        traceRoot = _rootOf(leaves);
        inputCommitment = _commit(VcpEncoding.DOMAIN_INPUT, inputSalt, _untile(trace[0]));
        outputCommitment = _commit(VcpEncoding.DOMAIN_OUTPUT, outputSalt, _untile(trace[count - 1]));
    }

    // ------------------------------------------------------------------ the three targets

    function _checkOperator(TraceContext calldata ctx, GraphEvidence calldata e, GraphEncoding.Node memory n)
        private
        pure
        returns (bool)
    {
        if (e.element >= n.output.c * n.output.h * n.output.w) revert GraphInvalidEvidence("element");
        if (e.inputs.length != (n.kind == GraphEncoding.OP_ADD ? 2 : 1)) revert GraphInvalidEvidence("inputs");
        if (n.inputA >= n.node || n.inputB >= n.node) revert GraphInvalidEvidence("node");
        (bool bad, GraphKernels.Opened memory a) = _openTensor(ctx, n.inputA, n.input, e.inputs[0]);
        if (bad) return true;
        GraphKernels.Opened memory b;
        if (n.kind == GraphEncoding.OP_ADD) {
            (bad, b) = _openTensor(ctx, n.inputB, n.input, e.inputs[1]);
            if (bad) return true;
        }
        GraphKernels.Opened memory out;
        (bad, out) = _openTensor(ctx, n.node, n.output, e.output);
        if (bad || _dirtyPadding(out)) return true;
        (uint256 c, uint256 i, uint256 j) = _split(n.output, e.element);
        return _compute(ctx, e, n, a, b, c, i, j) != GraphKernels.cell(out, c, i, j);
    }

    function _checkInput(TraceContext calldata ctx, GraphEvidence calldata e) private pure returns (bool) {
        (bool ok,, GraphEncoding.Shape memory input,,) = GraphEncoding.readHeader(e.nodeLeaf);
        if (!ok) revert GraphInvalidEvidence("header");
        _proveModelLeaf(ctx, e.nodeLeaf, 0, e.nodeProof, "header");
        if (VcpEncoding.inputCommitment(e.salt, e.plain) != ctx.inputCommitment) revert GraphInvalidEvidence("input");
        // A committed input of the wrong size is the requester's doing, not the prover's.
        if (e.plain.length != input.c * input.h * input.w) revert GraphInvalidEvidence("input");
        if (e.element >= e.plain.length) revert GraphInvalidEvidence("element");
        return _differs(ctx, 0, input, e);
    }

    function _checkOutput(TraceContext calldata ctx, GraphEvidence calldata e, GraphEncoding.Node memory n)
        private
        pure
        returns (bool)
    {
        if (n.node != ctx.nodes) revert GraphInvalidEvidence("node");
        if (VcpEncoding.outputCommitment(e.salt, e.plain) != ctx.outputCommitment) {
            revert GraphInvalidEvidence("output");
        }
        uint256 size = n.output.c * n.output.h * n.output.w;
        if (e.plain.length != size) return true; // the prover committed an output the model cannot give
        if (e.element >= size) revert GraphInvalidEvidence("element");
        return _differs(ctx, n.node, n.output, e);
    }

    /// @dev Whether trace tensor `node` differs from the opened plain vector at the element.
    function _differs(TraceContext calldata ctx, uint256 node, GraphEncoding.Shape memory s, GraphEvidence calldata e)
        private
        pure
        returns (bool)
    {
        (bool bad, GraphKernels.Opened memory t) = _openTensor(ctx, node, s, e.output);
        if (bad || _dirtyPadding(t)) return true;
        (uint256 c, uint256 h, uint256 w) = _split(s, e.element);
        return GraphKernels.int8At(e.plain, e.element) != GraphKernels.cell(t, c, h, w);
    }

    // ------------------------------------------------------------------ recomputing one element

    function _compute(
        TraceContext calldata ctx,
        GraphEvidence calldata e,
        GraphEncoding.Node memory n,
        GraphKernels.Opened memory a,
        GraphKernels.Opened memory b,
        uint256 c,
        uint256 i,
        uint256 j
    ) private pure returns (int256) {
        uint256 kind = n.kind;
        if (kind == GraphEncoding.OP_CONV || kind == GraphEncoding.OP_DENSE) {
            GraphEncoding.Channel memory k = _provenChannel(ctx, e, n, c);
            return GraphKernels.requantize(k.bias + _sum(e, n, a, c, i, j), k.multiplier, k.shift, n.lo, n.hi);
        }
        if (kind == GraphEncoding.OP_MAXPOOL || kind == GraphEncoding.OP_AVGPOOL) return GraphKernels.pool(a, n, c, i, j);
        if (kind == GraphEncoding.OP_GAP) return GraphKernels.globalAverage(a, c);
        if (kind == GraphEncoding.OP_ADD) return GraphKernels.add(a, b, n, c, i, j);
        if (kind == GraphEncoding.OP_FLATTEN) {
            if (e.element >= n.input.c * n.input.h * n.input.w) revert GraphInvalidEvidence("element");
            (uint256 c2, uint256 h2, uint256 w2) = _split(n.input, e.element);
            return GraphKernels.cell(a, c2, h2, w2);
        }
        if (kind == GraphEncoding.OP_CLAMP) return GraphKernels.clamp(GraphKernels.cell(a, c, i, j), n.lo, n.hi);
        revert GraphInvalidEvidence("kind");
    }

    /// @dev A conv's or dense's sum of products (without the bias) for output (c, i, j).
    function _sum(
        GraphEvidence calldata e,
        GraphEncoding.Node memory n,
        GraphKernels.Opened memory a,
        uint256 c,
        uint256 i,
        uint256 j
    ) private pure returns (int256) {
        bytes calldata weights = e.channelLeaf[GraphEncoding.CHANNEL_PREFIX_BYTES:];
        if (n.kind == GraphEncoding.OP_DENSE) return GraphKernels.denseSum(a, n, weights);
        return GraphKernels.convSum(a, n, weights, c, i, j);
    }

    /// @dev The channel leaf of output channel `c`, proven right after its node leaf.
    function _provenChannel(TraceContext calldata ctx, GraphEvidence calldata e, GraphEncoding.Node memory n, uint256 c)
        private
        pure
        returns (GraphEncoding.Channel memory k)
    {
        bool ok;
        (ok, k) = GraphEncoding.readChannel(e.channelLeaf);
        if (!ok || k.node != n.node || k.channel != c || c >= n.channels) revert GraphInvalidEvidence("channel");
        _proveModelLeaf(ctx, e.channelLeaf, n.leafIndex + 1 + c, e.channelProof, "channel");
    }

    // ------------------------------------------------------------------ openings

    function _proveModelLeaf(
        TraceContext calldata ctx,
        bytes calldata leaf,
        uint256 index,
        bytes32[] calldata proof,
        string memory which
    ) private pure {
        bytes32 hash = GraphEncoding.leafHash(leaf);
        if (!MerkleProofs.verifyAtDepth(ctx.modelRoot, hash, index, ctx.modelDepth, proof)) {
            revert GraphInvalidEvidence(which);
        }
    }

    /// @dev A packed tensor opening's fields (IGraphOperators: "A tensor opening is packed bytes").
    struct Packed {
        uint256 c;
        uint256 h;
        uint256 w;
        bytes32 root;
        uint256 traceProof; // calldata offset of the trace proof
        uint256 traceDepth;
        uint256 count; // opened tiles
        uint256 indices; // calldata offset of the uint32 tile indices
        uint256 proofDepth;
        uint256 values; // calldata offset of the tile bytes
        uint256 valuesLength;
        uint256 proofs; // calldata offset of the tile proofs
    }

    /// @dev Proves tensor `node`'s leaf and the opened tiles, recording where each tile's values
    /// sit in calldata. `wrong` when the trace's tensor or one of its tiles does not have the
    /// model's shape: that trace is wrong whatever the values.
    function _openTensor(
        TraceContext calldata ctx,
        uint256 node,
        GraphEncoding.Shape memory expected,
        bytes calldata packed
    ) private pure returns (bool wrong, GraphKernels.Opened memory opened) {
        Packed memory t = _unpack(packed);
        bytes32 leaf = GraphEncoding.tensorLeaf(node, t.c, t.h, t.w, t.root);
        uint256 depth = MerkleProofs.depthFor(uint256(ctx.nodes) + 1);
        if (!MerkleProofs.verifyAtDepth(ctx.traceRoot, leaf, node, depth, _proof(t.traceProof, t.traceDepth))) {
            revert GraphInvalidEvidence("tensor");
        }
        if (t.c != expected.c || t.h != expected.h || t.w != expected.w) return (true, opened);
        uint256 size = expected.th * expected.tw * expected.c;
        if (t.count == 1 && t.valuesLength != size) return (_malformedTile(node, expected, t), opened);
        if (t.valuesLength != t.count * size) revert GraphInvalidEvidence("tile");
        opened.shape = expected;
        opened.node = node;
        opened.tiles = _provenTiles(node, expected, t, size);
    }

    /// @dev Whether an opened edge tile holds a non-zero value past the tensor's edge. The spec
    /// fixes those cells at 0, so such a trace is wrong: otherwise a prover could make its trace
    /// root differ from every honest recomputation without any value being wrong, and push
    /// watchers into paying for reveals. Checked on the disputed tensor's opening only: a
    /// challenger shows dirty padding by disputing an element of that edge tile.
    function _dirtyPadding(GraphKernels.Opened memory x) private pure returns (bool dirty) {
        GraphEncoding.Shape memory s = x.shape;
        if (s.h % s.th == 0 && s.w % s.tw == 0) return false; // the tiles cover the tensor exactly
        unchecked {
            for (uint256 k = 0; k < x.tiles.length; ++k) {
                uint256 t = x.tiles[k] >> 128;
                uint256 rows = s.h - (t / s.cols) * s.th;
                uint256 cols = s.w - (t % s.cols) * s.tw;
                if (rows >= s.th && cols >= s.tw) continue; // an inner tile: no padding
                if (_nonZeroOutside(x.tiles[k] & type(uint128).max, rows, cols, s)) return true;
            }
        }
    }

    /// @dev Any non-zero byte in the cells of a tile at row >= rows or column >= cols: per tile
    /// row, those cells are one contiguous run of bytes ((h, w, c) order), read a word at a time.
    function _nonZeroOutside(uint256 start, uint256 rows, uint256 cols, GraphEncoding.Shape memory s)
        private
        pure
        returns (bool found)
    {
        uint256 th = s.th;
        uint256 rowBytes = s.tw * s.c;
        uint256 skip = cols * s.c; // bytes of real cells at the start of a row that has any
        assembly ("memory-safe") {
            for { let r := 0 } lt(r, th) { r := add(r, 1) } {
                let from := add(start, mul(r, rowBytes))
                let to := add(from, rowBytes)
                if lt(r, rows) { from := add(from, skip) }
                for { let p := from } lt(p, to) { p := add(p, 32) } {
                    let word := calldataload(p)
                    let left := sub(to, p)
                    if lt(left, 32) { word := and(word, not(shr(shl(3, left), not(0)))) }
                    if word { found := 1 }
                }
            }
        }
    }

    /// @dev Reads the packed opening's header fields, checking every length against the bytes.
    function _unpack(bytes calldata packed) private pure returns (Packed memory t) {
        uint256 start;
        uint256 end;
        assembly ("memory-safe") {
            start := packed.offset
            end := add(packed.offset, packed.length)
        }
        if (packed.length < 45) revert GraphInvalidEvidence("opening");
        t.c = _word(start, 4);
        t.h = _word(start + 4, 4);
        t.w = _word(start + 8, 4);
        t.root = bytes32(_word(start + 12, 32));
        t.traceDepth = _word(start + 44, 1);
        t.traceProof = start + 45;
        uint256 q = t.traceProof + 32 * t.traceDepth;
        if (q + 2 > end) revert GraphInvalidEvidence("opening");
        t.count = _word(q, 2);
        t.indices = q + 2;
        q = t.indices + 4 * t.count;
        if (q + 5 > end) revert GraphInvalidEvidence("opening");
        t.proofDepth = _word(q, 1);
        t.valuesLength = _word(q + 1, 4);
        t.values = q + 5;
        t.proofs = t.values + t.valuesLength;
        if (t.proofs + 32 * t.count * t.proofDepth != end) revert GraphInvalidEvidence("opening");
    }

    /// @dev `width` big-endian bytes of calldata at `offset`.
    function _word(uint256 offset, uint256 width) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := shr(sub(256, shl(3, width)), calldataload(offset))
        }
    }

    /// @dev `depth` sibling hashes at a calldata offset, as a calldata array.
    function _proof(uint256 offset, uint256 depth) private pure returns (bytes32[] calldata proof) {
        assembly ("memory-safe") {
            proof.offset := offset
            proof.length := depth
        }
    }

    /// @dev Verifies every opened tile (by its proof, or by recomputing the root from all of them)
    /// and returns `index << 128 | calldata offset` per tile.
    function _provenTiles(uint256 node, GraphEncoding.Shape memory expected, Packed memory t, uint256 size)
        private
        pure
        returns (uint256[] memory tiles)
    {
        bytes32[] memory leaves;
        (leaves, tiles) = _tileLeaves(node, t, size);
        bool inOrder = true;
        for (uint256 k = 0; k < tiles.length; ++k) {
            uint256 index = tiles[k] >> 128;
            if (index >= expected.tiles) revert GraphInvalidEvidence("tile");
            if (index != k) inOrder = false;
        }
        if (tiles.length == 0) return tiles; // a window that lies wholly in the padding reads nothing
        uint256 depth = MerkleProofs.depthFor(expected.tiles);
        if (t.proofDepth == 0 && tiles.length == expected.tiles) {
            if (!inOrder || _rootOf(leaves) != t.root) revert GraphInvalidEvidence("tile");
            return tiles;
        }
        if (t.proofDepth != depth) revert GraphInvalidEvidence("tile");
        for (uint256 k = 0; k < tiles.length; ++k) {
            if (!MerkleProofs.verify(t.root, leaves[k], tiles[k] >> 128, _proof(t.proofs + 32 * k * depth, depth))) {
                revert GraphInvalidEvidence("tile");
            }
        }
    }

    /// @dev Per opened tile: its leaf hash and `index << 128 | offset`.
    function _tileLeaves(uint256 node, Packed memory t, uint256 size)
        private
        pure
        returns (bytes32[] memory leaves, uint256[] memory tiles)
    {
        uint256 count = t.count;
        uint256 indices = t.indices;
        uint256 values = t.values;
        leaves = new bytes32[](count);
        tiles = new uint256[](count);
        assembly ("memory-safe") {
            let p := mload(0x40) // scratch: 0x00 || "V" || uint16 node || uint32 index || values
            for { let k := 0 } lt(k, count) { k := add(k, 1) } {
                let index := shr(224, calldataload(add(indices, shl(2, k))))
                let src := add(values, mul(k, size))
                mstore(p, or(shl(240, 0x56), or(shl(224, and(node, 0xffff)), shl(192, index))))
                calldatacopy(add(p, 8), src, size)
                mstore(add(add(leaves, 0x20), shl(5, k)), keccak256(p, add(size, 8)))
                mstore(add(add(tiles, 0x20), shl(5, k)), or(shl(128, index), src))
            }
        }
    }

    /// @dev One committed tile whose payload is not th * tw * C bytes: wrong once proven.
    function _malformedTile(uint256 node, GraphEncoding.Shape memory expected, Packed memory t)
        private
        pure
        returns (bool)
    {
        uint256 index = _word(t.indices, 4);
        bytes calldata values;
        uint256 offset = t.values;
        uint256 length = t.valuesLength;
        assembly ("memory-safe") {
            values.offset := offset
            values.length := length
        }
        bytes32 tileLeaf = GraphEncoding.tileLeaf(node, index, values);
        uint256 depth = MerkleProofs.depthFor(expected.tiles);
        if (index >= expected.tiles || t.proofDepth != depth || !MerkleProofs.verify(t.root, tileLeaf, index, _proof(t.proofs, depth))) {
            revert GraphInvalidEvidence("tile");
        }
        return true;
    }

    function _split(GraphEncoding.Shape memory s, uint256 element) private pure returns (uint256 c, uint256 h, uint256 w) {
        uint256 plane = s.h * s.w;
        c = element / plane;
        h = (element % plane) / s.w;
        w = element % s.w;
    }

    // ------------------------------------------------------------------ reveals

    function _revealedTensorLeaf(uint256 node, bytes calldata data) private pure returns (bytes32) {
        GraphEncoding.Shape memory s = _revealedShape(data);
        uint256 size = s.th * s.tw * s.c;
        if (data.length != 12 + s.tiles * size) revert GraphInvalidEvidence("reveal");
        bytes32[] memory tiles = new bytes32[](s.tiles);
        for (uint256 t = 0; t < s.tiles; ++t) {
            uint256 start = 12 + t * size;
            tiles[t] = GraphEncoding.tileLeaf(node, t, data[start:start + size]);
        }
        return GraphEncoding.tensorLeaf(node, s.c, s.h, s.w, _rootOf(tiles));
    }

    function _revealedShape(bytes calldata data) private pure returns (GraphEncoding.Shape memory s) {
        if (data.length < 12) revert GraphInvalidEvidence("reveal");
        s = GraphEncoding.shape(uint32(bytes4(data[0:4])), uint32(bytes4(data[4:8])), uint32(bytes4(data[8:12])));
        if (s.tiles == 0) revert GraphInvalidEvidence("reveal");
    }

    /// @dev A revealed tensor's values in C, H, W order (what the input and output commitments hash).
    function _untile(bytes calldata data) private pure returns (bytes memory flat) {
        GraphEncoding.Shape memory s = _revealedShape(data);
        flat = new bytes(s.c * s.h * s.w);
        uint256 tileBytes = s.th * s.tw * s.c;
        uint256 channels = s.c;
        uint256 height = s.h;
        uint256 width = s.w;
        uint256 th = s.th;
        uint256 tw = s.tw;
        uint256 cols = s.cols;
        assembly ("memory-safe") {
            let src := add(data.offset, 12)
            let dst := add(flat, 0x20)
            for { let c := 0 } lt(c, channels) { c := add(c, 1) } {
                for { let h := 0 } lt(h, height) { h := add(h, 1) } {
                    let rowBase := add(mul(mul(div(h, th), cols), tileBytes), mul(mul(mod(h, th), tw), channels))
                    for { let w := 0 } lt(w, width) { w := add(w, 1) } {
                        let at := add(add(rowBase, mul(div(w, tw), tileBytes)), add(mul(mod(w, tw), channels), c))
                        mstore8(dst, byte(0, calldataload(add(src, at))))
                        dst := add(dst, 1)
                    }
                }
            }
        }
    }

    function _commit(bytes1 domain, bytes32 salt, bytes memory values) private pure returns (bytes32) {
        return keccak256(abi.encodePacked(domain, salt, uint32(values.length), values));
    }

    /// @dev Merkle root of `leaves` padded with bytes32(0) to a power of two (MerkleProofs' rule).
    function _rootOf(bytes32[] memory leaves) private pure returns (bytes32) {
        uint256 size = 1;
        while (size < leaves.length) size <<= 1;
        bytes32[] memory level = new bytes32[](size);
        for (uint256 i = 0; i < leaves.length; ++i) {
            level[i] = leaves[i];
        }
        while (size > 1) {
            size >>= 1;
            for (uint256 i = 0; i < size; ++i) {
                level[i] = VcpEncoding.nodeHash(level[2 * i], level[2 * i + 1]);
            }
        }
        return level[0];
    }
}
