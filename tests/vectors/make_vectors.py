"""Regenerate the shared test vectors (run only when the encoding spec changes on purpose):

    .venv/bin/python tests/vectors/make_vectors.py

Python (tests/commit/test_vectors.py) and Solidity (contracts/test/NeuronHarness.sol, in
tests/chain/test_solidity_mirror.py) both check them; transformer.json (Softmax, LayerNorm, GELU and
MatMul rows) is checked by tests/model/test_transformer_kernels.py and, through
contracts/test/TransformerHarness.sol, by tests/chain/test_transformer_mirror.py; graph.json (operator graphs) is checked by
tests/commit/test_graph_vectors.py and, through contracts/test/GraphHarness.sol and GraphOperators,
by tests/chain/test_graph_mirror.py.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
from eth_utils import keccak

from vcp_toolkit.attest.eip712 import Attestation, Domain, sign_attestation
from vcp_toolkit.commit.encoding import (
    BN254_R,
    activation_payload,
    field_element,
    header_payload,
    leaf_hash,
    neuron_payload,
    node_hash,
    record_payload,
    zk_output_commitment,
)
from vcp_toolkit.commit.commitments import input_commitment, output_commitment, record_leaf, trace_leaves, trace_root
from vcp_toolkit.model.fixedpoint import Activation, neuron_output
from vcp_toolkit.commit.merkle import MerkleTree, proof_depth
from vcp_toolkit.chain.graph_evidence import operator_evidence, packed_opening
from vcp_toolkit.commit.graph_commitments import (GraphModelCommitment, GraphTraceCommitment, graph_input_commitment,
                                                  graph_metadata_digest, graph_output_commitment)
from vcp_toolkit.commit.graph_encoding import Shape, tensor_payload, tile_of_element, tile_payload, tiles_of
from vcp_toolkit.commit.graph_receptive import receptive_tiles
from vcp_toolkit.model.graph import Add, Conv2D, Dense, Flatten, IntGraph, IntNode, MaxPool
from vcp_toolkit.model.graph.gelu import Gelu
from vcp_toolkit.model.graph.layernorm import LayerNorm
from vcp_toolkit.model.graph.matmul import MatMul
from vcp_toolkit.model.graph.softmax import Softmax

HERE = Path(__file__).parent
KEY = keccak(text="vcp test vector key (public, never use for value)")


def hx(b: bytes) -> str:
    return "0x" + b.hex()


def unhx(text: str) -> bytes:
    return bytes.fromhex(text[2:])


def u32(value: int) -> bytes:
    """A field element as the 32 big-endian bytes of a uint256 (JSON keeps them exact as hex)."""
    return value.to_bytes(32, "big")


def encoding_vectors() -> dict:
    rng = np.random.default_rng(1)
    weights = rng.integers(-128, 128, 5).astype(np.int8)
    neuron = dict(layer=1, row=3, in_width=5, out_width=10, bias=-123456, multiplier=1518500250, shift=38,
                  activation=1, weights=weights.tolist())
    npay = neuron_payload(**{**neuron, "weights": weights})
    acts = np.array([-128, -1, 0, 1, 127], dtype=np.int8)
    apay = activation_payload(2, acts)
    hpay = header_payload(2, 64, 10, 42, keccak(text="metadata"))
    salt = keccak(text="salt")
    merkle = []
    for n in (1, 2, 3, 5, 8):
        leaves = [leaf_hash(bytes([i])) for i in range(n)]
        tree = MerkleTree(leaves)
        merkle.append({"leaf_payloads": [hx(bytes([i])) for i in range(n)], "root": hx(tree.root),
                       "proofs": [{"index": i, "siblings": [hx(s) for s in tree.proof(i).siblings]} for i in range(n)]})
    traces = []  # 1, 2, 3 and 5 vectors: no padding, none, one and three padding leaves
    for widths in ((3,), (4, 2), (5, 3, 2), (6, 5, 4, 3, 2)):
        trace = [rng.integers(-128, 128, w).astype(np.int8) for w in widths]
        traces.append({"vectors": [v.tolist() for v in trace], "leaves": [hx(leaf) for leaf in trace_leaves(trace)],
                       "root": hx(trace_root(trace))})
    ic, oc, root = input_commitment(salt, acts), output_commitment(salt, acts), unhx(traces[2]["root"])
    outputs = [field_element(v) for v in (-128, -1, 0, 1, 127)] + [2**64 + 1, BN254_R - 2**200]
    return {
        "neuron": {"fields": neuron, "payload": hx(npay), "leaf": hx(leaf_hash(npay))},
        "activation": {"index": 2, "values": acts.tolist(), "payload": hx(apay), "leaf": hx(leaf_hash(apay))},
        "header": {"layers": 2, "in_width": 64, "out_width": 10, "neurons": 42,
                   "metadata_digest": hx(keccak(text="metadata")), "payload": hx(hpay), "leaf": hx(leaf_hash(hpay))},
        "node": {"left": hx(leaf_hash(b"\x00")), "right": hx(leaf_hash(b"\x01")),
                 "hash": hx(node_hash(leaf_hash(b"\x00"), leaf_hash(b"\x01")))},
        "commitments": {"salt": hx(salt), "values": acts.tolist(),
                        "input": hx(input_commitment(salt, acts)), "output": hx(output_commitment(salt, acts))},
        "merkle": merkle,
        "record": {"input_commitment": hx(ic), "output_commitment": hx(oc), "trace_root": hx(root),
                   "payload": hx(record_payload(ic, oc, root)), "leaf": hx(record_leaf(ic, oc, root))},
        "zk_output": [{"salt": hx(salt), "outputs": [hx(u32(v)) for v in values],
                       "commitment": hx(zk_output_commitment(salt, values))} for values in (outputs, [])],
        "trace": traces,
    }


def arithmetic_vectors() -> list[dict]:
    rng = np.random.default_rng(2)
    cases = []
    fixed = [  # (weights, inputs, bias, multiplier, shift, activation): edges of the rounding and clamps
        ([1], [1], -1, 1, 1, 0),             # acc*M = 0 -> 0 (+1 >> 1 = 0)
        ([1], [-1], 0, 1, 1, 0),             # -1 -> (-1 + 1) >> 1 = 0: tie rounds up
        ([1], [-3], 0, 1, 1, 0),             # -3 -> (-3 + 1) >> 1 = -1: tie rounds up
        ([1], [3], 0, 1, 1, 0),              # 3 -> 2: tie rounds up
        ([127] * 4, [127] * 4, 2**31 - 1, 2**31 - 1, 1, 0),  # saturates at 127
        ([-128] * 4, [127] * 4, -(2**31), 2**31 - 1, 1, 0),  # saturates at -128
        ([-128] * 4, [127] * 4, -(2**31), 2**31 - 1, 1, 1),  # relu floor 0
        ([5, -7], [100, 3], 17, 1518500250, 62, 0),          # shift 62
        ([0] * 3, [0] * 3, 0, 1, 1, 1),
    ]
    for w, x, b, m, s, a in fixed:
        y = neuron_output(np.array(w), b, m, s, Activation(a), np.array(x))
        cases.append({"weights": w, "inputs": x, "bias": b, "multiplier": m, "shift": s, "activation": a, "output": y})
    for _ in range(40):
        n = int(rng.integers(1, 65))
        w = rng.integers(-128, 128, n)
        x = rng.integers(-128, 128, n)
        b = int(rng.integers(-(2**31), 2**31))
        m = int(rng.integers(1, 2**31))
        s = int(rng.integers(1, 63))
        a = int(rng.integers(0, 2))
        y = neuron_output(w, b, m, s, Activation(a), x)
        cases.append({"weights": w.tolist(), "inputs": x.tolist(), "bias": b, "multiplier": m, "shift": s,
                      "activation": a, "output": y})
    return cases


def eip712_vectors() -> dict:
    from eth_account import Account

    domain = Domain(chain_id=31337, verifying_contract="0x5FbDB2315678afecb367f032d93F642f64180aa3")
    att = Attestation(
        prover=Account.from_key(KEY).address, model_root=keccak(text="model"), input_commitment=keccak(text="in"),
        output_commitment=keccak(text="out"), trace_root=keccak(text="trace"), job_id=keccak(text="job"), nonce=7,
    )
    sig = sign_attestation(att, domain, KEY)
    return {
        "private_key": hx(KEY),
        "domain": domain.as_json(),
        "message": att.message(),
        "typed_data": att.typed_data(domain),
        "digest": hx(att.digest(domain)),
        "signature": sig.to_hex(),
        "signer": att.prover,
    }


# --------------------------------------------------------------------------------------------
# operator graphs (graph.json)

NUMBER_LIST = re.compile(r"\[\s+(-?\d+(?:,\s+-?\d+)*)\s+\]")
GRAPH_SALTS = (keccak(text="graph input salt"), keccak(text="graph output salt"))
# The tile rule's edges: side 8 (C=1, C=2 at exactly 128 bytes), 4 (C=3, C=6, C=8 at 128), 2 (C=9,
# C=32 at 128), 1 (C=33 just past 128, C=200 past a whole tile), and H or W smaller than the side.
TILE_RULE_SHAPES = ((1, 10, 9), (1, 3, 5), (2, 8, 8), (3, 2, 9), (6, 5, 5), (8, 4, 4), (9, 5, 3), (32, 3, 3),
                    (33, 2, 2), (200, 1, 1), (200, 2, 3))


def _rescale(rng, n: int) -> tuple[np.ndarray, np.ndarray]:
    return rng.integers(2**29, 2**31, n, dtype=np.int64), rng.integers(38, 42, n, dtype=np.int64)


def vector_graph() -> IntGraph:
    """A small graph with every shape of fan-in: a strided, asymmetrically padded conv, a depthwise
    conv with a ReLU floor, a padded max pool, a residual add, flatten and dense."""
    rng = np.random.default_rng(12)
    conv = Conv2D(rng.integers(-128, 128, (6, 3, 3, 3)).astype(np.int8), rng.integers(-2**12, 2**12, 6),
                  *_rescale(rng, 6), stride=(2, 2), pads=(1, 0, 1, 2))
    depthwise = Conv2D(rng.integers(-128, 128, (6, 1, 2, 2)).astype(np.int8), rng.integers(-2**10, 2**10, 6),
                       *_rescale(rng, 6), pads=(0, 0, 1, 1), groups=6, lo=0)
    dense = Dense(rng.integers(-128, 128, (4, 150)).astype(np.int8), rng.integers(-2**14, 2**14, 4),
                  *_rescale(rng, 4), lo=-100, hi=100)
    nodes = (IntNode("conv", conv, ("input",), 0.5), IntNode("dw", depthwise, ("conv",), 0.25),
             IntNode("pool", MaxPool((2, 2), (1, 1), (0, 0, 1, 1)), ("conv",), 0.5),
             IntNode("add", Add(1518500250, 1073741824, 31), ("pool", "dw"), 0.5),
             IntNode("flat", Flatten(), ("add",), 0.5), IntNode("dense", dense, ("flat",), 0.125))
    return IntGraph((3, 10, 10), 0.0078125, nodes, name="vectors", metadata={"source": "tests/vectors"})


def describe_op(op) -> dict:
    """An operator as JSON: its kind and its constructor fields (arrays as nested lists)."""
    fields = {f.name: getattr(op, f.name) for f in dataclasses.fields(op) if f.init}
    return {"kind": op.kind, **{k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in fields.items()}}


def describe_graph(graph: IntGraph) -> dict:
    return {"name": graph.name, "metadata": graph.metadata, "input_scale": graph.input_scale,
            "input_shape": list(graph.input_shape),
            "nodes": [{"name": n.name, "inputs": list(n.inputs), "scale": n.scale, "op": describe_op(n.op)}
                      for n in graph.nodes]}


def tensor_vector(node: int, values: np.ndarray, shape: Shape) -> dict:
    """One tensor's tile geometry, tiles, tile root and tensor leaf."""
    tiles = tiles_of(values, shape)
    payloads = [tile_payload(node, i, t) for i, t in enumerate(tiles)]
    root = MerkleTree([leaf_hash(p) for p in payloads]).root
    tensor = tensor_payload(node, shape, root)
    return {"node": node, "shape": [shape.c, shape.h, shape.w], "values": np.ravel(values).tolist(),
            "side": shape.side, "tile": list(shape.tile), "grid": list(shape.tile_grid),
            "tile_count": shape.tile_count, "tile_bytes": shape.tile_bytes,
            "tiles": [{"payload": hx(p), "leaf": hx(leaf_hash(p))} for p in payloads], "root": hx(root),
            "tensor_payload": hx(tensor), "tensor_leaf": hx(leaf_hash(tensor))}


