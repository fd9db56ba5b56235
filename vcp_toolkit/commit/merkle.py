"""keccak256 Merkle trees with domain-separated leaves and nodes and indexed proofs.

Leaves are padded to the next power of two with ZERO_HASH (no leaf payload hashes to it). A
proof is the list of sibling hashes from the leaf upwards; bit ``k`` of the leaf's index says
whether the running hash is the right (1) or left (0) child at height ``k``. A proof is valid
only if every index bit is consumed, so an index outside the tree is rejected, and only if it has
exactly ``proof_depth(leaf_count)`` siblings, so a tree of ``leaf_count`` leaves fixes one leaf per
index (a shorter or longer proof could otherwise pass an inner node or a deeper subtree's leaf off
as a leaf of this tree).
"""

from __future__ import annotations

from dataclasses import dataclass

from vcp_toolkit.commit.encoding import ZERO_HASH, node_hash
from vcp_toolkit.errors import InvalidInput


@dataclass(frozen=True)
class MerkleProof:
    index: int
    siblings: tuple[bytes, ...]


class MerkleTree:
    """All levels of a tree over the given leaf hashes, for a root and proofs of any leaf."""

    def __init__(self, leaves: list[bytes]) -> None:
        if not leaves:
            raise InvalidInput("a Merkle tree needs at least one leaf")
        size = 1
        while size < len(leaves):
            size *= 2
        level = list(leaves) + [ZERO_HASH] * (size - len(leaves))
        self.leaf_count = len(leaves)
        self.levels = [level]
        while len(level) > 1:
            level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
            self.levels.append(level)

    @property
    def root(self) -> bytes:
        return self.levels[-1][0]

    def proof(self, index: int) -> MerkleProof:
        if not 0 <= index < self.leaf_count:
            raise InvalidInput(f"leaf {index} outside 0..{self.leaf_count - 1}")
        siblings = []
        i = index
        for level in self.levels[:-1]:
            siblings.append(level[i ^ 1])
            i //= 2
        return MerkleProof(index=index, siblings=tuple(siblings))


def merkle_root(leaves: list[bytes]) -> bytes:
    return MerkleTree(leaves).root


def root_from_proof(leaf: bytes, proof: MerkleProof) -> bytes | None:
    """The root a proof leads to, or None when the index has bits left over."""
    h, i = leaf, proof.index
    for sibling in proof.siblings:
        h = node_hash(sibling, h) if i & 1 else node_hash(h, sibling)
        i >>= 1
    return h if i == 0 else None


def proof_depth(leaf_count: int) -> int:
    """The number of siblings in every proof of a tree of ``leaf_count`` leaves: ceil(log2(count)),
    0 for one leaf."""
    if leaf_count < 1:
        raise InvalidInput("a Merkle tree needs at least one leaf")
    return (leaf_count - 1).bit_length()


def multiproof(tree: MerkleTree, indices: list[int]) -> tuple[bytes, ...]:
    """The siblings that prove the leaves ``indices`` together: level by level from the leaves up,
    left to right, each node's sibling unless that sibling is itself known (opened, or computed
    from opened leaves). One leaf gives its ordinary proof; leaves side by side share their path."""
    nodes = sorted(set(indices))
    if not nodes or not all(0 <= i < tree.leaf_count for i in nodes):
        raise InvalidInput(f"leaves {indices} outside 0..{tree.leaf_count - 1}")
    siblings = []
    for level in tree.levels[:-1]:
        known = set(nodes)
        siblings += [level[i ^ 1] for i in nodes if i ^ 1 not in known]
        nodes = sorted({i >> 1 for i in nodes})
    return tuple(siblings)


def root_from_multiproof(leaves: list[tuple[int, bytes]], siblings: tuple[bytes, ...], depth: int) -> bytes | None:
    """The root ``multiproof`` siblings lead to from (index, hash) ``leaves`` in a tree of ``depth``
    levels; None unless the indices strictly increase, fit the tree, and every sibling is used."""
    nodes = list(leaves)
    if not nodes or any(b[0] <= a[0] for a, b in zip(nodes, nodes[1:])) or nodes[-1][0] >= 1 << depth:
        return None
    used = 0
    for _ in range(depth):
        parents, j = [], 0
        while j < len(nodes):
            i, h = nodes[j]
            if i % 2 == 0 and j + 1 < len(nodes) and nodes[j + 1][0] == i + 1:
                parents.append((i >> 1, node_hash(h, nodes[j + 1][1])))
                j += 2
                continue
            if used == len(siblings):
                return None
            s = siblings[used]
            used += 1
            parents.append((i >> 1, node_hash(s, h) if i & 1 else node_hash(h, s)))
            j += 1
        nodes = parents
    return nodes[0][1] if used == len(siblings) and len(nodes) == 1 else None


def verify_proof(root: bytes, leaf: bytes, proof: MerkleProof, leaf_count: int) -> bool:
    """Leaf ``proof.index`` of the tree of ``leaf_count`` leaves with this root is ``leaf``."""
    if leaf_count < 1 or not 0 <= proof.index < leaf_count or len(proof.siblings) != proof_depth(leaf_count):
        return False
    return root_from_proof(leaf, proof) == root
