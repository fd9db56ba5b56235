"""GraphEncoding.sol agrees with vcp_toolkit.commit.graph_encoding byte for byte: on the shared
vectors (tests/vectors/graph.json) and on a few hundred random fields, through
contracts/test/GraphHarness.sol (leaf hashes, tile and tensor leaves, the tile rule, locate, and
the header, node and channel readers, which refuse a wrong kind byte or length). GraphOperators
also reproduces the vectors' reveal commitments, parses their header and judges every vector
opening honest."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vcp_toolkit.chain.nodes import open_chain
from vcp_toolkit.chain.optimistic import deploy_graph_operators
from vcp_toolkit.chain.tx import Sender
from vcp_toolkit.commit.encoding import leaf_hash
from vcp_toolkit.commit.graph_encoding import (KIND_CHANNEL, KIND_GRAPH, KIND_NODE, NODE_PAYLOAD_BYTES, NodeFields,
                                               Shape, channel_payload, graph_header_payload, node_payload,
                                               tensor_payload, tile_of_element, tile_payload)
from vcp_toolkit.contracts import load_artifact

pytestmark = pytest.mark.chain

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "graph.json").read_text())
RANDOM = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                         HealthCheck.function_scoped_fixture])
U32 = 2**32 - 1


def unhex(text: str) -> bytes:
    return bytes.fromhex(text[2:])


@pytest.fixture(scope="module")
def deployed():
    with open_chain("embedded") as chain:
        sender = Sender(chain)
        sender.ensure_funded()
        art = load_artifact("test/GraphHarness")
        harness = sender.transact(to=None, data=bytes.fromhex(art["bytecode"][2:]), action="deploying GraphHarness")
        operators = deploy_graph_operators(sender).contract_address
        yield (chain.w3.eth.contract(address=harness.contract_address, abi=art["abi"]).functions,
               chain.w3.eth.contract(address=operators, abi=load_artifact("GraphOperators")["abi"]).functions)


@pytest.fixture(scope="module")
def h(deployed):
    return deployed[0]


@pytest.fixture(scope="module")
def operators(deployed):
    return deployed[1]


def geometry(shape: Shape) -> tuple:
    """GraphEncoding.Shape as the harness returns it."""
    th, tw = shape.tile
    return (shape.c, shape.h, shape.w, th, tw, shape.tile_grid[1], shape.tile_count)


def node_tuple(f: NodeFields) -> tuple:
    """GraphEncoding.Node as readNode returns it for the fields ``f`` (padBottom/padRight are not read)."""
    return (f.node, f.kind, *f.inputs, geometry(f.in_shape), geometry(f.out_shape), *f.kernel, *f.stride,
            f.pads[0], f.pads[1], f.groups, f.lo, f.hi, f.count_include_pad, *f.multipliers, f.shift, f.leaf_index,
            f.channels)


# --------------------------------------------------------------------------------------------
# the shared vectors


def all_tensors() -> list[dict]:
    return VECTORS["trace"]["tensors"] + VECTORS["tile_rule"]


def test_vector_leaves(h):
    for leaf in VECTORS["model"]["leaves"]:
        assert h.leafHash(unhex(leaf["payload"])).call() == unhex(leaf["leaf"]), leaf["index"]
    for t in all_tensors():
        for index, tile in enumerate(t["tiles"]):
            payload = unhex(tile["payload"])
            assert h.tileLeaf(t["node"], index, payload[7:]).call() == unhex(tile["leaf"]), (t["shape"], index)
            assert h.leafHash(payload).call() == unhex(tile["leaf"])
        assert h.tensorLeaf(t["node"], *t["shape"], unhex(t["root"])).call() == unhex(t["tensor_leaf"]), t["shape"]


def test_vector_tile_rule_and_locate(h):
    for t in all_tensors():
        c, height, width = t["shape"]
        want = (c, height, width, *t["tile"], t["grid"][1], t["tile_count"])
        assert tuple(h.shape(c, height, width).call()) == want, t["shape"]
        assert min(t["side"], height) == t["tile"][0] and min(t["side"], width) == t["tile"][1]
        for loc in t.get("locate", []):
            assert h.locate(t["shape"], *loc["chw"]).call() == [loc["tile"], loc["offset"]], (t["shape"], loc)


def test_vector_header_nodes_and_channels(h):
    leaves, graph = VECTORS["model"]["leaves"], VECTORS["graph"]
    ok, nodes, shape, count, trace_bytes = h.readHeader(unhex(leaves[0]["payload"])).call()
    sizes = sum(int(np.prod(t["shape"])) for t in VECTORS["trace"]["tensors"])
    assert (ok, nodes, count, trace_bytes) == (True, len(graph["nodes"]), VECTORS["model"]["leaf_count"], sizes)
    assert tuple(shape) == geometry(Shape(*graph["input_shape"]))
    for f in VECTORS["model"]["nodes"]:
        ok, node = h.readNode(unhex(leaves[f["leaf_index"]]["payload"])).call()
        fields = NodeFields(**{**f, "inputs": tuple(f["inputs"]), "in_shape": Shape(*f["in_shape"]),
                                 "out_shape": Shape(*f["out_shape"]), "kernel": tuple(f["kernel"]),
                                 "stride": tuple(f["stride"]), "pads": tuple(f["pads"]),
                                 "multipliers": tuple(f["multipliers"])})
        assert ok and _plain(node) == node_tuple(fields), f["node"]
        op = graph["nodes"][f["node"] - 1]["op"]
        for channel in range(f["channels"]):
            payload = unhex(leaves[f["leaf_index"] + 1 + channel]["payload"])
            ok, k = h.readChannel(payload).call()
            want = (f["node"], channel, op["bias"][channel], op["multiplier"][channel], op["shift"][channel])
            assert ok and tuple(k) == want, (f["node"], channel)
            assert payload[16:] == np.asarray(_leaf_weights(op, channel), dtype=np.int8).tobytes()


def _leaf_weights(op: dict, channel: int) -> np.ndarray:
    """A channel's weights in leaf order: conv (KH, KW, C/groups), dense the row."""
    w = np.asarray(op["weight"][channel])
    return w.transpose(1, 2, 0).ravel() if op["kind"] == "conv" else w


