"""GraphOperators.sol (GraphKernels, GraphEncoding) against the numpy kernels of vcp_toolkit.model.graph,
bit for bit: for random operators of every kind and geometry (kernel, stride, padding borders,
depthwise, count_include_pad, saturating requantization), every checked element of an honest trace
is judged right, and the same element moved by one step is judged wrong. The numpy kernels are
held to the plain-Python references in tests/model/graph/test_graph_ops.py."""

from __future__ import annotations

import numpy as np
import pytest
from graphworld import context, nudged, per_sample_trace

from vcp_toolkit.chain import reverts as r
from vcp_toolkit.chain.graph_evidence import input_evidence, operator_evidence, output_evidence
from vcp_toolkit.chain.optimistic import deploy_graph_operators
from vcp_toolkit.chain.tx import Sender
from vcp_toolkit.commit.graph_commitments import GraphModelCommitment, GraphTraceCommitment
from vcp_toolkit.commit.graph_encoding import tiles_of
from vcp_toolkit.contracts import load_artifact
from vcp_toolkit.model.fixedpoint import MULTIPLIER_MAX
from vcp_toolkit.model.graph import (Add, AvgPool, Clamp, Conv2D, Dense, Flatten, GlobalAvgPool, IntGraph, IntNode,
                                     MaxPool)

pytestmark = pytest.mark.chain
CASES_PER_KIND = 12
ELEMENTS_PER_CASE = 6


@pytest.fixture(scope="module")
def operators(request):
    from vcp_toolkit.chain.nodes import open_chain

    with open_chain("embedded") as chain:
        sender = Sender(chain)
        sender.ensure_funded()
        address = deploy_graph_operators(sender).contract_address
        yield chain.w3.eth.contract(address=address, abi=load_artifact("GraphOperators")["abi"])


def _rescale(rng, n):
    return (rng.integers(1, MULTIPLIER_MAX + 1, n, dtype=np.int64),
            rng.integers(20, 40, n, dtype=np.int64))


def _conv(rng, c, depthwise):
    k = (int(rng.integers(1, 6)), int(rng.integers(1, 6)))
    out = c * int(rng.integers(1, 3)) if depthwise else int(rng.integers(1, 7))
    weight = rng.integers(-128, 128, (out, 1 if depthwise else c, *k)).astype(np.int8)
    pads = tuple(int(rng.integers(0, min(k) + 1)) for _ in range(4))
    lo, hi = sorted(int(v) for v in rng.integers(-128, 128, 2)) if rng.random() < 0.3 else (-128, 127)
    return Conv2D(weight, rng.integers(-2**20, 2**20, out, dtype=np.int64), *_rescale(rng, out),
                  stride=(int(rng.integers(1, 4)), int(rng.integers(1, 4))), pads=pads,
                  groups=c if depthwise else 1, lo=lo, hi=hi)


def _pool(rng, cls):
    k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    pads = tuple(int(rng.integers(0, kk)) for kk in (k[0], k[1], k[0], k[1]))
    extra = {"count_include_pad": bool(rng.random() < 0.5)} if cls is AvgPool else {}
    return cls(k, (int(rng.integers(1, 3)), int(rng.integers(1, 3))), pads, **extra)


def random_graph(rng, kind: str) -> IntGraph:
    """A one- or two-node graph around one operator of ``kind`` on a random (C, H, W) input."""
    c, h, w = int(rng.integers(1, 9)), int(rng.integers(5, 13)), int(rng.integers(5, 13))
    ops = {"conv": lambda: _conv(rng, c, False), "depthwise": lambda: _conv(rng, c, True),
           "maxpool": lambda: _pool(rng, MaxPool), "avgpool": lambda: _pool(rng, AvgPool),
           "gap": GlobalAvgPool, "clamp": lambda: Clamp(*sorted(int(v) for v in rng.integers(-128, 128, 2))),
           "flatten": Flatten}
    if kind == "add":
        ma, mb = (int(v) for v in rng.integers(1, MULTIPLIER_MAX + 1, 2))
        nodes = (IntNode("a", Clamp(-100, 127), ("input",), 1.0),
                 IntNode("add", Add(ma, mb, int(rng.integers(28, 34)), -128, 127), ("input", "a"), 1.0))
    elif kind == "dense":
        out = int(rng.integers(1, 20))
        dense = Dense(rng.integers(-128, 128, (out, c * h * w)).astype(np.int8),
                      rng.integers(-2**20, 2**20, out, dtype=np.int64), *_rescale(rng, out), lo=0)
        nodes = (IntNode("flat", Flatten(), ("input",), 1.0), IntNode("dense", dense, ("flat",), 1.0))
    else:
        nodes = (IntNode(kind, ops[kind](), ("input",), 1.0),)
    return IntGraph((c, h, w), 1.0, nodes)


