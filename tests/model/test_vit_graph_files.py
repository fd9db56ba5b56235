"""The operator-graph file (vcp_toolkit.model.graph.files) with the transformer node kinds: the
integer tiny ViT saved and loaded runs the same bits on real images, and every hostile change to a
transformer node (tables of the wrong dtype or shape, a perm that moves the batch axis, a missing
field, huge numbers, shapes that do not chain) is refused with one InvalidModel line naming the file
and the fault."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from vcp_toolkit.errors import InvalidModel
from vcp_toolkit.model.datasets import load_mnist_split
from vcp_toolkit.model.graph.files import KINDS, graph_bytes, graph_from_bytes, load_graph, save_graph
from vcp_toolkit.model.graph.report import param_count
from vcp_toolkit.model.graph.vit_shapes import TRANSFORMER_KINDS, graph_shapes

FLOAT_PARAMS = 27_978  # docs/models.md, "Tiny ViT": the float values of vit.onnx


@pytest.fixture(scope="module")
def vit_bytes(vit_integer) -> bytes:
    return graph_bytes(vit_integer.graph)


def same_trace(a, b, x: np.ndarray) -> bool:
    ra, rb = a.run(x), b.run(x)
    return list(ra.trace) == list(rb.trace) and all(np.array_equal(ra.trace[k], rb.trace[k]) for k in ra.trace)


def test_the_vit_round_trips_bit_for_bit_on_held_out_images(vit_integer, tmp_path):
    graph = vit_integer.graph
    assert TRANSFORMER_KINDS <= set(KINDS) and TRANSFORMER_KINDS <= {n.op.kind for n in graph.nodes}
    path = save_graph(graph, tmp_path / "vit.graph.npz")
    back = load_graph(path)
    x = graph.quantize_input(load_mnist_split().x_test[:300])
    assert same_trace(graph, back, x)
    assert [(n.name, n.op.kind, n.inputs, n.scale) for n in back.nodes] == \
        [(n.name, n.op.kind, n.inputs, n.scale) for n in graph.nodes]
    assert (back.name, back.metadata, back.input_scale, back.input_shape) == \
        (graph.name, graph.metadata, graph.input_scale, graph.input_shape)
    assert path.read_bytes() == graph_bytes(back)  # equal graphs, equal bytes
    assert param_count(back) == FLOAT_PARAMS
    trace = back.run(x[:2]).trace
    assert graph_shapes(back) == {name: value.shape[1:] for name, value in trace.items()}


def test_every_field_of_every_transformer_node_survives(vit_integer, vit_bytes):
    back = graph_from_bytes(vit_bytes, "the ViT's graph file")
    for ours, theirs in zip(vit_integer.graph.nodes, back.nodes, strict=True):
        a, b = getattr(ours.op, "dense", ours.op), getattr(theirs.op, "dense", theirs.op)
        for key, value in vars(a).items():
            if key != "layer":  # Dense's derived QuantizedDense
                other = getattr(b, key)
                assert np.array_equal(value, other) and np.asarray(value).dtype == np.asarray(other).dtype, \
                    (ours.name, key)


# ---------------------------------------------------------------- hostile files


def parts(raw: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    with np.load(io.BytesIO(raw), allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    return json.loads(str(arrays.pop("manifest"))), arrays


def index(manifest: dict, name: str) -> int:
    return next(i for i, n in enumerate(manifest["nodes"]) if n["name"] == name)


def field(name: str, **changes):
    """Change fields of the node called ``name``."""
    return lambda m, a: m["nodes"][index(m, name)].update(changes)


def drop(name: str, key: str):
    return lambda m, a: m["nodes"][index(m, name)].pop(key)


def array(name: str, key: str, fn):
    """Replace array ``key`` of the node called ``name`` by ``fn(array)``."""
    def change(m, a):
        member = f"node{index(m, name)}.{key}"
        a[member] = fn(a[member])
    return change


def text(fn):
    """Rewrite the manifest's JSON text."""
    return lambda m, a: fn(json.dumps(m))


