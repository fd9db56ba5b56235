// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {FixedPointNeuron} from "../src/FixedPointNeuron.sol";
import {MerkleProofs} from "../src/MerkleProofs.sol";
import {VcpEncoding} from "../src/VcpEncoding.sol";

/// @title NeuronHarness
/// @notice TEST ONLY: exposes FixedPointNeuron, MerkleProofs and VcpEncoding as external functions
/// so that Python can check them against vcp's reference implementation (tests/chain/test_solidity_mirror.py).
contract NeuronHarness {
    /// @notice FixedPointNeuron.output.
    function output(
        bytes calldata weights,
        bytes calldata inputs,
        int256 bias,
        uint256 multiplier,
        uint256 shift,
        uint8 activation
    ) external pure returns (int8) {
        return FixedPointNeuron.output(weights, inputs, bias, multiplier, shift, activation);
    }

    /// @notice FixedPointNeuron.output with the gas the library call itself spent (no ABI decoding).
    function measureNeuron(
        bytes calldata weights,
        bytes calldata inputs,
        int256 bias,
        uint256 multiplier,
        uint256 shift,
        uint8 activation
    ) external view returns (int8 y, uint256 gasUsed) {
        uint256 before = gasleft();
        y = FixedPointNeuron.output(weights, inputs, bias, multiplier, shift, activation);
        gasUsed = before - gasleft();
    }

    /// @notice A second, deliberately simple implementation of the same neuron (one byte at a time
    /// with signextend): a differential check on the SWAR dot product and a gas baseline.
    function outputBytewise(
        bytes calldata weights,
        bytes calldata inputs,
        int256 bias,
        uint256 multiplier,
        uint256 shift,
        uint8 activation
    ) external pure returns (int8) {
        // Validate exactly as the library does (its errors), then recompute the sum naively.
        FixedPointNeuron.output(weights, inputs, bias, multiplier, shift, activation);
        int256 acc = bias;
        uint256 n = weights.length;
        assembly ("memory-safe") {
            for { let i := 0 } lt(i, n) { i := add(i, 32) } {
                let w := calldataload(add(weights.offset, i))
                let x := calldataload(add(inputs.offset, i))
                let m := sub(n, i)
                if gt(m, 32) { m := 32 }
                for { let j := 0 } lt(j, m) { j := add(j, 1) } {
                    acc := add(acc, mul(signextend(0, byte(j, w)), signextend(0, byte(j, x))))
                }
            }
        }
        return FixedPointNeuron.requantize(acc, multiplier, shift, activation);
    }

    /// @notice The bytewise neuron's gas, measured like measureNeuron (including its validation call).
    function measureBytewise(
        bytes calldata weights,
        bytes calldata inputs,
        int256 bias,
        uint256 multiplier,
        uint256 shift,
        uint8 activation
    ) external view returns (int8 y, uint256 gasUsed) {
        uint256 before = gasleft();
        y = this.outputBytewise(weights, inputs, bias, multiplier, shift, activation);
        gasUsed = before - gasleft();
    }

    /// @notice FixedPointNeuron.dot.
    function dot(bytes calldata a, bytes calldata b) external pure returns (int256) {
        if (a.length != b.length) revert FixedPointNeuron.NeuronWidthMismatch(a.length, b.length);
        if (a.length > FixedPointNeuron.MAX_WIDTH) revert FixedPointNeuron.NeuronWidthOutOfRange(a.length);
        return FixedPointNeuron.dot(a, b);
    }

    /// @notice FixedPointNeuron.requantize (unchecked: only call within the spec's bounds).
    function requantize(int256 acc, uint256 multiplier, uint256 shift, uint8 activation)
        external
        pure
        returns (int8)
    {
        return FixedPointNeuron.requantize(acc, multiplier, shift, activation);
    }

    /// @notice FixedPointNeuron.readInt8.
    function readInt8(bytes calldata values, uint256 index) external pure returns (int8) {
        return FixedPointNeuron.readInt8(values, index);
    }

    /// @notice VcpEncoding.leafHash.
    function leafHash(bytes calldata payload) external pure returns (bytes32) {
        return VcpEncoding.leafHash(payload);
    }

    /// @notice VcpEncoding.nodeHash.
    function nodeHash(bytes32 left, bytes32 right) external pure returns (bytes32) {
        return VcpEncoding.nodeHash(left, right);
    }

    /// @notice VcpEncoding.headerPayload.
    function headerPayload(uint16 layers, uint32 inWidth, uint32 outWidth, uint32 neurons, bytes32 metadataDigest)
        external
        pure
        returns (bytes memory)
    {
        return VcpEncoding.headerPayload(layers, inWidth, outWidth, neurons, metadataDigest);
    }

    /// @notice VcpEncoding.headerLeaf.
    function headerLeaf(uint16 layers, uint32 inWidth, uint32 outWidth, uint32 neurons, bytes32 metadataDigest)
        external
        pure
        returns (bytes32)
    {
        return VcpEncoding.headerLeaf(layers, inWidth, outWidth, neurons, metadataDigest);
    }

    /// @notice VcpEncoding.neuronPayload.
    function neuronPayload(VcpEncoding.NeuronData calldata neuron) external pure returns (bytes memory) {
        return VcpEncoding.neuronPayload(neuron);
    }

    /// @notice VcpEncoding.neuronLeaf.
    function neuronLeaf(VcpEncoding.NeuronData calldata neuron) external pure returns (bytes32) {
        return VcpEncoding.neuronLeaf(neuron);
    }

    /// @notice VcpEncoding.neuronLeafMemory.
    function neuronLeafMemory(VcpEncoding.NeuronData memory neuron) external pure returns (bytes32) {
        return VcpEncoding.neuronLeafMemory(neuron);
    }

    /// @notice VcpEncoding.activationPayload.
    function activationPayload(uint16 index, bytes calldata values) external pure returns (bytes memory) {
        return VcpEncoding.activationPayload(index, values);
    }

    /// @notice VcpEncoding.activationLeaf.
    function activationLeaf(uint16 index, bytes calldata values) external pure returns (bytes32) {
        return VcpEncoding.activationLeaf(index, values);
    }

    /// @notice VcpEncoding.activationLeafMemory.
    function activationLeafMemory(uint16 index, bytes memory values) external pure returns (bytes32) {
        return VcpEncoding.activationLeafMemory(index, values);
    }

    /// @notice VcpEncoding.inputCommitment.
    function inputCommitment(bytes32 salt, bytes calldata values) external pure returns (bytes32) {
        return VcpEncoding.inputCommitment(salt, values);
    }

    /// @notice VcpEncoding.outputCommitment.
    function outputCommitment(bytes32 salt, bytes calldata values) external pure returns (bytes32) {
        return VcpEncoding.outputCommitment(salt, values);
    }

    /// @notice VcpEncoding.recordPayload.
    function recordPayload(bytes32 inputCommit, bytes32 outputCommit, bytes32 traceRoot)
        external
        pure
        returns (bytes memory)
    {
        return VcpEncoding.recordPayload(inputCommit, outputCommit, traceRoot);
    }

    /// @notice VcpEncoding.recordLeaf.
    function recordLeaf(bytes32 inputCommit, bytes32 outputCommit, bytes32 traceRoot) external pure returns (bytes32) {
        return VcpEncoding.recordLeaf(inputCommit, outputCommit, traceRoot);
    }

    /// @notice VcpEncoding.zkOutputCommitment.
    function zkOutputCommitment(bytes32 salt, uint256[] calldata outputs) external pure returns (bytes32) {
        return VcpEncoding.zkOutputCommitment(salt, outputs);
    }

    /// @notice VcpEncoding.zkOutputCommitment on `instances[inWidth:]`, as AttestationRegistry calls it
    /// (a calldata slice: the public inputs come first).
    function zkOutputCommitmentOfInstances(bytes32 salt, uint256[] calldata instances, uint256 inWidth)
        external
        pure
        returns (bytes32)
    {
        return VcpEncoding.zkOutputCommitment(salt, instances[inWidth:]);
    }

    /// @notice MerkleProofs.rootOfActivations.
    function rootOfActivations(bytes[] calldata trace) external pure returns (bytes32) {
        return MerkleProofs.rootOfActivations(trace);
    }

    /// @notice MerkleProofs.verify.
    function verify(bytes32 root, bytes32 leaf, uint256 index, bytes32[] calldata proof)
        external
        pure
        returns (bool)
    {
        return MerkleProofs.verify(root, leaf, index, proof);
    }

    /// @notice MerkleProofs.depthFor.
    function depthFor(uint256 leaves) external pure returns (uint256) {
        return MerkleProofs.depthFor(leaves);
    }

    /// @notice MerkleProofs.verifyInTree.
    function verifyInTree(bytes32 root, bytes32 leaf, uint256 index, uint256 leaves, bytes32[] calldata proof)
        external
        pure
        returns (bool)
    {
        return MerkleProofs.verifyInTree(root, leaf, index, leaves, proof);
    }

    /// @notice MerkleProofs.verifyMemory.
    function verifyMemory(bytes32 root, bytes32 leaf, uint256 index, bytes32[] memory proof)
        external
        pure
        returns (bool)
    {
        return MerkleProofs.verifyMemory(root, leaf, index, proof);
    }

    /// @notice MerkleProofs.rootFromProof.
    function rootFromProof(bytes32 leaf, uint256 index, bytes32[] calldata proof)
        external
        pure
        returns (bytes32 root, bool consumed)
    {
        return MerkleProofs.rootFromProof(leaf, index, proof);
    }
}