def _judge(operators, graph, trace, node, element):
    model = GraphModelCommitment(graph)
    commitment = GraphTraceCommitment.of(trace, model.shapes)
    evidence = operator_evidence(model, commitment, node, element)
    return operators.functions.check(context(model, commitment), *evidence.abi_args()).call()


@pytest.mark.parametrize("kind", ["conv", "depthwise", "maxpool", "avgpool", "gap", "add", "dense", "flatten",
                                  "clamp"])
def test_every_operator_matches_numpy_bit_for_bit(operators, kind):
    rng = np.random.default_rng(sum(map(ord, kind)))
    checked = 0
    for _ in range(CASES_PER_KIND):
        graph = random_graph(rng, kind)
        x = rng.integers(-128, 128, graph.input_shape).astype(np.int8)
        trace = per_sample_trace(graph, x)
        node = len(graph.nodes)
        size = trace[node].size
        # The corners and random cells: padding borders and stride edges included.
        for element in sorted({0, size - 1, *rng.integers(0, size, ELEMENTS_PER_CASE - 2).tolist()}):
            assert _judge(operators, graph, trace, node, element) == [False, node], (kind, element)
            assert _judge(operators, graph, nudged(trace, node, element), node, element) == [True, node]
            checked += 1
    assert checked >= CASES_PER_KIND * 2


def test_saturation_and_negative_rounding_agree(operators):
    """Requantization at both clamps and averages of negative sums (round half up, floor)."""
    rng = np.random.default_rng(5)
    w = np.full((2, 1, 2, 2), 127, dtype=np.int8)
    conv = Conv2D(w, np.array([2**31 - 1, -2**31], dtype=np.int64), np.array([MULTIPLIER_MAX] * 2, dtype=np.int64),
                  np.array([1, 1], dtype=np.int64))
    for op, x in [(conv, np.full((1, 3, 3), -128, np.int8)), (conv, np.full((1, 3, 3), 127, np.int8)),
                  (AvgPool((2, 2), (1, 1)), np.array([[[-1, -2, -3], [-2, -1, -4], [-5, -3, -1]]], np.int8)),
                  (GlobalAvgPool(), rng.integers(-128, 0, (2, 3, 3)).astype(np.int8))]:
        graph = IntGraph(x.shape, 1.0, (IntNode("op", op, ("input",), 1.0),))
        trace = per_sample_trace(graph, x)
        for element in range(trace[1].size):
            assert _judge(operators, graph, trace, 1, element) == [False, 1]


def test_input_and_output_links(operators):
    rng = np.random.default_rng(9)
    graph = random_graph(rng, "conv")
    x = rng.integers(-128, 128, graph.input_shape).astype(np.int8)
    trace = per_sample_trace(graph, x)
    model = GraphModelCommitment(graph)
    salt_in, salt_out = b"\x01" * 32, b"\x02" * 32
    from vcp_toolkit.commit.graph_commitments import graph_input_commitment, graph_output_commitment

    ic, oc = graph_input_commitment(salt_in, x), graph_output_commitment(salt_out, trace[-1])
    for bad in (False, True):
        used = nudged(trace, 0, 7) if bad else trace
        tc = GraphTraceCommitment.of(used, model.shapes)
        ev = input_evidence(model, tc, 7, x, salt_in)
        assert operators.functions.check(context(model, tc, ic, oc), *ev.abi_args()).call() == [bad, 0]
        used = nudged(trace, 1, 3) if bad else trace
        tc = GraphTraceCommitment.of(used, model.shapes)
        ev = output_evidence(model, tc, 3, trace[-1], salt_out)
        assert operators.functions.check(context(model, tc, ic, oc), *ev.abi_args()).call() == [bad, 1]


def _revert(fn):
    with pytest.raises(Exception) as info:
        fn.call()
    return r.decode_revert(r.revert_data_from(info.value))