def _plain(value):
    """Nested web3 tuples/lists as plain tuples."""
    return tuple(_plain(v) for v in value) if isinstance(value, (list, tuple)) else value


def test_operators_reproduce_reveal_header_and_openings(operators):
    r, model = VECTORS["reveal"], VECTORS["model"]
    got = operators.revealedCommitments([unhex(p) for p in r["payload"]], unhex(r["input_salt"]),
                                        unhex(r["output_salt"])).call()
    assert got == [unhex(r["trace_root"]), unhex(r["input_commitment"]), unhex(r["output_commitment"])]
    assert r["trace_root"] == VECTORS["trace"]["root"]
    input_size = int(np.prod(VECTORS["graph"]["input_shape"]))
    sizes = sum(int(np.prod(t["shape"])) for t in VECTORS["trace"]["tensors"])
    assert operators.parseHeader(unhex(model["leaves"][0]["payload"])).call() == [
        len(VECTORS["graph"]["nodes"]), input_size, model["leaf_count"], sizes]
    context = (unhex(model["root"]), model["depth"], len(model["nodes"]), unhex(r["trace_root"]), b"\x00" * 32,
               b"\x00" * 32)
    for case in VECTORS["openings"]:
        evidence = _evidence_args(case)
        assert operators.check(context, evidence).call() == [False, case["node"]], (case["node"], case["element"])


def _evidence_args(case: dict) -> tuple:
    from eth_abi import decode as abi_decode

    from vcp_toolkit.chain.graph_evidence import EVIDENCE_TYPE

    (evidence,) = abi_decode([EVIDENCE_TYPE], unhex(case["evidence"]))
    assert [o.hex() for o in evidence[6]] == [p[2:] for p in case["inputs"]]
    assert evidence[7].hex() == case["output"][2:]
    return evidence


# --------------------------------------------------------------------------------------------
# random fields


dims = st.tuples(st.integers(1, 300), st.integers(1, 64), st.integers(1, 64))
big_dims = st.tuples(st.integers(1, U32), st.integers(1, U32), st.integers(1, U32))


@RANDOM
@given(st.one_of(dims, big_dims))
def test_random_shapes_match_the_tile_rule(h, d):
    assert tuple(h.shape(*d).call()) == geometry(Shape(*d))


@RANDOM
@given(dims, st.data())
def test_random_cells_locate_alike(h, d, data):
    shape = Shape(*d)
    element = data.draw(st.integers(0, shape.size - 1))
    c, rest = divmod(element, shape.h * shape.w)
    assert h.locate(list(d), c, *divmod(rest, shape.w)).call() == list(tile_of_element(shape, element))


@RANDOM
@given(st.integers(0, 2**16 - 1), st.integers(0, U32), st.binary(max_size=300), dims, st.binary(min_size=32,
                                                                                                   max_size=32))
def test_random_tile_and_tensor_leaves(h, node, index, values, d, root):
    assert h.tileLeaf(node, index, values).call() == leaf_hash(tile_payload(node, index, values))
    payload = tensor_payload(node, Shape(*d), root)
    assert h.tensorLeaf(node, *d, root).call() == leaf_hash(payload) == h.leafHash(payload).call()


def u(bits: int):
    return st.integers(0, 2**bits - 1)


int8 = st.integers(-128, 127)
node_fields = st.builds(
    NodeFields, node=u(16), kind=u(8), inputs=st.tuples(u(16), u(16)), in_shape=big_dims.map(lambda t: Shape(*t)),
    out_shape=dims.map(lambda t: Shape(*t)), kernel=st.tuples(u(8), u(8)), stride=st.tuples(u(8), u(8)),
    pads=st.tuples(u(8), u(8), u(8), u(8)), groups=u(16), lo=int8, hi=int8, count_include_pad=st.booleans(),
    multipliers=st.tuples(u(32), u(32)), shift=u(8), leaf_index=u(32), channels=u(32))


