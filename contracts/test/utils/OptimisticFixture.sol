// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IOptimisticInference} from "../../src/IOptimisticInference.sol";
import {GraphOperators} from "../../src/GraphOperators.sol";
import {TransformerOperators} from "../../src/TransformerOperators.sol";
import {OptimisticInference} from "../../src/OptimisticInference.sol";
import {VcpEncoding} from "../../src/VcpEncoding.sol";
import {Reference} from "./Reference.sol";

/// @title OptimisticFixture
/// @notice The one place vcp's Foundry tests deploy OptimisticInference (`deploy`), and a
/// one-neuron model (2 inputs, 1 output) with everything a job on it needs: its root and header
/// proof, the correct output of an input, trace roots and fraud evidence.
library OptimisticFixture {
    uint256 internal constant PROVER_BOND = 1 ether;
    uint256 internal constant CHALLENGE_BOND = 0.1 ether;
    uint256 internal constant REVEAL_BOND = 0.01 ether;
    uint64 internal constant CHALLENGE_WINDOW = 20;
    uint64 internal constant ANSWER_WINDOW = 30;
    uint64 internal constant REVEAL_WINDOW = 5;
    uint256 internal constant REWARD_BPS = 5_000;

    /// @notice Deploys OptimisticInference with the fixture's parameters, owned by `owner`.
    /// @dev A constructor change is a one-line edit here.
    function deploy(address owner) internal returns (OptimisticInference) {
        return new OptimisticInference(
            owner, PROVER_BOND, CHALLENGE_BOND, REVEAL_BOND, CHALLENGE_WINDOW, ANSWER_WINDOW, REVEAL_WINDOW, REWARD_BPS,
            new GraphOperators(new TransformerOperators())
        );
    }

    /// @notice The model's only neuron: y = clamp((7 + 3 x0 - 5 x1) * 2^30 >> 31 rounded, -128, 127).
    function neuron() internal pure returns (VcpEncoding.NeuronData memory) {
        return VcpEncoding.NeuronData({
            layer: 0,
            row: 0,
            inWidth: 2,
            outWidth: 1,
            bias: 7,
            multiplier: 2 ** 30,
            shift: 31,
            activation: 0,
            weights: hex"03fb"
        });
    }

    function headerLeaf() internal pure returns (bytes32) {
        return Reference.leafHash(bytes.concat("H", hex"0001", hex"00000002", hex"00000001", hex"00000001", bytes32(0)));
    }

    function neuronLeaf() internal pure returns (bytes32) {
        return VcpEncoding.neuronLeafMemory(neuron());
    }

    /// @notice The model root: node(header leaf, neuron leaf).
    function modelRoot() internal pure returns (bytes32) {
        return Reference.nodeHash(headerLeaf(), neuronLeaf());
    }

    /// @notice Registers the model on `oi` (the caller must be its owner).
    function register(OptimisticInference oi) internal {
        bytes32[] memory proof = new bytes32[](1);
        proof[0] = neuronLeaf();
        oi.registerModel(modelRoot(), 1, 2, 1, 1, bytes32(0), proof);
    }

    /// @notice The model's correct one-byte output for a two-byte input.
    function correctOutput(bytes memory input) internal pure returns (bytes memory) {
        VcpEncoding.NeuronData memory n = neuron();
        int256 acc = Reference.accumulate(n.weights, input, n.bias);
        int8 y = Reference.requantize(acc, n.multiplier, n.shift, n.activation);
        return abi.encodePacked(y);
    }

    function traceRoot(bytes memory input, bytes memory output) internal pure returns (bytes32) {
        return Reference.nodeHash(Reference.activationLeaf(0, input), Reference.activationLeaf(1, output));
    }

    /// @notice Evidence on the neuron for the committed trace [input, output].
    function evidence(bytes memory input, bytes memory output)
        internal
        pure
        returns (IOptimisticInference.NeuronEvidence memory e)
    {
        e.neuron = neuron();
        e.neuronIndex = 1;
        e.neuronProof = _one(headerLeaf());
        e.inputs = input;
        e.inputsProof = _one(Reference.activationLeaf(1, output));
        e.outputs = output;
        e.outputsProof = _one(Reference.activationLeaf(0, input));
    }

    /// @notice The two-vector trace [input, output].
    function trace(bytes memory input, bytes memory output) internal pure returns (bytes[] memory t) {
        t = new bytes[](2);
        t[0] = input;
        t[1] = output;
    }

    function _one(bytes32 value) private pure returns (bytes32[] memory a) {
        a = new bytes32[](1);
        a[0] = value;
    }
}
