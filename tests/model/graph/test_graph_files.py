"""The operator-graph file (vcp_toolkit.model.graph.files): round trips keep every integer, and every
hostile file is refused with one InvalidModel line naming the file and the fault."""

from __future__ import annotations

import io
import json
import os
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

from vcp_toolkit.errors import FileUnreadable, InvalidModel
from vcp_toolkit.model.graph import (Add, AvgPool, Clamp, Conv2D, Dense, Flatten, GlobalAvgPool, IntGraph, IntNode,
                                     MaxPool)
from vcp_toolkit.model.graph.files import FORMAT, graph_bytes, load_graph, save_graph
from vcp_toolkit.model.graph.shapes import node_shapes


def every_kind_graph() -> IntGraph:
    """A small graph with one node of every kind (conv and depthwise conv, pools, add, clamp, dense)."""
    rng = np.random.default_rng(3)

    def ints(shape, lo, hi, dtype):
        return rng.integers(lo, hi, size=shape, dtype=np.int64).astype(dtype)

    def rescale(n):
        return ints(n, 2**29, 2**31, np.int64), ints(n, 36, 40, np.int64)

    conv = Conv2D(ints((4, 2, 3, 3), -128, 128, np.int8), ints(4, -5000, 5000, np.int64), *rescale(4),
                  stride=(1, 1), pads=(1, 1, 1, 1), lo=0, hi=127)
    depthwise = Conv2D(ints((4, 1, 3, 3), -128, 128, np.int8), ints(4, -5000, 5000, np.int64), *rescale(4),
                       stride=(2, 1), pads=(0, 1, 2, 1), groups=4, lo=-20, hi=90)
    dense = Dense(ints((3, 4), -128, 128, np.int8), ints(3, -500, 500, np.int64), *rescale(3))
    nodes = [IntNode("c1", conv, ("input",), 0.05), IntNode("mp", MaxPool((2, 2), (1, 1), (1, 0, 0, 1)), ("c1",), 0.05),
             IntNode("dw", depthwise, ("mp",), 0.04), IntNode("ap", AvgPool((3, 3), (1, 1), (1, 1, 1, 1), True), ("dw",), 0.04),
             IntNode("ap2", AvgPool((2, 2), (2, 2), (1, 1, 0, 0)), ("ap",), 0.04),
             IntNode("sum", Add(2**30, 3 * 2**28, 31, -128, 100), ("ap2", "ap2"), 0.06),
             IntNode("clip", Clamp(-3, 60), ("sum",), 0.06), IntNode("gap", GlobalAvgPool(), ("clip",), 0.06),
             IntNode("flat", Flatten(), ("gap",), 0.06), IntNode("fc", dense, ("flat",), 0.1)]
    return IntGraph((2, 6, 5), 1 / 127, tuple(nodes), name="every-kind", metadata={"source": "test", "n": [1, 2]})


def same_integers(a: IntGraph, b: IntGraph, x: np.ndarray) -> bool:
    ra, rb = a.run(x), b.run(x)
    return list(ra.trace) == list(rb.trace) and all(np.array_equal(ra.trace[k], rb.trace[k]) for k in ra.trace)


def test_every_kind_round_trips(tmp_path):
    graph = every_kind_graph()
    path = save_graph(graph, tmp_path / "g.graph.npz")
    back = load_graph(path)
    x = np.random.default_rng(0).integers(-128, 128, size=(7, 2, 6, 5)).astype(np.int8)
    assert same_integers(graph, back, x)
    assert [(n.name, n.inputs, n.scale, n.op.kind) for n in back.nodes] == \
        [(n.name, n.inputs, n.scale, n.op.kind) for n in graph.nodes]
    assert (back.name, back.metadata, back.input_scale, back.input_shape) == \
        ("every-kind", {"source": "test", "n": [1, 2]}, 1 / 127, (2, 6, 5))
    assert path.read_bytes() == graph_bytes(back)  # deterministic: equal graphs, equal bytes
    trace = back.run(x).trace
    assert node_shapes(back) == {name: value.shape[1:] for name, value in trace.items()}
    assert node_shapes(back)["dw"] == (4, 3, 5) and node_shapes(back)["fc"] == (3,)


@pytest.mark.parametrize("name", ["lenet5", "rescnn"])
def test_builtin_cnns_round_trip_with_identical_integers(tmp_path, name):
    from vcp_toolkit.model.builtin.graphs import quantize_builtin
    from vcp_toolkit.model.datasets import load_mnist_split

    graph = quantize_builtin(name)
    back = load_graph(save_graph(graph, tmp_path / f"{name}.graph.npz"))
    x = graph.quantize_input(load_mnist_split().x_test[:300])
    assert same_integers(graph, back, x)
    assert back.param_count == graph.param_count > 30_000