def tile_rule_vectors(rng) -> list[dict]:
    cases = []
    for k, dims in enumerate(TILE_RULE_SHAPES):
        shape = Shape(*dims)
        case = tensor_vector(k, rng.integers(-128, 128, shape.size).astype(np.int8), shape)
        elements = sorted({0, shape.size - 1, *rng.integers(0, shape.size, 4).tolist()})
        case["locate"] = [{"element": e, "chw": [int(v) for v in np.unravel_index(e, dims)],
                           "tile": tile_of_element(shape, e)[0], "offset": tile_of_element(shape, e)[1]}
                          for e in elements]
        cases.append(case)
    return cases


def model_vectors(model: GraphModelCommitment) -> dict:
    kinds = {b"G": "header", b"O": "node", b"K": "channel"}
    return {"metadata_digest": hx(graph_metadata_digest(model.graph)), "root": hx(model.root),
            "leaf_count": model.leaf_count, "depth": proof_depth(model.leaf_count),
            "leaves": [{"index": i, "kind": kinds[p[:1]], "payload": hx(p), "leaf": hx(leaf_hash(p))}
                       for i, p in enumerate(model.payloads)],
            "nodes": [node_fields_json(f) for f in model.node_fields]}


def node_fields_json(f) -> dict:
    shapes = {"in_shape": [f.in_shape.c, f.in_shape.h, f.in_shape.w],
              "out_shape": [f.out_shape.c, f.out_shape.h, f.out_shape.w]}
    plain = {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(f).items()}
    return {**plain, **shapes, "count_include_pad": bool(f.count_include_pad)}


