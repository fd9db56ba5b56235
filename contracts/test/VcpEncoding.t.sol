// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {VcpEncoding} from "../src/VcpEncoding.sol";
import {NeuronHarness} from "./NeuronHarness.sol";
import {Reference} from "./utils/Reference.sol";
import {VcpTest} from "./utils/VcpTest.sol";

/// @notice VcpEncoding against the shared vectors (tests/vectors/encoding.json, also checked by
/// Python) and, on fuzzed fields, against a byte-by-byte reference of docs/encoding.md.
contract VcpEncodingTest is VcpTest {
    NeuronHarness internal harness;
    string internal vectors;

    function setUp() external {
        harness = new NeuronHarness();
        vectors = vm.readFile("tests/vectors/encoding.json");
    }

    function test_neuronVector() external view {
        VcpEncoding.NeuronData memory n = VcpEncoding.NeuronData({
            layer: uint16(_uint(".neuron.fields.layer")),
            row: uint32(_uint(".neuron.fields.row")),
            inWidth: uint32(_uint(".neuron.fields.in_width")),
            outWidth: uint32(_uint(".neuron.fields.out_width")),
            bias: int32(vm.parseJsonInt(vectors, ".neuron.fields.bias")),
            multiplier: uint32(_uint(".neuron.fields.multiplier")),
            shift: uint8(_uint(".neuron.fields.shift")),
            activation: uint8(_uint(".neuron.fields.activation")),
            weights: _int8Bytes(vm.parseJsonIntArray(vectors, ".neuron.fields.weights"))
        });
        vm.assertEq(harness.neuronPayload(n), vm.parseJsonBytes(vectors, ".neuron.payload"), "neuron payload");
        bytes32 leaf = vm.parseJsonBytes32(vectors, ".neuron.leaf");
        vm.assertEq(harness.neuronLeaf(n), leaf, "neuronLeaf");
        vm.assertEq(harness.neuronLeafMemory(n), leaf, "neuronLeafMemory");
    }

    function test_activationHeaderNodeVectors() external view {
        uint16 index = uint16(_uint(".activation.index"));
        bytes memory values = _int8Bytes(vm.parseJsonIntArray(vectors, ".activation.values"));
        vm.assertEq(harness.activationPayload(index, values), vm.parseJsonBytes(vectors, ".activation.payload"), "A");
        vm.assertEq(harness.activationLeaf(index, values), vm.parseJsonBytes32(vectors, ".activation.leaf"), "A leaf");
        (uint16 layers, uint32 inW, uint32 outW, uint32 neurons) = (
            uint16(_uint(".header.layers")), uint32(_uint(".header.in_width")),
            uint32(_uint(".header.out_width")), uint32(_uint(".header.neurons"))
        );
        bytes32 digest = vm.parseJsonBytes32(vectors, ".header.metadata_digest");
        vm.assertEq(harness.headerPayload(layers, inW, outW, neurons, digest), vm.parseJsonBytes(vectors, ".header.payload"), "H");
        vm.assertEq(harness.headerLeaf(layers, inW, outW, neurons, digest), vm.parseJsonBytes32(vectors, ".header.leaf"), "H leaf");
        bytes32 left = vm.parseJsonBytes32(vectors, ".node.left");
        bytes32 right = vm.parseJsonBytes32(vectors, ".node.right");
        vm.assertEq(harness.nodeHash(left, right), vm.parseJsonBytes32(vectors, ".node.hash"), "node");
    }

    function test_commitmentRecordZkVectors() external view {
        bytes32 salt = vm.parseJsonBytes32(vectors, ".commitments.salt");
        bytes memory values = _int8Bytes(vm.parseJsonIntArray(vectors, ".commitments.values"));
        vm.assertEq(harness.inputCommitment(salt, values), vm.parseJsonBytes32(vectors, ".commitments.input"), "input");
        vm.assertEq(harness.outputCommitment(salt, values), vm.parseJsonBytes32(vectors, ".commitments.output"), "output");
        bytes32 i = vm.parseJsonBytes32(vectors, ".record.input_commitment");
        bytes32 o = vm.parseJsonBytes32(vectors, ".record.output_commitment");
        bytes32 t = vm.parseJsonBytes32(vectors, ".record.trace_root");
        vm.assertEq(harness.recordPayload(i, o, t), vm.parseJsonBytes(vectors, ".record.payload"), "R");
        vm.assertEq(harness.recordLeaf(i, o, t), vm.parseJsonBytes32(vectors, ".record.leaf"), "R leaf");
        uint256 k = 0;
        for (; vm.keyExistsJson(vectors, _at(".zk_output", k)); ++k) {
            string memory key = _at(".zk_output", k);
            bytes32 zkSalt = vm.parseJsonBytes32(vectors, string.concat(key, ".salt"));
            bytes32[] memory raw = vm.parseJsonBytes32Array(vectors, string.concat(key, ".outputs"));
            uint256[] memory outputs = new uint256[](raw.length);
            for (uint256 j = 0; j < raw.length; ++j) outputs[j] = uint256(raw[j]);
            bytes32 expected = vm.parseJsonBytes32(vectors, string.concat(key, ".commitment"));
            vm.assertEq(harness.zkOutputCommitment(zkSalt, outputs), expected, "zk output commitment");
        }
        vm.assertTrue(k > 0, "no zk_output vectors read");
    }

    /// @notice Every field of a neuron leaf at its documented offset and width, for any field values.
    function testFuzz_neuronLeafLayout(VcpEncoding.NeuronData memory n) external view {
        vm.assume(n.weights.length <= 4096);
        bytes memory expected = bytes.concat(
            bytes.concat("N", Reference.bigEndian(n.layer, 2), Reference.bigEndian(n.row, 4)),
            bytes.concat(Reference.bigEndian(n.inWidth, 4), Reference.bigEndian(n.outWidth, 4)),
            bytes.concat(Reference.int32Bytes(n.bias), Reference.bigEndian(n.multiplier, 4)),
            bytes.concat(Reference.bigEndian(n.shift, 1), Reference.bigEndian(n.activation, 1), n.weights)
        );
        vm.assertEq(harness.neuronPayload(n), expected, "neuron payload layout");
        bytes32 leaf = Reference.leafHash(expected);
        vm.assertEq(harness.neuronLeaf(n), leaf, "neuronLeaf");
        vm.assertEq(harness.neuronLeafMemory(n), leaf, "neuronLeafMemory");
    }

    function testFuzz_headerLayout(uint16 layers, uint32 inW, uint32 outW, uint32 neurons, bytes32 digest)
        external
        view
    {
        bytes memory expected = bytes.concat(
            "H", Reference.bigEndian(layers, 2), Reference.bigEndian(inW, 4), Reference.bigEndian(outW, 4),
            Reference.bigEndian(neurons, 4), digest
        );
        vm.assertEq(harness.headerPayload(layers, inW, outW, neurons, digest), expected, "header payload");
        vm.assertEq(harness.headerLeaf(layers, inW, outW, neurons, digest), Reference.leafHash(expected), "header");
    }

    function testFuzz_activationAndCommitments(uint16 index, bytes calldata values, bytes32 salt) external view {
        bytes memory n = Reference.bigEndian(values.length, 4);
        bytes memory payload = bytes.concat("A", Reference.bigEndian(index, 2), n, values);
        vm.assertEq(harness.activationPayload(index, values), payload, "activation payload");
        vm.assertEq(harness.activationLeaf(index, values), Reference.leafHash(payload), "activationLeaf");
        vm.assertEq(harness.activationLeafMemory(index, values), Reference.leafHash(payload), "activationLeafMemory");
        bytes32 input = keccak256(bytes.concat(hex"02", salt, n, values));
        bytes32 output = keccak256(bytes.concat(hex"03", salt, n, values));
        vm.assertEq(harness.inputCommitment(salt, values), input, "inputCommitment");
        vm.assertEq(harness.outputCommitment(salt, values), output, "outputCommitment");
        vm.assertNotEq(input, output, "input and output commitments are domain-separated");
    }

    function testFuzz_nodeAndRecordHashes(bytes32 a, bytes32 b, bytes32 c) external view {
        vm.assertEq(harness.nodeHash(a, b), Reference.nodeHash(a, b), "nodeHash");
        bytes memory record = bytes.concat("R", a, b, c);
        vm.assertEq(harness.recordPayload(a, b, c), record, "record payload");
        vm.assertEq(harness.recordLeaf(a, b, c), Reference.leafHash(record), "recordLeaf");
        // Domain separation: a node's 64-byte preimage read as a leaf gives a different hash.
        vm.assertNotEq(harness.nodeHash(a, b), Reference.leafHash(bytes.concat(a, b)), "node vs leaf");
    }

    function testFuzz_zkOutputCommitment(bytes32 salt, uint256[] calldata outputs, uint8 inWidth) external view {
        bytes memory packed = abi.encodePacked(outputs); // 32 bytes per element
        bytes32 expected = keccak256(bytes.concat(hex"04", salt, Reference.bigEndian(outputs.length, 4), packed));
        vm.assertEq(harness.zkOutputCommitment(salt, outputs), expected, "zkOutputCommitment");
        // The registry commits to a calldata slice (instances[inWidth:]); the slice must hash the same.
        uint256 cut = _bound(inWidth, 0, 8);
        uint256[] memory instances = new uint256[](cut + outputs.length);
        for (uint256 i = 0; i < outputs.length; ++i) instances[cut + i] = outputs[i];
        vm.assertEq(harness.zkOutputCommitmentOfInstances(salt, instances, cut), expected, "sliced instances");
    }

    function _uint(string memory key) private view returns (uint256) {
        return vm.parseJsonUint(vectors, key);
    }

    function _at(string memory key, uint256 k) private pure returns (string memory) {
        return string.concat(key, "[", vm.toString(k), "]");
    }
}
