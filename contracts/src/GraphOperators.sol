// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IGraphOperators} from "./IGraphOperators.sol";
import {GraphEncoding} from "./GraphEncoding.sol";
import {GraphKernels} from "./GraphKernels.sol";
import {TensorOpenings} from "./TensorOpenings.sol";
import {ITransformerOperators} from "./ITransformerOperators.sol";
import {VcpEncoding} from "./VcpEncoding.sol";

/// @title GraphOperators
/// @notice One-element re-execution of operator graphs for OptimisticInference (see IGraphOperators).
/// @dev Stateless and pure. The order of checks is the same for every target: prove the model leaf,
/// prove each tensor leaf in the trace tree (a tensor or tile of the wrong shape is itself wrong),
/// prove each tile, then recompute the one element with GraphKernels and compare.
contract GraphOperators is IGraphOperators {
    /// @notice Where `check` sends an Operator dispute of a transformer node (kind >= OP_TOKEN_DENSE).
    ITransformerOperators public immutable transformerOperators;

    constructor(ITransformerOperators transformerOperators_) {
        if (address(transformerOperators_).code.length == 0) revert GraphInvalidEvidence("transformerOperators");
        transformerOperators = transformerOperators_;
    }

    /// @inheritdoc IGraphOperators
    function check(TraceContext calldata context, GraphEvidence calldata evidence)
        external
        view
        returns (bool wrong, uint256 node)
    {
        if (evidence.target == Target.Input) return (_checkInput(context, evidence), 0);
        (bool ok, GraphEncoding.Node memory n) = GraphEncoding.readNode(evidence.nodeLeaf);
        if (!ok || n.node == 0 || n.node > context.nodes) revert GraphInvalidEvidence("node");
        TensorOpenings.proveModelLeaf(context, evidence.nodeLeaf, n.leafIndex, evidence.nodeProof, "node");
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
        traceRoot = TensorOpenings.rootOf(leaves);
        inputCommitment = _commit(VcpEncoding.DOMAIN_INPUT, inputSalt, _untile(trace[0]));
        outputCommitment = _commit(VcpEncoding.DOMAIN_OUTPUT, outputSalt, _untile(trace[count - 1]));
    }

    /// @dev Sends this call's calldata unchanged to TransformerOperators (same `check` signature)
    /// and returns or reverts with its answer, so its errors reach the caller as they are.
    function _forward() private view {
        address to = address(transformerOperators);
        assembly ("memory-safe") {
            let p := mload(0x40)
            calldatacopy(p, 0, calldatasize())
            let ok := staticcall(gas(), to, p, calldatasize(), 0, 0)
            returndatacopy(p, 0, returndatasize())
            if iszero(ok) { revert(p, returndatasize()) }
            return(p, returndatasize())
        }
    }

    // ------------------------------------------------------------------ the three targets

    function _checkOperator(TraceContext calldata ctx, GraphEvidence calldata e, GraphEncoding.Node memory n)
        private
        view
        returns (bool)
    {
        if (n.kind >= GraphEncoding.OP_TOKEN_DENSE) _forward();
        if (e.element >= n.output.c * n.output.h * n.output.w) revert GraphInvalidEvidence("element");
        if (e.inputs.length != (n.kind == GraphEncoding.OP_ADD ? 2 : 1)) revert GraphInvalidEvidence("inputs");
        if (n.inputA >= n.node || n.inputB >= n.node) revert GraphInvalidEvidence("node");
        (bool bad, GraphKernels.Opened memory a) = TensorOpenings.open(ctx, n.inputA, n.input, e.inputs[0]);
        if (bad) return true;
        GraphKernels.Opened memory b;
        if (n.kind == GraphEncoding.OP_ADD) {
            (bad, b) = TensorOpenings.open(ctx, n.inputB, n.input, e.inputs[1]);
            if (bad) return true;
        }
        GraphKernels.Opened memory out;
        (bad, out) = TensorOpenings.open(ctx, n.node, n.output, e.output);
        if (bad || TensorOpenings.dirtyPadding(out)) return true;
        (uint256 c, uint256 i, uint256 j) = TensorOpenings.split(n.output, e.element);
        return _compute(ctx, e, n, a, b, c, i, j) != GraphKernels.cell(out, c, i, j);
    }

    function _checkInput(TraceContext calldata ctx, GraphEvidence calldata e) private pure returns (bool) {
        (bool ok,, GraphEncoding.Shape memory input,,) = GraphEncoding.readHeader(e.nodeLeaf);
        if (!ok) revert GraphInvalidEvidence("header");
        TensorOpenings.proveModelLeaf(ctx, e.nodeLeaf, 0, e.nodeProof, "header");
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
        (bool bad, GraphKernels.Opened memory t) = TensorOpenings.open(ctx, node, s, e.output);
        if (bad || TensorOpenings.dirtyPadding(t)) return true;
        (uint256 c, uint256 h, uint256 w) = TensorOpenings.split(s, e.element);
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
            (uint256 c2, uint256 h2, uint256 w2) = TensorOpenings.split(n.input, e.element);
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
        TensorOpenings.proveModelLeaf(ctx, e.channelLeaf, n.leafIndex + 1 + c, e.channelProof, "channel");
    }

    // ------------------------------------------------------------------ openings

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
        return GraphEncoding.tensorLeaf(node, s.c, s.h, s.w, TensorOpenings.rootOf(tiles));
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

}
