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
        if (bad) return true;
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
        if (bad) return true;
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

    /// @dev Proves tensor `node`'s leaf and the opened tiles, recording where each tile's values
    /// sit in calldata. `wrong` when the trace's tensor or one of its tiles does not have the
    /// model's shape: that trace is wrong whatever the values.
    function _openTensor(
        TraceContext calldata ctx,
        uint256 node,
        GraphEncoding.Shape memory expected,
        TensorOpening calldata t
    ) private pure returns (bool wrong, GraphKernels.Opened memory opened) {
        bytes32 leaf = GraphEncoding.tensorLeaf(node, t.c, t.h, t.w, t.root);
        uint256 depth = MerkleProofs.depthFor(uint256(ctx.nodes) + 1);
        if (!MerkleProofs.verifyAtDepth(ctx.traceRoot, leaf, node, depth, t.traceProof)) {
            revert GraphInvalidEvidence("tensor");
        }
        if (t.c != expected.c || t.h != expected.h || t.w != expected.w) return (true, opened);
        opened.shape = expected;
        opened.node = node;
        opened.tiles = new uint256[](t.tiles.length);
        uint256 tileDepth = MerkleProofs.depthFor(expected.tiles);
        uint256 size = expected.th * expected.tw * expected.c;
        for (uint256 k = 0; k < t.tiles.length; ++k) {
            Tile calldata tile = t.tiles[k];
            bytes calldata values = tile.values;
            bytes32 tileLeaf = GraphEncoding.tileLeaf(node, tile.index, values);
            if (tile.index >= expected.tiles || !MerkleProofs.verifyAtDepth(t.root, tileLeaf, tile.index, tileDepth, tile.proof)) {
                revert GraphInvalidEvidence("tile");
            }
            if (values.length != size) return (true, opened);
            uint256 offset;
            assembly ("memory-safe") {
                offset := values.offset
            }
            opened.tiles[k] = (uint256(tile.index) << 128) | offset;
        }
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
        uint256 size = s.th * s.tw * s.c;
        flat = new bytes(s.c * s.h * s.w);
        uint256 e = 0;
        for (uint256 c = 0; c < s.c; ++c) {
            for (uint256 h = 0; h < s.h; ++h) {
                for (uint256 w = 0; w < s.w; ++w) {
                    (uint256 tile, uint256 offset) = GraphEncoding.locate(s, c, h, w);
                    flat[e++] = data[12 + tile * size + offset];
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