def opening_vectors(model: GraphModelCommitment, trace: GraphTraceCommitment, rng) -> list[dict]:
    """Per node, the first, last and one random element: what a fraud proof opens and carries."""
    out = []
    for f in model.node_fields:
        for element in sorted({0, f.out_shape.size - 1, int(rng.integers(0, f.out_shape.size))}):
            ev = operator_evidence(model, trace, f.node, element)
            out.append({"node": f.node, "element": element, "receptive_tiles": receptive_tiles(f, element),
                        "inputs": [hx(packed_opening(t)) for t in ev.inputs], "output": hx(packed_opening(ev.output)),
                        "evidence": hx(ev.encoded())})
    return out


def graph_vectors() -> dict:
    rng = np.random.default_rng(13)
    graph = vector_graph()
    x = rng.integers(-128, 128, graph.input_shape).astype(np.int8)
    model = GraphModelCommitment(graph)
    tensors = [t[0] for t in graph.run(x[None]).trace.values()]
    trace = GraphTraceCommitment.of(tensors, model.shapes)
    reveal = trace.reveal_payload()
    return {
        "graph": describe_graph(graph),
        "input": x.tolist(),
        "model": model_vectors(model),
        "trace": {"tensors": [tensor_vector(k, t, s) for k, (t, s) in enumerate(zip(tensors, model.shapes))],
                  "root": hx(trace.root)},
        "openings": opening_vectors(model, trace, rng),
        "reveal": {"input_salt": hx(GRAPH_SALTS[0]), "output_salt": hx(GRAPH_SALTS[1]),
                   "payload": [hx(p) for p in reveal], "trace_root": hx(trace.root),
                   "input_commitment": hx(graph_input_commitment(GRAPH_SALTS[0], x)),
                   "output_commitment": hx(graph_output_commitment(GRAPH_SALTS[1], tensors[-1]))},
        "tile_rule": tile_rule_vectors(rng),
    }


