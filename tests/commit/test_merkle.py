"""keccak256 Merkle trees (vcp.commit.merkle) and the model / trace commitments built on them."""

from __future__ import annotations

import numpy as np
import pytest
from eth_utils import keccak

from vcp_toolkit.commit.commitments import (
    ModelCommitment,
    input_commitment,
    output_commitment,
    trace_leaves,
    trace_root,
    trace_tree,
)
from vcp_toolkit.errors import InvalidInput
from vcp_toolkit.model.datasets import load_digits_split
from vcp_toolkit.commit.encoding import (
    DOMAIN_LEAF,
    DOMAIN_NODE,
    ZERO_HASH,
    activation_payload,
    header_payload,
    leaf_hash,
    node_hash,
)
from vcp_toolkit.commit.merkle import MerkleProof, MerkleTree, merkle_root, root_from_proof, verify_proof


def leaves(n: int) -> list[bytes]:
    return [leaf_hash(b"payload-" + str(i).encode()) for i in range(n)]


def depth_of(n: int) -> int:
    return max(0, (n - 1).bit_length())


def naive_root(hashes: list[bytes]) -> bytes:
    """The padding rule written out: pad to a power of two with ZERO_HASH, hash pairs upwards."""
    size = 1 << depth_of(len(hashes))
    level = hashes + [ZERO_HASH] * (size - len(hashes))
    while len(level) > 1:
        level = [keccak(DOMAIN_NODE + level[i] + level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def test_hash_domains():
    assert leaf_hash(b"abc") == keccak(DOMAIN_LEAF + b"abc")
    assert node_hash(b"\x01" * 32, b"\x02" * 32) == keccak(DOMAIN_NODE + b"\x01" * 32 + b"\x02" * 32)
    # a leaf over 64 bytes is not the node over the same 64 bytes (second-preimage separation)
    a, b = b"\x11" * 32, b"\x22" * 32
    assert leaf_hash(a + b) != node_hash(a, b)


@pytest.mark.parametrize("n", range(1, 18))
def test_every_leaf_proof_verifies(n):
    hs = leaves(n)
    tree = MerkleTree(hs)
    assert tree.leaf_count == n
    assert tree.root == merkle_root(hs) == naive_root(hs)
    for i, h in enumerate(hs):
        proof = tree.proof(i)
        assert proof.index == i
        assert len(proof.siblings) == depth_of(n)
        assert root_from_proof(h, proof) == tree.root
        assert verify_proof(tree.root, h, proof, n)


def test_one_leaf_tree_root_is_the_leaf():
    h = leaf_hash(b"only")
    tree = MerkleTree([h])
    assert tree.root == h
    assert tree.proof(0) == MerkleProof(0, ())
    assert verify_proof(h, h, MerkleProof(0, ()), 1)
    assert not verify_proof(h, h, MerkleProof(1, ()), 1)


def test_padding_rule():
    a, b, c = leaves(3)
    assert merkle_root([a, b]) == node_hash(a, b)
    assert merkle_root([a, b, c]) == node_hash(node_hash(a, b), node_hash(c, ZERO_HASH))
    five = leaves(5)
    padded = five + [ZERO_HASH] * 3
    assert merkle_root(five) == merkle_root(padded)  # padding is ZERO_HASH leaves ...
    assert MerkleTree(five).leaf_count == 5  # ... but they are not provable leaves
    with pytest.raises(InvalidInput):
        MerkleTree(five).proof(5)
    with pytest.raises(InvalidInput):
        MerkleTree(five).proof(-1)
    assert merkle_root(leaves(4)) != merkle_root(leaves(4)[:3])  # a dropped leaf changes the root
    with pytest.raises(ValueError):
        MerkleTree([])


@pytest.mark.parametrize("n", [2, 3, 4, 5, 8, 13, 17])
def test_forged_proofs_rejected(n):
    hs = leaves(n)
    tree = MerkleTree(hs)
    depth = depth_of(n)
    for i, h in enumerate(hs):
        good = tree.proof(i)
        # another leaf's hash
        assert not verify_proof(tree.root, hs[(i + 1) % n], good, n)
        # each sibling changed
        for k in range(depth):
            sib = list(good.siblings)
            sib[k] = bytes([sib[k][0] ^ 1]) + sib[k][1:]
            assert not verify_proof(tree.root, h, MerkleProof(i, tuple(sib)), n)
        # each index bit flipped (unless it happens to land on a leaf with the same hash: never here)
        for k in range(depth):
            assert not verify_proof(tree.root, h, MerkleProof(i ^ (1 << k), good.siblings), n)
        # index outside the tree: the extra bits are not consumed
        for extra in (1 << depth, 1 << (depth + 5), 2**256):
            assert root_from_proof(h, MerkleProof(i + extra, good.siblings)) is None
            assert not verify_proof(tree.root, h, MerkleProof(i + extra, good.siblings), n)
        assert not verify_proof(tree.root, h, MerkleProof(-1 - i, good.siblings), n)
        # truncated and extended proofs
        assert not verify_proof(tree.root, h, MerkleProof(i, good.siblings[:-1]), n)
        assert not verify_proof(tree.root, h, MerkleProof(i, good.siblings + (ZERO_HASH,)), n)
        assert not verify_proof(tree.root, h, MerkleProof(i, good.siblings + (tree.root,)), n)
        assert not verify_proof(tree.root, h, MerkleProof(i, ()), n)


@pytest.mark.parametrize("n", [2, 4, 5, 8, 16])
def test_second_preimage_node_as_leaf(n):
    """An inner node presented as a leaf: with the proof of a real leaf it is rejected, and a
    'leaf' whose payload is the 64 bytes of the two children does not hash to the node."""
    payloads = [b"payload-" + str(i).encode() for i in range(n)]
    hs = [leaf_hash(p) for p in payloads]
    tree = MerkleTree(hs)
    inner = node_hash(hs[0], hs[1])
    assert inner == tree.levels[1][0]
    proof0 = tree.proof(0)
    assert not verify_proof(tree.root, inner, proof0, n)
    assert not verify_proof(tree.root, inner, MerkleProof(1, proof0.siblings), n)
    # The short proof from level 1 only works for someone who can present the node itself as a
    # leaf hash; a leaf is always leaf_hash(payload), and payload = left || right does not get there.
    short = MerkleProof(0, proof0.siblings[1:])
    assert not verify_proof(tree.root, leaf_hash(hs[0] + hs[1]), short, n)
    assert not verify_proof(tree.root, leaf_hash(DOMAIN_NODE + hs[0] + hs[1]), short, n)
    assert not verify_proof(tree.root, leaf_hash(hs[0] + hs[1]), proof0, n)


def test_zero_hash_is_not_a_leaf_hash():
    # the padding value is not the hash of an empty or zero payload
    for payload in (b"", b"\x00", b"\x00" * 32, b"\x00" * 64):
        assert leaf_hash(payload) != ZERO_HASH


# ---------------------------------------------------------------- model commitment


def test_every_neuron_proof_verifies(model, model_commitment):
    root = model_commitment.root
    assert len(model_commitment.payloads) == 1 + model.neuron_count
    seen = set()
    for li, dense in enumerate(model.layers):
        for row in range(dense.out_width):
            index = model_commitment.neuron_index(li, row)
            assert index not in seen
            seen.add(index)
            payload, proof = model_commitment.neuron_proof(li, row)
            assert proof.index == index
            assert payload[:1] == b"N"
            assert int.from_bytes(payload[1:3], "big") == li
            assert int.from_bytes(payload[3:7], "big") == row
            assert payload[-dense.in_width:] == dense.weight[row].tobytes()
            assert verify_proof(root, leaf_hash(payload), proof, len(model_commitment.payloads))
            # a neuron's payload under another neuron's proof is rejected
            other = model_commitment.neuron_index(li, (row + 1) % dense.out_width)
            if other != index:
                assert not verify_proof(root, leaf_hash(payload), model_commitment.tree.proof(other), len(model_commitment.payloads))
    assert seen == set(range(1, 1 + model.neuron_count))
    header, proof = model_commitment.header_proof()
    assert proof.index == 0
    assert verify_proof(root, leaf_hash(header), proof, len(model_commitment.payloads))
    assert header[:1] == b"H"
    assert header[:15] == header_payload(len(model.layers), model.input_width, model.output_width,
                                         model.neuron_count, b"\x00" * 32)[:15]


def test_neuron_index_bounds(model, model_commitment):
    assert model_commitment.neuron_index(0, 0) == 1
    assert model_commitment.neuron_index(1, 0) == 1 + model.layers[0].out_width
    for layer, row in [(-1, 0), (0, -1), (0, model.layers[0].out_width), (len(model.layers), 0),
                       (1, model.layers[1].out_width)]:
        with pytest.raises(InvalidInput):
            model_commitment.neuron_index(layer, row)


def test_model_root_binds_every_parameter(model, model_commitment):
    import dataclasses

    from vcp_toolkit.model.fixedpoint import Activation
    from vcp_toolkit.model.quantize import QuantizedModel

    def changed(layer_index, **arrays):
        layers = list(model.layers)
        layers[layer_index] = dataclasses.replace(layers[layer_index], **arrays)
        return ModelCommitment(dataclasses.replace(model, layers=tuple(layers))).root

    l0 = model.layers[0]
    w = l0.weight.copy()
    w[3, 7] = w[3, 7] + 1 if w[3, 7] < 127 else 126
    b = l0.bias.copy()
    b[0] += 1
    m = l0.multiplier.copy()
    m[5] = m[5] - 1
    s = l0.shift.copy()
    s[2] = s[2] + 1 if s[2] < 62 else 61
    roots = {
        model_commitment.root,
        changed(0, weight=w), changed(0, bias=b), changed(0, multiplier=m), changed(0, shift=s),
        changed(1, activation=Activation(1 - int(model.layers[1].activation))),
        ModelCommitment(dataclasses.replace(model, name=model.name + "x")).root,
        ModelCommitment(dataclasses.replace(model, metadata={**model.metadata, "x": 1})).root,
        ModelCommitment(dataclasses.replace(model, input_scale=model.input_scale * 2)).root,
        ModelCommitment(QuantizedModel(model.name, model.layers, model.input_scale, model.output_scale * 2,
                                       model.metadata)).root,
    }
    assert len(roots) == 10
    assert ModelCommitment(model).root == model_commitment.root  # and it is deterministic


# ---------------------------------------------------------------- trace commitment


def demo_trace(model):
    x = model.quantize_input(load_digits_split().x_test[0])
    return [v[0] for v in model.trace(x)]


def test_trace_root_changes_with_any_activation_byte(model):
    trace = demo_trace(model)
    root = trace_root(trace)
    assert root == trace_tree(trace).root == merkle_root(trace_leaves(trace))
    assert trace_leaves(trace)[0] == leaf_hash(activation_payload(0, trace[0]))
    roots = {root}
    count = 0
    for li, vec in enumerate(trace):
        for j in range(len(vec)):
            for new in {int(vec[j]) ^ 1, -128 if vec[j] != -128 else 127}:
                forged = [v.copy() for v in trace]
                forged[li][j] = new
                r = trace_root(forged)
                assert r != root, (li, j)
                roots.add(r)
                count += 1
    assert len(roots) == count + 1  # all different from each other too


def test_trace_root_binds_layer_order_and_length(model):
    trace = demo_trace(model)
    root = trace_root(trace)
    assert trace_root(trace[:-1]) != root
    assert trace_root(trace + [trace[-1]]) != root
    swapped = [trace[0], trace[2], trace[1]]
    assert trace_root(swapped) != root
    # the same bytes split differently between vectors are a different trace
    glued = [trace[0], np.concatenate([trace[1], trace[2]])]
    assert trace_root(glued) != root


def test_input_output_commitments(model):
    trace = demo_trace(model)
    salt = b"\x07" * 32
    assert input_commitment(salt, trace[0]) != output_commitment(salt, trace[0])
    assert input_commitment(salt, trace[0]) != input_commitment(b"\x08" * 32, trace[0])
    forged = trace[-1].copy()
    forged[0] ^= 1
    assert output_commitment(salt, trace[-1]) != output_commitment(salt, forged)
    assert output_commitment(salt, trace[-1]) == keccak(b"\x03" + salt + len(trace[-1]).to_bytes(4, "big")
                                                        + trace[-1].tobytes())
    with pytest.raises(ValueError):
        input_commitment(b"\x00" * 31, trace[0])
