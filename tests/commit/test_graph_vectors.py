"""The operator-graph vectors (tests/vectors/graph.json) still come out of vcp_toolkit's code: the
graph is rebuilt from its JSON description and every header, node, channel, tile and tensor leaf,
both roots, each packed opening and the reveal payload are recomputed. A mismatch names the field
(e.g. ``model.leaves[3].payload``). The packed openings are also walked by a reader written here
from the format in IGraphOperators.sol, and their Merkle proofs checked against the roots."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from vcp_toolkit.chain.graph_evidence import operator_evidence, packed_opening
from vcp_toolkit.commit.encoding import leaf_hash
from vcp_toolkit.commit.graph_commitments import (GraphModelCommitment, GraphTraceCommitment, graph_input_commitment,
                                                  graph_metadata_digest, graph_output_commitment)
from vcp_toolkit.commit.graph_encoding import Shape, tensor_payload, tile_of_element, tile_payload, tiles_of
from vcp_toolkit.commit.graph_receptive import receptive_tiles
from vcp_toolkit.commit.merkle import MerkleProof, MerkleTree, proof_depth, root_from_multiproof, root_from_proof
from vcp_toolkit.model.graph import Add, AvgPool, Clamp, Conv2D, Dense, Flatten, GlobalAvgPool, IntGraph, IntNode, MaxPool

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "graph.json").read_text())
OPS = {cls.kind: cls for cls in (Add, AvgPool, Clamp, Conv2D, Dense, Flatten, GlobalAvgPool, MaxPool)}
ARRAYS = {"weight": np.int8, "bias": np.int64, "multiplier": np.int64, "shift": np.int64}
# The tile rule as docs/encoding.md states it (largest of 8, 4, 2, 1 with T*T*C <= 128, else 1).
SIDES = {1: 8, 2: 8, 3: 4, 6: 4, 8: 4, 9: 2, 32: 2, 33: 1, 150: 1, 200: 1}


def hx(b: bytes) -> str:
    return "0x" + b.hex()


def unhex(text: str) -> bytes:
    return bytes.fromhex(text[2:])


def mismatches(want, got, path: str = "") -> list[str]:
    """Paths at which two JSON-like values differ (dict keys and list indices spelled out)."""
    if isinstance(want, dict) and isinstance(got, dict):
        if set(want) != set(got):
            return [f"{path}.{k}" if path else k for k in sorted(set(want) ^ set(got))]
        return [m for k in sorted(want) for m in mismatches(want[k], got[k], f"{path}.{k}" if path else k)]
    if isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        return [m for i, (a, b) in enumerate(zip(want, got)) for m in mismatches(a, b, f"{path}[{i}]")]
    return [] if want == got else [path]


def assert_same(section: str, got) -> None:
    wrong = mismatches(VECTORS[section], got, section)
    assert not wrong, f"encoding changed at {wrong[:5]} ({len(wrong)} fields)"


def build_op(spec: dict):
    args = {k: (np.array(v, dtype=ARRAYS[k]) if k in ARRAYS else tuple(v) if isinstance(v, list) else v)
            for k, v in spec.items() if k != "kind"}
    return OPS[spec["kind"]](**args)


def build_graph(spec: dict) -> IntGraph:
    nodes = tuple(IntNode(n["name"], build_op(n["op"]), tuple(n["inputs"]), n["scale"]) for n in spec["nodes"])
    return IntGraph(tuple(spec["input_shape"]), spec["input_scale"], nodes, spec["name"], spec["metadata"])


@pytest.fixture(scope="module")
def world():
    graph = build_graph(VECTORS["graph"])
    x = np.array(VECTORS["input"], dtype=np.int8)
    model = GraphModelCommitment(graph)
    tensors = [t[0] for t in graph.run(x[None]).trace.values()]
    return graph, x, model, tensors, GraphTraceCommitment.of(tensors, model.shapes)


def tensor_json(node: int, values: np.ndarray, shape: Shape) -> dict:
    payloads = [tile_payload(node, i, t) for i, t in enumerate(tiles_of(values, shape))]
    root = MerkleTree([leaf_hash(p) for p in payloads]).root
    tensor = tensor_payload(node, shape, root)
    return {"node": node, "shape": [shape.c, shape.h, shape.w], "values": np.ravel(values).tolist(),
            "side": shape.side, "tile": list(shape.tile), "grid": list(shape.tile_grid),
            "tile_count": shape.tile_count, "tile_bytes": shape.tile_bytes,
            "tiles": [{"payload": hx(p), "leaf": hx(leaf_hash(p))} for p in payloads], "root": hx(root),
            "tensor_payload": hx(tensor), "tensor_leaf": hx(leaf_hash(tensor))}


def node_json(f) -> dict:
    plain = {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(f).items()}
    return {**plain, "in_shape": [f.in_shape.c, f.in_shape.h, f.in_shape.w],
            "out_shape": [f.out_shape.c, f.out_shape.h, f.out_shape.w], "count_include_pad": bool(f.count_include_pad)}


def test_description_round_trips():
    graph = build_graph(VECTORS["graph"])
    spec = {"name": graph.name, "metadata": graph.metadata, "input_scale": graph.input_scale,
            "input_shape": list(graph.input_shape),
            "nodes": [{"name": n.name, "inputs": list(n.inputs), "scale": n.scale,
                       "op": {"kind": n.op.kind, **{f.name: getattr(n.op, f.name) for f in dataclasses.fields(n.op)
                                                    if f.init}}} for n in graph.nodes]}
    assert_same("graph", json.loads(json.dumps(spec, default=lambda a: a.tolist())))


def test_model_leaves_root_and_node_fields(world):
    _, _, model, _, _ = world
    kinds = {b"G": "header", b"O": "node", b"K": "channel"}
    assert_same("model", {
        "metadata_digest": hx(graph_metadata_digest(model.graph)), "root": hx(model.root),
        "leaf_count": model.leaf_count, "depth": proof_depth(model.leaf_count),
        "leaves": [{"index": i, "kind": kinds.get(p[:1]), "payload": hx(p), "leaf": hx(leaf_hash(p))}
                   for i, p in enumerate(model.payloads)],
        "nodes": [node_json(f) for f in model.node_fields]})


def test_trace_tensors_tiles_and_root(world):
    _, _, model, tensors, trace = world
    assert_same("trace", {"tensors": [tensor_json(k, t, s) for k, (t, s) in enumerate(zip(tensors, model.shapes))],
                          "root": hx(trace.root)})
    # The trace tree's leaves are the tensor leaves, in tensor order.
    leaves = [unhex(t["tensor_leaf"]) for t in VECTORS["trace"]["tensors"]]
    assert MerkleTree(leaves).root == unhex(VECTORS["trace"]["root"])


def test_tile_rule_edges():
    got = []
    for case in VECTORS["tile_rule"]:
        shape = Shape(*case["shape"])
        entry = tensor_json(case["node"], np.array(case["values"], dtype=np.int8), shape)
        entry["locate"] = [{"element": e, "chw": [int(v) for v in np.unravel_index(e, case["shape"])],
                            "tile": tile_of_element(shape, e)[0], "offset": tile_of_element(shape, e)[1]}
                           for e in (loc["element"] for loc in case["locate"])]
        got.append(entry)
        assert shape.side == SIDES[shape.c], case["shape"]
        assert shape.tile == (min(SIDES[shape.c], shape.h), min(SIDES[shape.c], shape.w)), case["shape"]
    assert_same("tile_rule", got)
    assert {c["side"] for c in VECTORS["tile_rule"]} == {8, 4, 2, 1}
    assert any(c["shape"][1] < c["side"] or c["shape"][2] < c["side"] for c in VECTORS["tile_rule"])


def test_openings(world):
    _, _, model, _, trace = world
    got = []
    for want in VECTORS["openings"]:
        f = model.node_fields[want["node"] - 1]
        ev = operator_evidence(model, trace, want["node"], want["element"])
        got.append({"node": want["node"], "element": want["element"],
                    "receptive_tiles": receptive_tiles(f, want["element"]),
                    "inputs": [hx(packed_opening(t)) for t in ev.inputs], "output": hx(packed_opening(ev.output)),
                    "evidence": hx(ev.encoded())})
    assert_same("openings", got)
    assert {o["node"] for o in VECTORS["openings"]} == set(range(1, len(model.node_fields) + 1))


def test_reveal_payload_and_commitments(world):
    _, x, _, tensors, trace = world
    r = VECTORS["reveal"]
    salt_in, salt_out = unhex(r["input_salt"]), unhex(r["output_salt"])
    assert_same("reveal", {"input_salt": r["input_salt"], "output_salt": r["output_salt"],
                           "payload": [hx(p) for p in trace.reveal_payload()], "trace_root": hx(trace.root),
                           "input_commitment": hx(graph_input_commitment(salt_in, x)),
                           "output_commitment": hx(graph_output_commitment(salt_out, tensors[-1]))})


# --------------------------------------------------------------------------------------------
# an independent reader of the packed tensor opening (IGraphOperators.sol's comment)


def read_opening(data: bytes) -> dict:
    """Walk one packed opening; raise ValueError on a short or over-long one."""
    pos = 0

    def take(n: int) -> bytes:
        nonlocal pos
        if pos + n > len(data):
            raise ValueError(f"opening ends at {len(data)}, needs {pos + n}")
        pos += n
        return data[pos - n:pos]

    dims = [int.from_bytes(take(4), "big") for _ in range(3)]
    root = take(32)
    trace_proof = [take(32) for _ in range(take(1)[0])]
    indices = [int.from_bytes(take(4), "big") for _ in range(int.from_bytes(take(2), "big"))]
    depth = take(1)[0]
    values = take(int.from_bytes(take(4), "big"))
    rest = len(data) - pos
    if rest % 32:
        raise ValueError(f"{rest} bytes after the values: not whole sibling hashes")
    siblings = tuple(take(32) for _ in range(rest // 32))
    return {"dims": dims, "root": root, "trace_proof": trace_proof, "indices": indices, "values": values,
            "depth": depth, "siblings": siblings}


def tensor_index(dims: list[int], root: bytes) -> int:
    return next(t["node"] for t in VECTORS["trace"]["tensors"] if t["shape"] == dims and unhex(t["root"]) == root)


def test_packed_openings_verify_against_the_roots():
    trace_root = unhex(VECTORS["trace"]["root"])
    for case in VECTORS["openings"]:
        for packed in [*case["inputs"], case["output"]]:
            o = read_opening(unhex(packed))
            node = tensor_index(o["dims"], o["root"])
            leaf = leaf_hash(tensor_payload(node, Shape(*o["dims"]), o["root"]))
            assert root_from_proof(leaf, MerkleProof(node, tuple(o["trace_proof"]))) == trace_root
            size = Shape(*o["dims"]).tile_bytes
            tiles = [o["values"][k * size:(k + 1) * size] for k in range(len(o["indices"]))]
            assert b"".join(tiles) == o["values"]
            want = VECTORS["trace"]["tensors"][node]["tiles"]
            leaves = [(index, leaf_hash(tile_payload(node, index, tile))) for index, tile in zip(o["indices"], tiles)]
            assert [hx(leaf) for index, leaf in leaves] == [want[index]["leaf"] for index, _ in leaves]
            if o["depth"]:  # the tiles' multiproof
                assert root_from_multiproof(leaves, o["siblings"], o["depth"]) == o["root"]
            else:  # depth 0 only when every tile is opened in order, with no siblings
                assert o["indices"] == list(range(len(want))) and not o["siblings"]


@pytest.mark.parametrize("cut", [1, 12, 45, -1])
def test_truncated_or_padded_openings_are_refused_by_the_reader(cut):
    packed = unhex(VECTORS["openings"][2]["inputs"][0])
    with pytest.raises(ValueError):
        read_opening(packed[:cut] if cut > 0 else packed + b"\x00")


# --------------------------------------------------------------------------------------------
# the checks themselves must fail, naming the field


def test_a_changed_vector_is_named():
    changed = copy.deepcopy(VECTORS)
    payload = changed["model"]["leaves"][3]["payload"]
    changed["model"]["leaves"][3]["payload"] = payload[:-2] + ("00" if payload[-2:] != "00" else "01")
    changed["trace"]["tensors"][2]["tiles"][1]["leaf"] = "0x" + "00" * 32
    assert mismatches(VECTORS["model"], changed["model"], "model") == ["model.leaves[3].payload"]
    assert mismatches(VECTORS["trace"], changed["trace"], "trace") == ["trace.tensors[2].tiles[1].leaf"]
    assert mismatches([1, 2], [1, 2, 3], "x") == ["x"]
    assert mismatches({"a": 1}, {"a": 1, "b": None}, "") == ["b"]


def test_the_vectors_pin_the_rule_not_the_code():
    """The spec's tile side, computed here without graph_encoding, for every vector tensor."""
    for t in VECTORS["trace"]["tensors"] + VECTORS["tile_rule"]:
        c = t["shape"][0]
        side = next((s for s in (8, 4, 2, 1) if s * s * c <= 128), 1)
        assert t["side"] == side and t["tile_bytes"] == min(side, t["shape"][1]) * min(side, t["shape"][2]) * c