def transformer_rows(n: int, rng) -> list[np.ndarray]:
    """Constant rows (0, -128, 127), a saturated alternating row, one dominant value, two random rows."""
    rows = [np.full(n, v, dtype=np.int8) for v in (0, -128, 127)]
    rows.append(np.resize(np.array([-128, 127], dtype=np.int8), n))
    dominant = np.full(n, -128, dtype=np.int8)
    dominant[n // 3] = 127
    return rows + [dominant] + [rng.integers(-128, 128, n).astype(np.int8) for _ in range(2)]


def transformer_vectors() -> list[dict]:
    """Whole rows of each transformer kernel with every output element (a MatMul case: one row, one column)."""
    rng = np.random.default_rng(1313)
    cases: list[dict] = []
    for scale in (1 / 4, 1 / 16, 1 / 128):
        op = Softmax.for_scale(scale)
        cases += [{"op": "softmax", "multiplier": op.multiplier, "shift": op.shift, "row": row.tolist(),
                   "out": op(row).tolist()} for row in transformer_rows(17, rng)]
    n = 64
    ln = LayerNorm(rng.integers(-128, 128, n).astype(np.int8), rng.integers(-2**17, 2**17, n),
                   rng.integers(2**30, 2**31, n), rng.integers(29, 33, n), 10, -128, 127)
    fields = {"gamma": ln.gamma.tolist(), "beta": ln.beta.tolist(), "multiplier": ln.multiplier.tolist(),
              "shift": ln.shift.tolist(), "epsilon": ln.epsilon, "lo": ln.lo, "hi": ln.hi}
    cases += [{"op": "layernorm", **fields, "row": row.tolist(), "out": ln(row).tolist()}
              for row in transformer_rows(n, rng)]
    gelu = Gelu.for_scales(1 / 16, 1 / 32)
    cases.append({"op": "gelu", "table": gelu.table.tolist(), "row": list(range(-128, 128)),
                  "out": gelu(np.arange(-128, 128).astype(np.int8)).tolist()})
    mm = MatMul(1518500250, 43, -128, 127)
    for a in transformer_rows(64, rng):
        for b in (a, rng.integers(-128, 128, 64).astype(np.int8)):
            cases.append({"op": "matmul", "multiplier": mm.multiplier, "shift": mm.shift, "lo": mm.lo, "hi": mm.hi,
                          "a": a.tolist(), "b": b.tolist(), "out": int(mm(a[None], b[:, None])[0, 0])})
    return cases


def main() -> None:
    for name, value in (("encoding", encoding_vectors()), ("arithmetic", arithmetic_vectors()),
                        ("eip712", eip712_vectors()), ("graph", graph_vectors()),
                        ("transformer", transformer_vectors())):
        if isinstance(value, list):  # one case per line keeps diffs readable
            text = "[\n" + ",\n".join(json.dumps(case) for case in value) + "\n]\n"
        else:
            text = json.dumps(value, indent=1) + "\n"
        if name == "graph":  # lists of numbers on one line each (tensor values, weights)
            text = NUMBER_LIST.sub(lambda m: "[" + re.sub(r",\s+", ", ", m.group(1)) + "]", text)
        (HERE / f"{name}.json").write_text(text)
        print(f"wrote tests/vectors/{name}.json")


if __name__ == "__main__":
    main()
