// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {VcpEncoding} from "./VcpEncoding.sol";

/// @title MerkleProofs
/// @notice Indexed Merkle proofs over vcp's keccak256 trees, and the trace root; mirrors
/// `vcp.commit.merkle.verify_proof`, `vcp.commit.merkle.root_from_proof` and
/// `vcp.commit.commitments.trace_root`.
/// @dev A proof is the list of sibling hashes from the leaf upwards. Bit k of `index` says
/// whether the running hash is the right (1) or the left (0) child at height k, so the index is
/// the leaf's position in the (zero-padded, power-of-two) tree. A proof is valid only if every
/// bit of `index` is consumed (`index >> proof.length == 0`): otherwise `index` and
/// `index + 2**depth` would both verify, and a claim about "leaf i" could be proven with leaf j.
///
/// WARNING: this library trusts the caller to pass a LEAF HASH made with `VcpEncoding` (a
/// keccak256 of 0x00 || payload) and builds nodes as keccak256(0x01 || left || right). That
/// domain separation is what makes proofs sound: without it the 64 bytes of an inner node's
/// children would themselves be a valid "leaf" preimage, so anyone could prove a fake leaf at a
/// shorter depth (second preimage). Never pass a raw payload, an unprefixed keccak256, or an
/// inner node as `leaf`; and note the padding leaf bytes32(0) is accepted like any other leaf
/// hash (no payload hashes to it, so a caller that checks the leaf's payload is safe).
library MerkleProofs {
    /// @notice Depth of a tree over `leaves` leaves padded to a power of two: ceil(log2(leaves)),
    /// 0 for a single leaf; mirrors `vcp.commit.merkle.proof_depth`.
    function depthFor(uint256 leaves) internal pure returns (uint256 depth) {
        while (depth < 256 && (uint256(1) << depth) < leaves) ++depth;
    }

    /// @notice `verify` in a tree of exactly `leaves` leaves: `index < leaves` and the proof has
    /// exactly the tree's depth.
    /// @dev IMPORTANT: without the depth check one index can hold two leaves. A root built as
    /// node(node(L0, L1), R) opens "index 1" both as L1 (depth 2) and as R (depth 1), so a batch
    /// of count 2 would prove three records. Every caller that knows the leaf count uses this.
    function verifyInTree(bytes32 root, bytes32 leaf, uint256 index, uint256 leaves, bytes32[] calldata proof)
        internal
        pure
        returns (bool)
    {
        return index < leaves && proof.length == depthFor(leaves) && verify(root, leaf, index, proof);
    }

    /// @notice `verify` with a proof of exactly `depth` siblings (so `index < 2**depth`), for a
    /// caller that stored the tree's depth rather than its leaf count.
    function verifyAtDepth(bytes32 root, bytes32 leaf, uint256 index, uint256 depth, bytes32[] calldata proof)
        internal
        pure
        returns (bool)
    {
        return proof.length == depth && verify(root, leaf, index, proof);
    }

    /// @notice True iff `proof` leads from `leaf` at position `index` to `root`.
    function verify(bytes32 root, bytes32 leaf, uint256 index, bytes32[] calldata proof)
        internal
        pure
        returns (bool)
    {
        (bytes32 computed, bool consumed) = rootFromProof(leaf, index, proof);
        return consumed && computed == root;
    }

    /// @notice `verify` for a proof held in memory.
    function verifyMemory(bytes32 root, bytes32 leaf, uint256 index, bytes32[] memory proof)
        internal
        pure
        returns (bool)
    {
        (bytes32 computed, bool consumed) = rootFromProofMemory(leaf, index, proof);
        return consumed && computed == root;
    }

    /// @notice The root `proof` leads to, and whether every bit of `index` was consumed (when
    /// not, the root is meaningless); mirrors `vcp.commit.merkle.root_from_proof` (None = not consumed).
    function rootFromProof(bytes32 leaf, uint256 index, bytes32[] calldata proof)
        internal
        pure
        returns (bytes32 root, bool consumed)
    {
        assembly ("memory-safe") {
            let p := mload(0x40) // 65 bytes of scratch at the free pointer, not allocated
            let h := leaf
            let i := index
            let end := add(proof.offset, shl(5, proof.length))
            for { let q := proof.offset } lt(q, end) { q := add(q, 0x20) } {
                let sibling := calldataload(q)
                mstore(p, shl(248, 0x01))
                switch and(i, 1)
                case 0 {
                    mstore(add(p, 0x01), h)
                    mstore(add(p, 0x21), sibling)
                }
                default {
                    mstore(add(p, 0x01), sibling)
                    mstore(add(p, 0x21), h)
                }
                h := keccak256(p, 0x41)
                i := shr(1, i)
            }
            root := h
            consumed := iszero(i)
        }
    }

    /// @notice `rootFromProof` for a proof held in memory.
    function rootFromProofMemory(bytes32 leaf, uint256 index, bytes32[] memory proof)
        internal
        pure
        returns (bytes32 root, bool consumed)
    {
        assembly ("memory-safe") {
            let p := mload(0x40)
            let h := leaf
            let i := index
            let q := add(proof, 0x20)
            let end := add(q, shl(5, mload(proof)))
            for {} lt(q, end) { q := add(q, 0x20) } {
                let sibling := mload(q)
                mstore(p, shl(248, 0x01))
                switch and(i, 1)
                case 0 {
                    mstore(add(p, 0x01), h)
                    mstore(add(p, 0x21), sibling)
                }
                default {
                    mstore(add(p, 0x01), sibling)
                    mstore(add(p, 0x21), h)
                }
                h := keccak256(p, 0x41)
                i := shr(1, i)
            }
            root := h
            consumed := iszero(i)
        }
    }

    /// @notice The trace root: the Merkle root over the activation leaves of `trace` (vector i at
    /// leaf i, 0 = the input), padded with bytes32(0) leaves to a power of two, as
    /// `vcp.commit.merkle.MerkleTree` pads; mirrors `vcp.commit.commitments.trace_root`.
    /// @dev Builds the whole padded tree in memory (one level, hashed up in place). An empty trace
    /// gives bytes32(0) (the tree of one padding leaf) where Python raises: callers check the length.
    function rootOfActivations(bytes[] calldata trace) internal pure returns (bytes32) {
        uint256 n = trace.length;
        uint256 size = 1;
        while (size < n) size <<= 1;
        bytes32[] memory level = new bytes32[](size);
        for (uint256 i = 0; i < n; ++i) {
            level[i] = VcpEncoding.activationLeaf(uint16(i), trace[i]);
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
