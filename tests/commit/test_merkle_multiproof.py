"""merkle.multiproof / root_from_multiproof: every subset of leaves of trees of 1..40 leaves proves
the root with shared siblings (one leaf: its ordinary proof), and every tampering is refused:
a missing, extra or changed sibling, unsorted or repeated indices, an index past the tree, a
changed leaf. TensorOpenings.multiRoot mirrors it (tests/chain/test_vit_operators.py)."""

from __future__ import annotations

import os
import random

import pytest

from vcp_toolkit.commit.merkle import MerkleTree, multiproof, proof_depth, root_from_multiproof
from vcp_toolkit.errors import InvalidInput


def _tree(n: int, seed: int) -> tuple[list[bytes], MerkleTree]:
    leaves = [random.Random(seed * 1000 + k).randbytes(32) for k in range(n)]
    return leaves, MerkleTree(leaves)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 12, 17, 33, 40])
def test_any_subset_proves_the_root(n):
    leaves, tree = _tree(n, n)
    rng = random.Random(n)
    for _ in range(30):
        chosen = sorted(rng.sample(range(n), rng.randint(1, n)))
        siblings = multiproof(tree, chosen)
        assert root_from_multiproof([(i, leaves[i]) for i in chosen], siblings, proof_depth(n)) == tree.root
        if len(chosen) == 1:
            assert siblings == tree.proof(chosen[0]).siblings
        assert len(siblings) <= len(chosen) * proof_depth(n)


def test_side_by_side_leaves_share_their_path():
    leaves, tree = _tree(48, 1)
    row = list(range(16, 32))  # an aligned block of 16 in a 64-leaf tree: two siblings
    assert len(multiproof(tree, row)) == 2


def test_tampering_is_refused():
    leaves, tree = _tree(20, 2)
    chosen = [3, 4, 9, 15]
    siblings = multiproof(tree, chosen)
    depth = proof_depth(20)
    good = [(i, leaves[i]) for i in chosen]
    assert root_from_multiproof(good, siblings, depth) == tree.root
    bad_cases = [
        (good, siblings[:-1]), (good, siblings + (os.urandom(32),)),
        (good, (os.urandom(32),) + siblings[1:]), (good[::-1], siblings),
        (good + [good[-1]], siblings), ([(3, leaves[3]), (40, leaves[4])], siblings),
        ([(3, os.urandom(32))] + good[1:], siblings), ([], siblings),
    ]
    for leaf_list, proof in bad_cases:
        assert root_from_multiproof(leaf_list, proof, depth) != tree.root


def test_leaves_outside_the_tree_are_refused():
    _, tree = _tree(5, 3)
    for bad in ([5], [-1], []):
        with pytest.raises(InvalidInput):
            multiproof(tree, bad)