def test_forged_evidence_reverts_with_a_named_reason(operators):
    rng = np.random.default_rng(11)
    graph = random_graph(rng, "conv")
    trace = per_sample_trace(graph, rng.integers(-128, 128, graph.input_shape).astype(np.int8))
    model = GraphModelCommitment(graph)
    tc = GraphTraceCommitment.of(trace, model.shapes)
    from vcp_toolkit.commit.graph_receptive import receptive_tiles

    element = next(e for e in range(trace[1].size) if receptive_tiles(model.node_fields[0], e)[0])
    ev = operator_evidence(model, tc, 1, element)
    (target, element, leaf, proof, ch_leaf, ch_proof, ins, out, plain, salt), = ev.abi_args()
    flipped = ch_leaf[:-1] + bytes([ch_leaf[-1] ^ 1])
    forged = [
        ("node", (target, element, leaf[:-1] + b"\x01", proof, ch_leaf, ch_proof, ins, out, plain, salt)),
        ("channel", (target, element, leaf, proof, flipped, ch_proof, ins, out, plain, salt)),
        ("tensor", (target, element, leaf, proof, ch_leaf, ch_proof, [ins[0][:12] + b"\x07" * 32 + ins[0][44:]],
                    out, plain, salt)),
        ("opening", (target, element, leaf, proof, ch_leaf, ch_proof, [ins[0][:-1]], out, plain, salt)),
        ("element", (target, 10**9, leaf, proof, ch_leaf, ch_proof, ins, out, plain, salt)),
        ("inputs", (target, element, leaf, proof, ch_leaf, ch_proof, ins * 2, out, plain, salt)),
    ]
    for reason, args in forged:
        error = _revert(operators.functions.check(context(model, tc), args))
        assert isinstance(error, r.GraphInvalidEvidence) and error.error_args == (reason,), (reason, error)
    trace_end = 45 + 32 * ins[0][44]
    bare = (target, element, leaf, proof, ch_leaf, ch_proof, [ins[0][:trace_end] + bytes(7)], out, plain, salt)
    error = _revert(operators.functions.check(context(model, tc), bare))
    assert isinstance(error, r.GraphMissingTile) and error.error_args[0] == 0


def test_reveal_commitments_match_python(operators):
    rng = np.random.default_rng(13)
    graph = random_graph(rng, "maxpool")
    x = rng.integers(-128, 128, graph.input_shape).astype(np.int8)
    trace = per_sample_trace(graph, x)
    model = GraphModelCommitment(graph)
    tc = GraphTraceCommitment.of(trace, model.shapes)
    from vcp_toolkit.commit.graph_commitments import graph_input_commitment, graph_output_commitment

    root, ic, oc = operators.functions.revealedCommitments(tc.reveal_payload(), b"\x05" * 32, b"\x06" * 32).call()
    assert (bytes(root), bytes(ic), bytes(oc)) == (tc.root, graph_input_commitment(b"\x05" * 32, x),
                                                   graph_output_commitment(b"\x06" * 32, trace[-1]))
    assert b"".join(tiles_of(trace[0], model.shapes[0]))  # non-empty payload


def test_a_non_zero_cell_past_the_tensors_edge_is_wrong(operators):
    """Cells of an edge tile past the tensor are 0 by the spec: a trace with anything else there is
    wrong even though every value is right (its root would otherwise match no honest recomputation)."""
    x = np.random.default_rng(17).integers(-128, 128, (6, 10, 10)).astype(np.int8)
    graph = IntGraph(x.shape, 1.0, (IntNode("clamp", Clamp(-100, 100), ("input",), 1.0),))
    trace = per_sample_trace(graph, x)
    model = GraphModelCommitment(graph)
    element = 9 * 10 + 9  # channel 0, the bottom-right cell: in the last tile, which has padding rows
    for dirty in (False, True):
        committed = GraphTraceCommitment.of(trace, model.shapes)
        if dirty:
            tiles = committed.tile_bytes[1]  # built before the trees, which then hash the changed tile
            last = bytearray(tiles[-1])
            th, tw = model.shapes[1].tile
            last[((th - 1) * tw) * model.shapes[1].c] = 1  # the tile's last row lies past row 9
            tiles[-1] = bytes(last)
        evidence = operator_evidence(model, committed, 1, element)
        assert operators.functions.check(context(model, committed), *evidence.abi_args()).call() == [dirty, 1]