@RANDOM
@given(node_fields)
def test_random_node_leaves_read_back(h, f):
    payload = node_payload(f)
    assert len(payload) == NODE_PAYLOAD_BYTES
    ok, node = h.readNode(payload).call()
    assert ok == (f.lo <= f.hi)
    assert _plain(node) == node_tuple(f)
    assert h.leafHash(payload).call() == leaf_hash(payload)


@RANDOM
@given(u(16), u(32), st.integers(-2**31, 2**31 - 1), u(32), u(8), st.lists(int8, max_size=200))
def test_random_channel_leaves_read_back(h, node, channel, bias, multiplier, shift, weights):
    payload = channel_payload(node, channel, bias, multiplier, shift, np.array(weights, dtype=np.int8))
    ok, k = h.readChannel(payload).call()
    assert ok and tuple(k) == (node, channel, bias, multiplier, shift)
    assert payload[16:] == np.array(weights, dtype=np.int8).tobytes()


@RANDOM
@given(u(16), big_dims, u(32), u(32), st.binary(min_size=32, max_size=32))
def test_random_headers_read_back(h, nodes, d, leaves, trace_bytes, digest):
    payload = graph_header_payload(nodes, Shape(*d), leaves, trace_bytes, digest)
    ok, got_nodes, shape, got_leaves, got_trace = h.readHeader(payload).call()
    assert (ok, got_nodes, tuple(shape), got_leaves, got_trace) == (nodes != 0, nodes, geometry(Shape(*d)), leaves,
                                                                     trace_bytes)


# --------------------------------------------------------------------------------------------
# malformed leaves


def _variants(payload: bytes, kind: bytes) -> list[bytes]:
    """The payload with every other kind byte in use, a foreign one, one byte short and one long."""
    kinds = [k for k in (b"G", b"O", b"K", b"V", b"T", b"\x00", b"g", b"\xff") if k != kind]
    return [k + payload[1:] for k in kinds] + [payload[:-1], payload + b"\x00", b"", kind]


def test_malformed_headers_and_nodes_are_refused(h):
    header = unhex(VECTORS["model"]["leaves"][0]["payload"])
    assert header[:1] == KIND_GRAPH
    for bad in _variants(header, KIND_GRAPH):
        assert h.readHeader(bad).call()[0] is False, bad.hex()
    for f in VECTORS["model"]["nodes"]:
        node = unhex(VECTORS["model"]["leaves"][f["leaf_index"]]["payload"])
        assert node[:1] == KIND_NODE
        for bad in _variants(node, KIND_NODE):
            assert h.readNode(bad).call()[0] is False, bad.hex()


def test_malformed_channels_are_refused(h):
    channel = unhex(VECTORS["model"]["leaves"][2]["payload"])
    assert channel[:1] == KIND_CHANNEL
    for bad in [k + channel[1:] for k in (b"G", b"O", b"V", b"T", b"\x00")] + [channel[:15], b"", KIND_CHANNEL]:
        assert h.readChannel(bad).call()[0] is False, bad.hex()
    assert h.readChannel(channel[:16]).call()[0] is True  # a channel with no weights is well formed


def test_empty_or_inverted_fields_are_refused(h):
    """An empty dimension or lo > hi makes a node (or header) unreadable; an empty shape has no tiles."""
    base = NodeFields(1, 1, (0, 0), Shape(1, 2, 2), Shape(1, 2, 2))
    for f in (replace(base, in_shape=Shape(0, 2, 2)), replace(base, out_shape=Shape(3, 0, 2)),
              replace(base, lo=5, hi=4)):
        assert h.readNode(node_payload(f)).call()[0] is False, f
    assert h.readNode(node_payload(base)).call()[0] is True
    assert tuple(h.shape(0, 5, 5).call()) == (0, 5, 5, 0, 0, 0, 0)
    assert h.readHeader(graph_header_payload(1, Shape(1, 0, 4), 2, 3, b"\x00" * 32)).call()[0] is False


@pytest.mark.parametrize("name", ["lenet", "rescnn"])
def test_builtin_cnn_leaves_read_back(h, name):
    """Every header, node and channel leaf of the shipped CNNs reads back as graph_encoding wrote it."""
    from vcp_toolkit.commit.graph_commitments import GraphModelCommitment
    from vcp_toolkit.model.builtin.graphs import builtin_graph

    model = GraphModelCommitment(builtin_graph(name))
    ok, nodes, shape, leaves, _ = h.readHeader(model.payloads[0]).call()
    assert (ok, nodes, tuple(shape), leaves) == (True, len(model.node_fields), geometry(model.shapes[0]),
                                                  model.leaf_count)
    for f in model.node_fields:
        ok, node = h.readNode(model.payloads[f.leaf_index]).call()
        assert ok and _plain(node) == node_tuple(f), (name, f.node)
        for channel in range(f.channels):
            payload = model.payloads[f.leaf_index + 1 + channel]
            ok, k = h.readChannel(payload).call()
            assert ok and k[:2] == (f.node, channel) and h.leafHash(payload).call() == leaf_hash(payload)
