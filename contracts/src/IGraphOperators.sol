// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title IGraphOperators
/// @notice Re-executes one element of an operator graph's committed trace (conv, dense, pools, add,
/// flatten, clamp; transformer nodes through ITransformerOperators), or checks the trace's input and output against their salted commitments, from
/// Merkle openings of only the tiles that element reads. Stateless: OptimisticInference calls it
/// and settles the bonds. Encoding: docs/encoding.md, "Operator graphs"; arithmetic:
/// docs/arithmetic.md, "Operator graph".
interface IGraphOperators {
    /// @notice What a fraud proof disputes.
    enum Target {
        Operator, // element `element` of node k's output, recomputed from node k's inputs
        Input, // element `element` of tensor 0 against the committed input
        Output // element `element` of the last tensor against the committed output
    }

    // A tensor opening is packed bytes (one calldata walk, no nested ABI members):
    //     uint32 C || uint32 H || uint32 W || bytes32 tileRoot          (the tensor leaf's fields)
    //     || uint8 d || bytes32[d] traceProof                           (tensor leaf in the trace tree)
    //     || uint16 n || uint32[n] tileIndices
    //     || uint8 e || uint32 valuesLength || values || bytes32[m] siblings
    // `values` holds the n tiles one after another (th * tw * C bytes each, indices strictly
    // increasing), `siblings` their multiproof in the tile tree of depth e (docs/encoding.md,
    // "Packed tensor opening"): tiles side by side share their path. e = 0 with every tile opened
    // in order: the tile root is recomputed instead. A single tile may have any length: a
    // committed tile of the wrong size is proven wrong that way.

    /// @notice Evidence about one element. `nodeLeaf` is the disputed node's leaf (Operator, Output)
    /// or the graph header (Input), proven in the model tree; `channelLeaf` the output channel's
    /// leaf for a conv or dense node; `inputs` the node's input tensors (Operator); `output` the
    /// tensor holding the element; `plain` and `salt` open the committed input or output vector.
    struct GraphEvidence {
        Target target;
        uint32 element;
        bytes nodeLeaf;
        bytes32[] nodeProof;
        bytes channelLeaf;
        bytes32[] channelProof;
        bytes[] inputs; // packed tensor openings of the node's inputs
        bytes output; // packed tensor opening of the tensor holding the element
        bytes plain;
        bytes32 salt;
    }

    /// @notice What the caller knows about the job: the roots and the model tree's shape.
    struct TraceContext {
        bytes32 modelRoot;
        uint8 modelDepth;
        uint16 nodes;
        bytes32 traceRoot;
        bytes32 inputCommitment;
        bytes32 outputCommitment;
    }

    /// @notice A proof or leaf in the evidence does not verify, or does not fit the claim.
    error GraphInvalidEvidence(string which);
    /// @notice A tile the disputed element reads is not in the opening.
    error GraphMissingTile(uint256 node, uint256 tile);

    /// @notice Whether the element is wrong. Reverts (GraphInvalidEvidence) on evidence that does
    /// not verify; a trace tensor or tile of the wrong shape counts as wrong.
    /// @return wrong True if the committed trace disagrees with the model at this element.
    /// @return node The disputed tensor (0 = input).
    function check(TraceContext calldata context, GraphEvidence calldata evidence)
        external
        view
        returns (bool wrong, uint256 node);

    /// @notice The graph header's node count, input size and leaf count and trace size; reverts if malformed.
    function parseHeader(bytes calldata header)
        external
        pure
        returns (uint16 nodes, uint32 inputSize, uint32 leaves, uint32 traceBytes);

    /// @notice The trace root of a revealed trace (per tensor: uint32 C, H, W, then its tiles in
    /// order) and the input and output commitments of its first and last tensors under the salts.
    function revealedCommitments(bytes[] calldata trace, bytes32 inputSalt, bytes32 outputSalt)
        external
        pure
        returns (bytes32 traceRoot, bytes32 inputCommitment, bytes32 outputCommitment);
}
