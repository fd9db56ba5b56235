// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {NeuronHarness} from "./NeuronHarness.sol";
import {Reference} from "./utils/Reference.sol";
import {VcpTest} from "./utils/VcpTest.sol";

/// @notice MerkleProofs against the shared vectors (tests/vectors/encoding.json: trees of 1..n
/// leaves with every proof, trace roots) and against a plain reference tree on fuzzed leaves;
/// every single-bit change of a valid proof, leaf or index must fail.
contract MerkleProofsTest is VcpTest {
    NeuronHarness internal harness;
    string internal vectors;

    function setUp() external {
        harness = new NeuronHarness();
        vectors = vm.readFile("tests/vectors/encoding.json");
    }

    function test_sharedTreeVectors() external view {
        uint256 trees = _count(".merkle");
        vm.assertTrue(trees > 0, "no merkle vectors read");
        for (uint256 t = 0; t < trees; ++t) {
            string memory tree = _at(".merkle", t);
            bytes[] memory payloads = vm.parseJsonBytesArray(vectors, string.concat(tree, ".leaf_payloads"));
            bytes32 root = vm.parseJsonBytes32(vectors, string.concat(tree, ".root"));
            uint256 proofs = _count(string.concat(tree, ".proofs"));
            vm.assertEq(proofs, payloads.length, "one proof per leaf");
            for (uint256 p = 0; p < proofs; ++p) {
                (uint256 index, bytes32[] memory siblings) = _proof(tree, p);
                bytes32 leaf = Reference.leafHash(payloads[index]);
                vm.assertTrue(harness.verify(root, leaf, index, siblings), "vector proof (calldata)");
                vm.assertTrue(harness.verifyMemory(root, leaf, index, siblings), "vector proof (memory)");
                vm.assertTrue(harness.verifyInTree(root, leaf, index, payloads.length, siblings), "verifyInTree");
                vm.assertEq(harness.depthFor(payloads.length), siblings.length, "depthFor");
            }
        }
    }

    function test_sharedTraceVectors() external view {
        uint256 traces = _count(".trace");
        vm.assertTrue(traces > 0, "no trace vectors read");
        for (uint256 t = 0; t < traces; ++t) {
            string memory key = _at(".trace", t);
            uint256 n = _count(string.concat(key, ".vectors"));
            bytes[] memory trace = new bytes[](n);
            bytes32[] memory leaves = vm.parseJsonBytes32Array(vectors, string.concat(key, ".leaves"));
            for (uint256 i = 0; i < n; ++i) {
                trace[i] = _int8Bytes(vm.parseJsonIntArray(vectors, _at(string.concat(key, ".vectors"), i)));
                vm.assertEq(harness.activationLeaf(uint16(i), trace[i]), leaves[i], "trace leaf");
            }
            vm.assertEq(harness.rootOfActivations(trace), vm.parseJsonBytes32(vectors, string.concat(key, ".root")), "root");
        }
    }

    /// @notice A valid vector proof with one bit flipped (in a sibling, the leaf or the index) never verifies.
    function testFuzz_tamperedVectorProofFails(uint256 treeSeed, uint256 proofSeed, uint256 bit, uint8 where)
        external
        view
    {
        string memory tree = _at(".merkle", _bound(treeSeed, 0, _count(".merkle") - 1));
        bytes[] memory payloads = vm.parseJsonBytesArray(vectors, string.concat(tree, ".leaf_payloads"));
        bytes32 root = vm.parseJsonBytes32(vectors, string.concat(tree, ".root"));
        (uint256 index, bytes32[] memory siblings) = _proof(tree, _bound(proofSeed, 0, payloads.length - 1));
        bytes32 leaf = Reference.leafHash(payloads[index]);
        uint256 flip = uint256(1) << _bound(bit, 0, 255);
        uint256 choice = siblings.length == 0 ? _bound(where, 1, 2) : _bound(where, 0, 2);
        if (choice == 0) {
            uint256 k = _bound(bit >> 8, 0, siblings.length - 1);
            siblings[k] = bytes32(uint256(siblings[k]) ^ flip);
        } else if (choice == 1) {
            leaf = bytes32(uint256(leaf) ^ flip);
        } else {
            index ^= flip;
        }
        vm.assertFalse(harness.verify(root, leaf, index, siblings), "tampered proof verified");
        vm.assertFalse(harness.verifyMemory(root, leaf, index, siblings), "tampered proof verified (memory)");
    }

    /// @notice Random trees of 1..64 leaves: every proof of the reference tree verifies, at its index only.
    function testFuzz_randomTreeProofs(bytes32 seed, uint256 leafCount, uint256 indexSeed, uint256 otherSeed)
        external
        view
    {
        uint256 n = _bound(leafCount, 1, 64);
        uint256 index = _bound(indexSeed, 0, n - 1);
        bytes32[] memory leaves = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) leaves[i] = Reference.leafHash(abi.encode(seed, i));
        (bytes32 root, bytes32[] memory proof) = Reference.rootAndProof(leaves, index);
        vm.assertEq(harness.depthFor(n), proof.length, "depthFor");
        vm.assertTrue(harness.verify(root, leaves[index], index, proof), "verify");
        vm.assertTrue(harness.verifyInTree(root, leaves[index], index, n, proof), "verifyInTree");
        (bytes32 computed, bool consumed) = harness.rootFromProof(leaves[index], index, proof);
        vm.assertTrue(consumed && computed == root, "rootFromProof");
        // The same path with an index bit above the depth: rejected (one index, one leaf).
        uint256 aliased = index | (uint256(1) << (proof.length + _bound(otherSeed, 0, 255 - proof.length)));
        vm.assertFalse(harness.verify(root, leaves[index], aliased, proof), "aliased index verified");
        // Another leaf at this index, or this leaf at another index, is rejected.
        uint256 other = _bound(otherSeed, 0, n - 1);
        if (other != index) {
            vm.assertFalse(harness.verify(root, leaves[other], index, proof), "wrong leaf verified");
            vm.assertFalse(harness.verifyInTree(root, leaves[index], other, n, proof), "wrong index verified");
        }
        // verifyInTree refuses a leaf count of another depth and an index past the count.
        vm.assertFalse(harness.verifyInTree(root, leaves[index], index, 2 ** (proof.length + 1) + 1, proof), "depth");
        vm.assertFalse(harness.verifyInTree(root, leaves[index], index, index, proof), "index >= leaves");
    }

    /// @notice The trace root of 1..16 random int8 vectors equals the reference tree of activation leaves.
    function testFuzz_rootOfActivations(bytes32 seed, uint256 vectorCount) external view {
        uint256 n = _bound(vectorCount, 1, 16);
        bytes[] memory trace = new bytes[](n);
        bytes32[] memory leaves = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            trace[i] = _bytes(keccak256(abi.encode(seed, i)), uint256(keccak256(abi.encode(seed, "len", i))) % 70);
            leaves[i] = Reference.activationLeaf(i, trace[i]);
        }
        (bytes32 root,) = Reference.rootAndProof(leaves, 0);
        vm.assertEq(harness.rootOfActivations(trace), root, "rootOfActivations");
    }

    function _proof(string memory tree, uint256 p) private view returns (uint256 index, bytes32[] memory siblings) {
        string memory key = _at(string.concat(tree, ".proofs"), p);
        index = vm.parseJsonUint(vectors, string.concat(key, ".index"));
        siblings = vm.parseJsonBytes32Array(vectors, string.concat(key, ".siblings"));
    }

    function _count(string memory key) private view returns (uint256 n) {
        while (vm.keyExistsJson(vectors, _at(key, n))) ++n;
    }

    function _at(string memory key, uint256 k) private pure returns (string memory) {
        return string.concat(key, "[", vm.toString(k), "]");
    }
}
