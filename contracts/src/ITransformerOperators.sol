// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IGraphOperators} from "./IGraphOperators.sol";

/// @title ITransformerOperators
/// @notice Re-executes one element of a transformer node of an operator graph (token-wise dense,
/// MatMul of two activations, Softmax, LayerNorm, GELU, Transpose, class-token Take and Prepend,
/// committed constants) from Merkle openings of the rows and tiles that element reads. GraphOperators
/// forwards its `check` here for these node kinds, so OptimisticInference needs no change.
/// Encoding: docs/encoding.md, "Transformer nodes"; arithmetic: docs/arithmetic.md, "Transformer operators".
interface ITransformerOperators {
    /// @notice Whether element `evidence.element` of the transformer node in `evidence.nodeLeaf`
    /// disagrees with the model. Evidence as IGraphOperators.GraphEvidence (target Operator);
    /// reverts GraphInvalidEvidence on evidence that does not verify or a node whose shapes do not
    /// fit its kind.
    /// @return wrong True if the committed trace disagrees with the model at this element.
    /// @return node The disputed node.
    function check(IGraphOperators.TraceContext calldata context, IGraphOperators.GraphEvidence calldata evidence)
        external
        pure
        returns (bool wrong, uint256 node);
}