def doc_receptive_tiles(f: dict, element: int) -> list[list[int]]:
    """The input tiles docs/encoding.md ("What a fraud proof opens") lists, from the node fields."""
    (c_in, h_in, w_in), (_, h_out, w_out) = f["in_shape"], f["out_shape"]
    side = next((s for s in (8, 4, 2, 1) if s * s * c_in <= 128), 1)
    th, tw, cols = min(side, h_in), min(side, w_in), -(-w_in // min(side, w_in))
    i, j = divmod(element % (h_out * w_out), w_out)
    if f["kind"] in (1, 3, 4):  # conv, maxpool, avgpool: the real cells of the window
        rows = [r for r in (i * f["stride"][0] + u - f["pads"][0] for u in range(f["kernel"][0])) if 0 <= r < h_in]
        cells = [q for q in (j * f["stride"][1] + v - f["pads"][1] for v in range(f["kernel"][1])) if 0 <= q < w_in]
        return [sorted({(r // th) * cols + q // tw for r in rows for q in cells})]
    if f["kind"] == 2:
        return [[0]]
    if f["kind"] == 5:
        return [list(range(-(-h_in // th) * cols))]
    if f["kind"] == 7:
        _, rest = divmod(element, h_in * w_in)
        return [[(rest // w_in // th) * cols + rest % w_in // tw]]
    return [[(i // th) * cols + j // tw]] * (2 if f["kind"] == 6 else 1)


def test_receptive_tiles_follow_the_documented_rule():
    nodes = VECTORS["model"]["nodes"]
    for case in VECTORS["openings"]:
        f = nodes[case["node"] - 1]
        assert case["receptive_tiles"] == doc_receptive_tiles(f, case["element"]), (case["node"], case["element"])
    # The vectors' windows reach past a tile's edge (two tiles) and into the padding.
    assert any(len(t) > 1 for case in VECTORS["openings"] for t in case["receptive_tiles"])


def test_receptive_tiles_follow_the_documented_rule_on_random_nodes():
    """graph_receptive against the documented rule on random geometries of every kind (seeded)."""
    from vcp_toolkit.commit.graph_encoding import NodeFields

    rng = np.random.default_rng(7)
    for _ in range(400):
        kind = int(rng.integers(1, 9))
        c, h, w = int(rng.integers(1, 40)), int(rng.integers(1, 30)), int(rng.integers(1, 30))
        kernel = (int(rng.integers(1, 6)), int(rng.integers(1, 6)))
        stride = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        pads = tuple(int(rng.integers(0, 4)) for _ in range(4))
        out = (c, max(1, (h + pads[0] + pads[2] - kernel[0]) // stride[0] + 1),
               max(1, (w + pads[1] + pads[3] - kernel[1]) // stride[1] + 1))
        out = {2: (int(rng.integers(1, 20)), 1, 1), 5: (c, 1, 1), 7: (c * h * w, 1, 1)}.get(kind, out)
        if kind in (6, 8):
            out = (c, h, w)
        f = NodeFields(1, kind, (0, 0), Shape(c, h, w), Shape(*out), kernel, stride, pads)
        as_json = {"kind": kind, "in_shape": [c, h, w], "out_shape": list(out), "kernel": list(kernel),
                   "stride": list(stride), "pads": list(pads)}
        for element in {0, int(np.prod(out)) - 1, int(rng.integers(0, np.prod(out)))}:
            assert receptive_tiles(f, element) == doc_receptive_tiles(as_json, element), (f, element)
