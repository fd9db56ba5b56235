// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IGraphOperators} from "./IGraphOperators.sol";
import {GraphEncoding} from "./GraphEncoding.sol";
import {GraphKernels} from "./GraphKernels.sol";
import {MerkleProofs} from "./MerkleProofs.sol";
import {VcpEncoding} from "./VcpEncoding.sol";

/// @title TensorOpenings
/// @notice Proves what a fraud proof opens of an operator graph: model leaves in the model tree,
/// tensor leaves in the trace tree, tiles in their tensor's tile tree (IGraphOperators: "A tensor
/// opening is packed bytes"). Shared by GraphOperators and TransformerOperators, so both read
/// evidence exactly alike.
library TensorOpenings {
    function proveModelLeaf(
        IGraphOperators.TraceContext calldata ctx,
        bytes calldata leaf,
        uint256 index,
        bytes32[] calldata proof,
        string memory which
    ) internal pure {
        bytes32 hash = GraphEncoding.leafHash(leaf);
        if (!MerkleProofs.verifyAtDepth(ctx.modelRoot, hash, index, ctx.modelDepth, proof)) {
            revert IGraphOperators.GraphInvalidEvidence(which);
        }
    }

    /// @dev A packed tensor opening's fields (IGraphOperators: "A tensor opening is packed bytes").
    struct Packed {
        uint256 c;
        uint256 h;
        uint256 w;
        bytes32 root;
        uint256 traceProof; // calldata offset of the trace proof
        uint256 traceDepth;
        uint256 count; // opened tiles
        uint256 indices; // calldata offset of the uint32 tile indices
        uint256 proofDepth;
        uint256 values; // calldata offset of the tile bytes
        uint256 valuesLength;
        uint256 proofs; // calldata offset of the tiles' multiproof
        uint256 proofCount; // its sibling hashes
    }

    /// @dev Proves tensor `node`'s leaf and the opened tiles, recording where each tile's values
    /// sit in calldata. `wrong` when the trace's tensor or one of its tiles does not have the
    /// model's shape: that trace is wrong whatever the values.
    function open(
        IGraphOperators.TraceContext calldata ctx,
        uint256 node,
        GraphEncoding.Shape memory expected,
        bytes calldata packed
    ) internal pure returns (bool wrong, GraphKernels.Opened memory opened) {
        Packed memory t = unpack(packed);
        bytes32 leaf = GraphEncoding.tensorLeaf(node, t.c, t.h, t.w, t.root);
        uint256 depth = MerkleProofs.depthFor(uint256(ctx.nodes) + 1);
        if (!MerkleProofs.verifyAtDepth(ctx.traceRoot, leaf, node, depth, proofAt(t.traceProof, t.traceDepth))) {
            revert IGraphOperators.GraphInvalidEvidence("tensor");
        }
        if (t.c != expected.c || t.h != expected.h || t.w != expected.w) return (true, opened);
        uint256 size = expected.th * expected.tw * expected.c;
        if (t.count == 1 && t.valuesLength != size) return (malformedTile(node, expected, t), opened);
        if (t.valuesLength != t.count * size) revert IGraphOperators.GraphInvalidEvidence("tile");
        opened.shape = expected;
        opened.node = node;
        opened.tiles = provenTiles(node, expected, t, size);
    }

    /// @dev Whether an opened edge tile holds a non-zero value past the tensor's edge. The spec
    /// fixes those cells at 0, so such a trace is wrong: otherwise a prover could make its trace
    /// root differ from every honest recomputation without any value being wrong, and push
    /// watchers into paying for reveals. Checked on the disputed tensor's opening only: a
    /// challenger shows dirty padding by disputing an element of that edge tile.
    function dirtyPadding(GraphKernels.Opened memory x) internal pure returns (bool dirty) {
        GraphEncoding.Shape memory s = x.shape;
        if (s.h % s.th == 0 && s.w % s.tw == 0) return false; // the tiles cover the tensor exactly
        unchecked {
            for (uint256 k = 0; k < x.tiles.length; ++k) {
                uint256 t = x.tiles[k] >> 128;
                uint256 rows = s.h - (t / s.cols) * s.th;
                uint256 cols = s.w - (t % s.cols) * s.tw;
                if (rows >= s.th && cols >= s.tw) continue; // an inner tile: no padding
                if (nonZeroOutside(x.tiles[k] & type(uint128).max, rows, cols, s)) return true;
            }
        }
    }

    /// @dev Any non-zero byte in the cells of a tile at row >= rows or column >= cols: per tile
    /// row, those cells are one contiguous run of bytes ((h, w, c) order), read a word at a time.
    function nonZeroOutside(uint256 start, uint256 rows, uint256 cols, GraphEncoding.Shape memory s)
        private
        pure
        returns (bool found)
    {
        uint256 th = s.th;
        uint256 rowBytes = s.tw * s.c;
        uint256 skip = cols * s.c; // bytes of real cells at the start of a row that has any
        assembly ("memory-safe") {
            for { let r := 0 } lt(r, th) { r := add(r, 1) } {
                let from := add(start, mul(r, rowBytes))
                let to := add(from, rowBytes)
                if lt(r, rows) { from := add(from, skip) }
                for { let p := from } lt(p, to) { p := add(p, 32) } {
                    let word := calldataload(p)
                    let left := sub(to, p)
                    if lt(left, 32) { word := and(word, not(shr(shl(3, left), not(0)))) }
                    if word { found := 1 }
                }
            }
        }
    }

    /// @dev Reads the packed opening's header fields, checking every length against the bytes.
    function unpack(bytes calldata packed) internal pure returns (Packed memory t) {
        uint256 start;
        uint256 end;
        assembly ("memory-safe") {
            start := packed.offset
            end := add(packed.offset, packed.length)
        }
        if (packed.length < 45) revert IGraphOperators.GraphInvalidEvidence("opening");
        t.c = readUint(start, 4);
        t.h = readUint(start + 4, 4);
        t.w = readUint(start + 8, 4);
        t.root = bytes32(readUint(start + 12, 32));
        t.traceDepth = readUint(start + 44, 1);
        t.traceProof = start + 45;
        uint256 q = t.traceProof + 32 * t.traceDepth;
        if (q + 2 > end) revert IGraphOperators.GraphInvalidEvidence("opening");
        t.count = readUint(q, 2);
        t.indices = q + 2;
        q = t.indices + 4 * t.count;
        if (q + 5 > end) revert IGraphOperators.GraphInvalidEvidence("opening");
        t.proofDepth = readUint(q, 1);
        t.valuesLength = readUint(q + 1, 4);
        t.values = q + 5;
        t.proofs = t.values + t.valuesLength;
        if (end < t.proofs || (end - t.proofs) % 32 != 0) revert IGraphOperators.GraphInvalidEvidence("opening");
        t.proofCount = (end - t.proofs) / 32;
    }

    /// @dev `width` big-endian bytes of calldata at `offset`.
    function readUint(uint256 offset, uint256 width) internal pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := shr(sub(256, shl(3, width)), calldataload(offset))
        }
    }

    /// @dev `depth` sibling hashes at a calldata offset, as a calldata array.
    function proofAt(uint256 offset, uint256 depth) internal pure returns (bytes32[] calldata proof) {
        assembly ("memory-safe") {
            proof.offset := offset
            proof.length := depth
        }
    }

    /// @dev Verifies the opened tiles (strictly increasing indices) by their multiproof, or by
    /// recomputing the root from all of them, and returns `index << 128 | calldata offset` per tile.
    function provenTiles(uint256 node, GraphEncoding.Shape memory expected, Packed memory t, uint256 size)
        internal
        pure
        returns (uint256[] memory tiles)
    {
        bytes32[] memory leaves;
        (leaves, tiles) = tileLeaves(node, t, size);
        uint256 previous;
        for (uint256 k = 0; k < tiles.length; ++k) {
            uint256 index = tiles[k] >> 128;
            if (index >= expected.tiles || (k > 0 && index <= previous)) {
                revert IGraphOperators.GraphInvalidEvidence("tile");
            }
            previous = index;
        }
        if (tiles.length == 0) return tiles; // a window that lies wholly in the padding reads nothing
        if (t.proofDepth == 0 && tiles.length == expected.tiles) {
            // Every tile, in order: the root is recomputed (cheaper than any proof).
            if (t.proofCount != 0 || rootOf(leaves) != t.root) revert IGraphOperators.GraphInvalidEvidence("tile");
            return tiles;
        }
        uint256 depth = MerkleProofs.depthFor(expected.tiles);
        if (t.proofDepth != depth) revert IGraphOperators.GraphInvalidEvidence("tile");
        bool valid = tiles.length == 1 // one tile: its ordinary proof, the cheaper walk
            ? t.proofCount == depth && MerkleProofs.verify(t.root, leaves[0], tiles[0] >> 128, proofAt(t.proofs, depth))
            : multiRoot(tiles, leaves, depth, t.proofs, t.proofCount) == t.root;
        if (!valid) revert IGraphOperators.GraphInvalidEvidence("tile");
    }

    /// @notice The root a multiproof leads to from leaves at strictly increasing indices
    /// (`tiles[k] >> 128`, hashes `leaves`, overwritten): level by level, left to right, a node's
    /// sibling is its neighbour when that is known, else the next proof hash; every proof hash must
    /// be used and one node left (mirrors `vcp_toolkit.commit.merkle.root_from_multiproof`).
    /// Returns bytes32(0), which no root is, when the proof does not fit.
    function multiRoot(uint256[] memory tiles, bytes32[] memory leaves, uint256 depth, uint256 proofs, uint256 count)
        internal
        pure
        returns (bytes32)
    {
        uint256 n = tiles.length;
        uint256[] memory index = new uint256[](n);
        for (uint256 k = 0; k < n; ++k) {
            index[k] = tiles[k] >> 128;
        }
        uint256 used;
        for (uint256 level = 0; level < depth; ++level) {
            (n, used) = _multiLevel(index, leaves, n, proofs, used, count);
            if (n == 0) return bytes32(0); // the proof ran out
        }
        return used == count && n == 1 ? leaves[0] : bytes32(0);
    }

    /// @dev One level of `multiRoot`, in place over the first `n` entries: returns the parents'
    /// count (0 when the proof runs out) and the proof hashes used so far.
    function _multiLevel(uint256[] memory index, bytes32[] memory hashes, uint256 n, uint256 proofs, uint256 used,
        uint256 count) private pure returns (uint256 w, uint256 usedAfter) {
        assembly ("memory-safe") {
            let ix := add(index, 0x20)
            let hs := add(hashes, 0x20)
            let p := mload(0x40) // 65 bytes of scratch for the node hash, not allocated
            mstore(p, shl(248, 0x01))
            for { let r := 0 } lt(r, n) { w := add(w, 1) } {
                let i := mload(add(ix, shl(5, r)))
                let h := mload(add(hs, shl(5, r)))
                let sibling := 0
                let paired := 0
                if iszero(and(i, 1)) {
                    if lt(add(r, 1), n) { paired := eq(mload(add(ix, shl(5, add(r, 1)))), add(i, 1)) }
                }
                switch paired
                case 1 {
                    sibling := mload(add(hs, shl(5, add(r, 1))))
                    r := add(r, 2)
                }
                default {
                    if eq(used, count) {
                        w := 0
                        break
                    }
                    sibling := calldataload(add(proofs, shl(5, used)))
                    used := add(used, 1)
                    r := add(r, 1)
                }
                switch and(i, 1)
                case 0 {
                    mstore(add(p, 0x01), h)
                    mstore(add(p, 0x21), sibling)
                }
                default {
                    mstore(add(p, 0x01), sibling)
                    mstore(add(p, 0x21), h)
                }
                mstore(add(hs, shl(5, w)), keccak256(p, 0x41))
                mstore(add(ix, shl(5, w)), shr(1, i))
            }
            usedAfter := used
        }
    }

    /// @dev Per opened tile: its leaf hash and `index << 128 | offset`.
    function tileLeaves(uint256 node, Packed memory t, uint256 size)
        private
        pure
        returns (bytes32[] memory leaves, uint256[] memory tiles)
    {
        uint256 count = t.count;
        uint256 indices = t.indices;
        uint256 values = t.values;
        leaves = new bytes32[](count);
        tiles = new uint256[](count);
        assembly ("memory-safe") {
            let p := mload(0x40) // scratch: 0x00 || "V" || uint16 node || uint32 index || values
            for { let k := 0 } lt(k, count) { k := add(k, 1) } {
                let index := shr(224, calldataload(add(indices, shl(2, k))))
                let src := add(values, mul(k, size))
                mstore(p, or(shl(240, 0x56), or(shl(224, and(node, 0xffff)), shl(192, index))))
                calldatacopy(add(p, 8), src, size)
                mstore(add(add(leaves, 0x20), shl(5, k)), keccak256(p, add(size, 8)))
                mstore(add(add(tiles, 0x20), shl(5, k)), or(shl(128, index), src))
            }
        }
    }

    /// @dev One committed tile whose payload is not th * tw * C bytes: wrong once proven.
    function malformedTile(uint256 node, GraphEncoding.Shape memory expected, Packed memory t)
        private
        pure
        returns (bool)
    {
        uint256 index = readUint(t.indices, 4);
        bytes calldata values;
        uint256 offset = t.values;
        uint256 length = t.valuesLength;
        assembly ("memory-safe") {
            values.offset := offset
            values.length := length
        }
        bytes32 tileLeaf = GraphEncoding.tileLeaf(node, index, values);
        uint256 depth = MerkleProofs.depthFor(expected.tiles);
        if (
            index >= expected.tiles || t.proofDepth != depth || t.proofCount != depth
                || !MerkleProofs.verify(t.root, tileLeaf, index, proofAt(t.proofs, depth))
        ) {
            revert IGraphOperators.GraphInvalidEvidence("tile");
        }
        return true;
    }

    function split(GraphEncoding.Shape memory s, uint256 element) internal pure returns (uint256 c, uint256 h, uint256 w) {
        uint256 plane = s.h * s.w;
        c = element / plane;
        h = (element % plane) / s.w;
        w = element % s.w;
    }

    /// @dev Merkle root of `leaves` padded with bytes32(0) to a power of two (MerkleProofs' rule).
    function rootOf(bytes32[] memory leaves) internal pure returns (bytes32) {
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