# ---------------------------------------------------------------- hostile files


def parts(graph: IntGraph | None = None) -> tuple[dict, dict[str, np.ndarray]]:
    """(manifest, arrays) of a graph file, to tamper with."""
    with np.load(io.BytesIO(graph_bytes(graph or every_kind_graph())), allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    return json.loads(str(arrays.pop("manifest"))), arrays


def write(path: Path, manifest, arrays: dict, text: str | None = None) -> Path:
    with open(path, "wb") as fh:
        np.savez(fh, manifest=np.array(text if text is not None else json.dumps(manifest)), **arrays)
    return path


def refused(path: Path, *words: str) -> str:
    with pytest.raises(InvalidModel) as info:
        load_graph(path)
    text = str(info.value)
    assert "\n" not in text and "Traceback" not in text and str(path.name) in text, text
    for word in words:
        assert word in text, (word, text)
    return text


def edit(fn):
    """A tampering: fn(manifest, arrays) changes them in place (or returns replacement text)."""
    def build(path: Path) -> Path:
        manifest, arrays = parts()
        text = fn(manifest, arrays)
        return write(path, manifest, arrays, text if isinstance(text, str) else None)
    return build


def node(i, **changes):
    return edit(lambda m, a: m["nodes"][i].update(changes))


TAMPERED = {  # name: (tampering, words the error holds)
    "unknown version": (edit(lambda m, a: m.update(version=2)), ("version 2", "reads version 1")),
    "version as bool": (edit(lambda m, a: m.update(version=True)), ("version True",)),
    "other format": (edit(lambda m, a: m.update(format="vcp.quantized-model")), ("vcp.quantized-model", FORMAT)),
    "unknown kind": (node(2, kind="sigmoid"), ("unknown kind sigmoid", "conv")),
    "unknown key": (node(0, dilation=[2, 2]), ("unknown key dilation",)),
    "missing key": (edit(lambda m, a: m["nodes"][1].pop("stride")), ("lacks 'stride'",)),
    "top-level key": (edit(lambda m, a: m.update(extra=1)), ("unknown key extra",)),
    "float weights": (edit(lambda m, a: a.update({"node0.weight": a["node0.weight"].astype(np.float32)})),
                      ("node0.weight", "float32")),
    "int32 bias": (edit(lambda m, a: a.update({"node0.bias": a["node0.bias"].astype(np.int32)})),
                   ("node0.bias is int32", "int64")),
    "int64 weights": (edit(lambda m, a: a.update({"node9.weight": a["node9.weight"].astype(np.int64)})),
                      ("node9.weight is int64",)),
    "short bias": (edit(lambda m, a: a.update({"node0.bias": a["node0.bias"][:3]})), ("bias", "(4,)")),
    "3-D weights": (edit(lambda m, a: a.update({"node0.weight": a["node0.weight"][0]})), ("4-D int8",)),
    "missing array": (edit(lambda m, a: a.pop("node2.shift")), ("node2.shift is missing",)),
    "extra array": (edit(lambda m, a: a.update(stray=np.zeros(2, np.int64))), ("stray",)),
    "shift out of range": (edit(lambda m, a: a.update({"node9.shift": a["node9.shift"] + 100})), ("shift outside",)),
    "duplicate JSON key": (edit(lambda m, a: json.dumps(m)[:-1] + ', "version": 2}'), ("duplicate", "version")),
    "NaN scale": (edit(lambda m, a: json.dumps(m).replace('"scale": 0.05', '"scale": NaN', 1)), ("NaN",)),
    "negative scale": (node(3, scale=-1.0), ("scale", "positive finite")),
    "huge int": (edit(lambda m, a: json.dumps(m).replace('"groups": 4', '"groups": ' + "9" * 5000)), ("digits",)),
    "huge kernel": (node(1, kernel=[2**40, 2]), ("kernel must be 2 ints",)),
    "huge padding": (node(0, pads=[4096, 4096, 4096, 4096]), ("larger than",)),
    "bool as int": (node(0, groups=True), ("groups must be an int",)),
    "count_include_pad as int": (node(3, count_include_pad=1), ("count_include_pad must be true or false",)),
    "activation range": (node(6, lo=50, hi=10), ("activation range",)),
    "add multiplier zero": (node(5, multiplier_a=0), ("multiplier_a",)),
    "forward reference": (node(1, inputs=["dw"]), ("must read 1 earlier node",)),
    "wrong arity": (node(5, inputs=["ap2"]), ("must read 2 earlier node",)),
    "duplicate node name": (node(2, name="c1"), ("used twice",)),
    "name control chars": (node(2, name="a\x1b[2J"), ("printable",)),
    "shapes do not chain": (node(9, inputs=["clip"]), ("dense takes (4,)",)),
    "huge input shape": (edit(lambda m, a: m.update(input_shape=[2, 2**20, 2**20])), ("elements",)),
    "input shape floats": (edit(lambda m, a: m.update(input_shape=[2.0, 6, 5])), ("input_shape",)),
    "no nodes": (edit(lambda m, a: m.update(nodes=[]) or a.clear()), ("1 to 1024 nodes",)),
    "nodes not a list": (edit(lambda m, a: m.update(nodes={"0": 1})), ("nodes must be a list",)),
    "manifest not an object": (edit(lambda m, a: "[1, 2]"), ("format is None",)),
    "manifest not JSON": (edit(lambda m, a: "{nope"), ("not valid JSON",)),
    "metadata not an object": (edit(lambda m, a: m.update(metadata=[1])), ("metadata",)),
}


@pytest.mark.parametrize("name", sorted(TAMPERED))
def test_tampered_files_are_refused(tmp_path, name):
    build, words = TAMPERED[name]
    refused(build(tmp_path / "bad.graph.npz"), *words)


def in_thread(fn, timeout_s: float = 20.0) -> BaseException | None:
    box: list = []

    def target():
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            box.append(exc)
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout_s)
    assert not thread.is_alive(), "load_graph blocked"
    return box[0] if box else None