TAMPERED = {
    # tables and arrays: dtype and shape
    "gelu table int16": (array("gelu0", "table", lambda t: t.astype(np.int16)), ("node25.table is int16", "int8")),
    "gelu table short": (array("gelu0", "table", lambda t: t[:255]), ("gelu table", "(256,)")),
    "gelu table 2-D": (array("gelu1", "table", lambda t: t.reshape(16, 16)), ("gelu table", "(16, 16)")),
    "gelu table missing": (lambda m, a: a.pop(f"node{index(m, 'gelu0')}.table"), ("node25.table is missing",)),
    "layernorm gamma int64": (array("layernorm0", "gamma", lambda g: g.astype(np.int64)), ("gamma is int64",)),
    "layernorm beta short": (array("layernorm0", "beta", lambda b: b[:31]), ("bias must be int64 of shape (32,)",)),
    "layernorm shift huge": (array("layernorm2", "shift", lambda s: s + 60), ("shift outside",)),
    "layernorm narrower than its input": (lambda m, a: [a.update({k: a[k][:31]}) for k in list(a)
                                                        if k.startswith(f"node{index(m, 'layernorm1')}.")],
                                          ("layernorm1", "layernorm of width 31")),
    "token_dense float weights": (array("dense3", "weight", lambda w: w.astype(np.float32)), ("float32",)),
    "token_dense bias int32": (array("dense0", "bias", lambda b: b.astype(np.int32)), ("node7.bias is int32",)),
    "token_dense weight of another width": (array("dense12", "weight", lambda w: np.zeros((10, 31), np.int8)),
                                            ("dense12", "token_dense of width 31")),
    "token int16": (array("prepend0", "token", lambda t: t.astype(np.int16)), ("node3.token is int16",)),
    "token 2-D": (array("prepend0", "token", lambda t: t.reshape(4, 8)), ("prepended token",)),
    "token of another width": (array("prepend0", "token", lambda t: t[:16]), ("prepend0", "width 16")),
    "const float": (array("add_const0.value", "value", lambda v: v.astype(np.float64)), ("float64",)),
    "const of another shape": (array("add_const0.value", "value", lambda v: v[:16]), ("add of shapes",)),
    # perms, shapes, indices
    "perm moves the batch axis": (field("transpose0", perm=[1, 0, 2]), ("transpose0", "batch axis first")),
    "perm not a permutation": (field("transpose1", perm=[0, 1, 1, 3]), ("batch axis first",)),
    "perm of another rank": (field("transpose0", perm=[0, 2, 3, 1]), ("transpose0", "transpose perm")),
    "perm floats": (field("transpose0", perm=[0, 2.0, 1]), ("perm must be 2 to 9 ints",)),
    "perm huge": (field("transpose0", perm=[0, 2**40, 1]), ("perm must be 2 to 9 ints",)),
    "reshape of another size": (field("reshape0", shape=[32, 17]), ("reshape0", "reshape of")),
    "reshape huge": (field("reshape0", shape=[2**40, 1]), ("shape must be 1 to 8 ints",)),
    "reshape zero": (field("reshape0", shape=[0, 512]), ("shape must be 1 to 8 ints",)),
    "reshape rank 9": (field("reshape0", shape=[1] * 9), ("shape must be 1 to 8 ints",)),
    "take out of range": (field("take0", index=17), ("take0", "take of token 17 of 17")),
    "take negative": (field("take0", index=-1), ("index must be an int",)),
    "take huge": (field("take0", index=2**62), ("index must be an int",)),
    "matmul of shapes that do not fit": (field("matmul0", inputs=["transpose1", "transpose1"]), ("matmul0",
                                                                                                 "matmul needs")),
    # scalars: missing, huge, of another type
    "missing epsilon": (drop("layernorm0", "epsilon"), ("lacks 'epsilon'",)),
    "missing perm": (drop("transpose0", "perm"), ("lacks 'perm'",)),
    "missing softmax shift": (drop("softmax0", "shift"), ("lacks 'shift'",)),
    "unknown key": (field("gelu0", approximate="tanh"), ("unknown key approximate",)),
    "epsilon huge": (field("layernorm0", epsilon=2**40), ("epsilon must be an int in 1..2147483647",)),
    "epsilon zero": (field("layernorm0", epsilon=0), ("epsilon must be an int",)),
    "epsilon float": (field("layernorm0", epsilon=1.5), ("epsilon must be an int",)),
    "softmax multiplier huge": (field("softmax0", multiplier=2**31), ("multiplier must be an int in 1..",)),
    "matmul shift 63": (field("matmul1", shift=63), ("shift must be an int in 1..62",)),
    "matmul bool": (field("matmul1", lo=True), ("lo must be an int",)),
    "matmul range": (field("matmul1", lo=10, hi=-10), ("activation range",)),
    "5000-digit integer": (text(lambda t: t.replace('"index": 0', '"index": ' + "9" * 5000)), ("digits",)),
}


@pytest.mark.parametrize("name", sorted(TAMPERED))
def test_tampered_transformer_nodes_are_refused(vit_bytes, tmp_path, name):
    change, words = TAMPERED[name]
    manifest, arrays = parts(vit_bytes)
    replacement = change(manifest, arrays)
    path = tmp_path / "bad.graph.npz"
    with open(path, "wb") as fh:
        body = replacement if isinstance(replacement, str) else json.dumps(manifest)
        np.savez(fh, manifest=np.array(body), **arrays)
    with pytest.raises(InvalidModel) as info:
        load_graph(path)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message and path.name in message, message
    for word in words:
        assert word in message, (word, message)
