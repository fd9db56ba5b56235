// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title VcpEncoding
/// @notice The byte layouts vcp hashes, bit for bit as `vcp.commit.encoding` (and `vcp.commit.commitments`):
///
///     leaf hash      = keccak256(0x00 || payload)          payload starts with a kind byte
///     node hash      = keccak256(0x01 || left || right)
///     input commit   = keccak256(0x02 || salt32 || uint32 n || int8[n] values)
///     output commit  = keccak256(0x03 || salt32 || uint32 n || int8[n] values)
///     zk output      = keccak256(0x04 || salt32 || uint32 n || uint256[n] public outputs of the proof)
///     header payload     = "H" || uint16 layers || uint32 inWidth || uint32 outWidth
///                              || uint32 neurons || bytes32 metadataDigest
///     neuron payload     = "N" || uint16 layer || uint32 row || uint32 inWidth || uint32 outWidth
///                              || int32 bias || uint32 multiplier || uint8 shift || uint8 activation
///                              || int8[] weights
///     activation payload = "A" || uint16 index || uint32 n || int8[n] values
///     record payload     = "R" || bytes32 inputCommitment || bytes32 outputCommitment || bytes32 traceRoot
///
/// @dev Integers are big-endian and fixed width, which is what `abi.encodePacked` writes for these
/// types; int8 vectors are `bytes`, one two's-complement byte per value. The typed `*Leaf`
/// functions hash `0x00 || payload` in one pass (equal to `leafHash(*Payload(...))`, cheaper).
/// Vector lengths are written as uint32 without a check: no calldata or memory array can reach
/// 2**32 bytes under any block gas limit.
library VcpEncoding {
    bytes1 internal constant DOMAIN_LEAF = 0x00;
    bytes1 internal constant DOMAIN_NODE = 0x01;
    bytes1 internal constant DOMAIN_INPUT = 0x02;
    bytes1 internal constant DOMAIN_OUTPUT = 0x03;
    bytes1 internal constant DOMAIN_ZK_OUTPUT = 0x04;

    bytes1 internal constant KIND_HEADER = "H";
    bytes1 internal constant KIND_NEURON = "N";
    bytes1 internal constant KIND_ACTIVATION = "A";
    bytes1 internal constant KIND_RECORD = "R";

    /// @notice One neuron of a model leaf, field for field as `vcp.commit.encoding.neuron_payload`.
    /// @dev `weights` holds the int8 weights (one byte each). Its length is not tied to
    /// `inWidth` by the encoding (Python does not check it either): a caller that recomputes the
    /// neuron must check `weights.length == inWidth` itself.
    struct NeuronData {
        uint16 layer;
        uint32 row;
        uint32 inWidth;
        uint32 outWidth;
        int32 bias;
        uint32 multiplier;
        uint8 shift;
        uint8 activation;
        bytes weights;
    }

    /// @notice keccak256(0x00 || payload); mirrors `vcp.commit.encoding.leaf_hash`.
    function leafHash(bytes memory payload) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(DOMAIN_LEAF, payload));
    }

    /// @notice keccak256(0x01 || left || right); mirrors `vcp.commit.encoding.node_hash`.
    function nodeHash(bytes32 left, bytes32 right) internal pure returns (bytes32 hash) {
        assembly ("memory-safe") {
            // 65 bytes in scratch memory at the free pointer (not allocated: used and dropped).
            let p := mload(0x40)
            mstore(p, shl(248, 0x01))
            mstore(add(p, 0x01), left)
            mstore(add(p, 0x21), right)
            hash := keccak256(p, 0x41)
        }
    }

    /// @notice The header payload; mirrors `vcp.commit.encoding.header_payload`.
    function headerPayload(uint16 layers, uint32 inWidth, uint32 outWidth, uint32 neurons, bytes32 metadataDigest)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodePacked(KIND_HEADER, layers, inWidth, outWidth, neurons, metadataDigest);
    }

    /// @notice The header leaf hash (leaf 0 of a model tree); mirrors
    /// `leaf_hash(header_payload(...))` as built by `vcp.commit.commitments.ModelCommitment.payloads`.
    function headerLeaf(uint16 layers, uint32 inWidth, uint32 outWidth, uint32 neurons, bytes32 metadataDigest)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encodePacked(DOMAIN_LEAF, KIND_HEADER, layers, inWidth, outWidth, neurons, metadataDigest));
    }

    /// @notice The neuron payload; mirrors `vcp.commit.encoding.neuron_payload`.
    function neuronPayload(NeuronData calldata n) internal pure returns (bytes memory) {
        return abi.encodePacked(
            KIND_NEURON, n.layer, n.row, n.inWidth, n.outWidth, n.bias, n.multiplier, n.shift, n.activation, n.weights
        );
    }

    /// @notice The neuron leaf hash; mirrors `leaf_hash(neuron_payload(...))` as built by
    /// `vcp.commit.commitments.ModelCommitment.payloads` (leaf 1 + neurons of earlier layers + row).
    function neuronLeaf(NeuronData calldata n) internal pure returns (bytes32) {
        return keccak256(
            abi.encodePacked(
                DOMAIN_LEAF,
                KIND_NEURON,
                n.layer,
                n.row,
                n.inWidth,
                n.outWidth,
                n.bias,
                n.multiplier,
                n.shift,
                n.activation,
                n.weights
            )
        );
    }

    /// @notice `neuronLeaf` for a neuron held in memory.
    function neuronLeafMemory(NeuronData memory n) internal pure returns (bytes32) {
        return keccak256(
            abi.encodePacked(
                DOMAIN_LEAF,
                KIND_NEURON,
                n.layer,
                n.row,
                n.inWidth,
                n.outWidth,
                n.bias,
                n.multiplier,
                n.shift,
                n.activation,
                n.weights
            )
        );
    }

    /// @notice The activation payload; mirrors `vcp.commit.encoding.activation_payload`.
    function activationPayload(uint16 index, bytes calldata values) internal pure returns (bytes memory) {
        return abi.encodePacked(KIND_ACTIVATION, index, uint32(values.length), values);
    }

    /// @notice The activation leaf of trace vector `index` (0 = the input, i = layer i's output);
    /// mirrors `vcp.commit.commitments.trace_leaves` for one vector.
    function activationLeaf(uint16 index, bytes calldata values) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(DOMAIN_LEAF, KIND_ACTIVATION, index, uint32(values.length), values));
    }

    /// @notice `activationLeaf` for a vector held in memory.
    function activationLeafMemory(uint16 index, bytes memory values) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(DOMAIN_LEAF, KIND_ACTIVATION, index, uint32(values.length), values));
    }

    /// @notice keccak256(0x02 || salt || uint32 n || values); mirrors `vcp.commit.commitments.input_commitment`.
    function inputCommitment(bytes32 salt, bytes calldata values) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(DOMAIN_INPUT, salt, uint32(values.length), values));
    }

    /// @notice keccak256(0x03 || salt || uint32 n || values); mirrors `vcp.commit.commitments.output_commitment`.
    function outputCommitment(bytes32 salt, bytes calldata values) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(DOMAIN_OUTPUT, salt, uint32(values.length), values));
    }

    /// @notice The record payload (one inference of a batch: what it ran on, what it gave, and how);
    /// mirrors `vcp.commit.encoding.record_payload`.
    function recordPayload(bytes32 inputCommit, bytes32 outputCommit, bytes32 traceRoot)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodePacked(KIND_RECORD, inputCommit, outputCommit, traceRoot);
    }

    /// @notice The record leaf of a batch's records tree, keccak256(0x00 || "R" || inputCommit ||
    /// outputCommit || traceRoot); mirrors `vcp.commit.commitments.record_leaf`.
    function recordLeaf(bytes32 inputCommit, bytes32 outputCommit, bytes32 traceRoot)
        internal
        pure
        returns (bytes32 hash)
    {
        assembly ("memory-safe") {
            // 98 bytes in scratch memory at the free pointer (not allocated: used and dropped).
            let p := mload(0x40)
            mstore(p, shl(240, 0x0052)) // DOMAIN_LEAF, KIND_RECORD
            mstore(add(p, 0x02), inputCommit)
            mstore(add(p, 0x22), outputCommit)
            mstore(add(p, 0x42), traceRoot)
            hash := keccak256(p, 0x62)
        }
    }

    /// @notice keccak256(0x04 || salt || uint32 n || uint256[n] outputs): the commitment to a zk
    /// proof's public outputs (BN254 field elements, 32 bytes each); mirrors
    /// `vcp.commit.encoding.zk_output_commitment`.
    function zkOutputCommitment(bytes32 salt, uint256[] calldata outputs) internal pure returns (bytes32 hash) {
        assembly ("memory-safe") {
            // 37 + 32n bytes in scratch memory at the free pointer (not allocated: used and dropped).
            let p := mload(0x40)
            mstore(p, shl(248, 0x04)) // DOMAIN_ZK_OUTPUT
            mstore(add(p, 0x01), salt)
            mstore(add(p, 0x21), shl(224, outputs.length)) // uint32 n (as abi.encodePacked writes it)
            let size := shl(5, outputs.length)
            calldatacopy(add(p, 0x25), outputs.offset, size)
            hash := keccak256(p, add(0x25, size))
        }
    }
}