def test_special_and_damaged_files_are_refused(tmp_path):
    good = graph_bytes(every_kind_graph())
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "adir").mkdir()
    (tmp_path / "cut.npz").write_bytes(good[: len(good) // 2])
    (tmp_path / "empty.npz").write_bytes(b"")
    (tmp_path / "text.npz").write_text("not a zip")
    np.save(tmp_path / "pickle.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    os.replace(tmp_path / "pickle.npy", tmp_path / "pickle.npz")
    cases = {"fifo": "named pipe (FIFO)", "adir": "a folder", "cut.npz": "truncated or damaged",
             "empty.npz": "is empty", "text.npz": "not an .npz archive", "pickle.npz": "not an .npz archive"}
    for name, words in cases.items():
        exc = in_thread(lambda: load_graph(tmp_path / name))
        assert isinstance(exc, InvalidModel) and words in str(exc) and name in str(exc), (name, exc)
    assert isinstance(in_thread(lambda: load_graph(Path("/dev/zero"))), InvalidModel)
    assert isinstance(in_thread(lambda: load_graph(tmp_path / "missing.npz")), FileUnreadable)


def test_object_arrays_and_repeated_members_are_refused(tmp_path):
    manifest, arrays = parts()
    arrays["node0.weight"] = np.array([None] * 4, dtype=object)
    path = tmp_path / "obj.npz"
    with open(path, "wb") as fh:
        np.savez(fh, manifest=np.array(json.dumps(manifest)), **arrays)
    refused(path, "Python objects")
    twice = tmp_path / "twice.npz"
    with pytest.warns(UserWarning), zipfile.ZipFile(twice, "w") as archive, np.load(io.BytesIO(graph_bytes(every_kind_graph()))) as data:
        archive.writestr("manifest.npy", data.zip.read("manifest.npy"))
        archive.writestr("manifest.npy", data.zip.read("manifest.npy"))
    refused(twice, "repeated")


def test_random_damage_is_refused_or_harmless(tmp_path):
    """Truncations at every 97th byte and 300 random byte changes: each either still loads (a change
    inside a value the checks accept) or raises InvalidModel; never another exception."""
    good = graph_bytes(every_kind_graph())
    rng = np.random.default_rng(7)
    damaged = [good[:n] for n in range(0, len(good), 97)]
    for _ in range(300):
        raw = bytearray(good)
        raw[int(rng.integers(len(raw)))] = int(rng.integers(256))
        damaged.append(bytes(raw))
    path = tmp_path / "damaged.npz"
    loaded = 0
    for raw in damaged:
        path.write_bytes(raw)
        try:
            graph = load_graph(path)
        except InvalidModel:
            continue
        graph.run(np.zeros((1, *graph.input_shape), dtype=np.int8))  # what loads also runs
        loaded += 1
    assert loaded < len(damaged) // 2
