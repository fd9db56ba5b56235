"""The integer vision transformer (vcp_toolkit/model/graph/vit_import.py) read from both ONNX exports of
the tiny MNIST ViT: the reading matches onnxruntime, both exports become the same integer model, the
integer forward is deterministic and agrees with the kernels' plain-Python references, the held-out
accuracy keeps what docs/models.md ("Tiny ViT", "Fixed point") states, and anything outside the
recognised patterns is refused with an error naming the node."""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path

import numpy as np
import onnx
import onnx.numpy_helper
import onnxruntime as ort
import pytest

from vcp_toolkit.errors import InvalidModel
from vcp_toolkit.model.datasets import load_mnist_split
from vcp_toolkit.model.graph.add import add_reference
from vcp_toolkit.model.graph.conv import conv_reference
from vcp_toolkit.model.graph.gelu import gelu_reference
from vcp_toolkit.model.graph.layernorm import layernorm_reference
from vcp_toolkit.model.graph.matmul import matmul_reference
from vcp_toolkit.model.graph.softmax import softmax_reference
from vcp_toolkit.model.graph.vit_import import builtin_vit_path, calibration_images, import_vit
from vcp_toolkit.model.graph.vit_layout import token_dense_reference
from vcp_toolkit.model.graph.vit_onnx import read_vit
from vcp_toolkit.model.graph.vit_quantize import PEAK_BITS, calibration_peaks

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "models.md"
DYNAMO = REPO / "tests" / "fixtures" / "onnx" / "vit" / "vit_dynamo.onnx"
# Integers are exact, but the scales come from float64 calibration sums whose last bits may differ on
# another CPU (BLAS order). Peaks are rounded up to 8 bits and test_peaks_clear_of_the_grid shows each
# sits far from a grid point, so the scales, hence every bit, should not move; the slack (3 images of
# 1,000) only covers a CPU where that guard failed and a few borderline images flipped.
CPU_SLACK = 0.003
ISSUE_FLOOR, ISSUE_GAP, FLOAT_ACCURACY = 0.95, 0.015, 0.982  # issue 13's target; float figure of the file


@pytest.fixture(scope="module")
def split():
    return load_mnist_split()


@pytest.fixture(scope="module")
def calib():
    return calibration_images()


@pytest.fixture(scope="module")
def vit(calib):
    return import_vit(builtin_vit_path(), calib)


@pytest.fixture(scope="module")
def vit_dynamo(calib):
    return import_vit(DYNAMO, calib)


def documented(cell: int) -> float:
    """A percentage of docs/models.md's row '| integer, from `vit.onnx` |' (cell 1 = after the first)."""
    rows = [line for line in DOC.read_text().splitlines() if line.startswith("| integer, from `vit.onnx` |")]
    assert len(rows) == 1, "docs/models.md needs one row '| integer, from `vit.onnx` |'"
    match = re.fullmatch(r"\s*(\d+\.\d+)%\s*", rows[0].strip("|").split("|")[cell])
    assert match, f"docs/models.md: cell {cell} of {rows[0]!r} is not a percentage"
    return float(match.group(1)) / 100


@pytest.mark.parametrize("path", [builtin_vit_path(), DYNAMO], ids=["torchscript", "dynamo"])
def test_float_reading_matches_onnxruntime(path, split):
    x = split.x_test[:100].astype(np.float32)
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(["logits"], {"input": x})[0]
    assert np.abs(read_vit(path).output(x) - want).max() < 1e-4


def _fields(op) -> dict:
    """The fields an operator is built from (not caches derived from them)."""
    return {f.name: getattr(op, f.name) for f in dataclasses.fields(op) if f.init}


def _same(a, b) -> bool:
    if dataclasses.is_dataclass(a):
        return type(a) is type(b) and all(_same(v, _fields(b)[k]) for k, v in _fields(a).items())
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.array_equal(a, b)
    return a == b


def test_both_exports_give_one_integer_model(vit, vit_dynamo, split):
    """Both files store the same float32 weights and scalars (0.25, the GELU constants read as exact GELU),
    so the float graphs are identical, calibration gives the same peaks and every integer parameter is
    equal; identical bits on the same inputs follow. Were the float graphs 1e-6 apart, a scale could
    cross a rounding step and the integer models differ: this test would then fail and say so."""
    for a, b in zip(vit.float_graph.nodes, vit_dynamo.float_graph.nodes, strict=True):
        assert (a.name, a.kind, a.inputs) == (b.name, b.kind, b.inputs)
        assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params), a.name
    assert len(vit.graph.nodes) == len(vit_dynamo.graph.nodes)
    for a, b in zip(vit.graph.nodes, vit_dynamo.graph.nodes, strict=True):
        assert (a.name, a.inputs, a.scale) == (b.name, b.inputs, b.scale)
        assert _same(a.op, b.op), a.name
    xq = vit.quantize_input(split.x_test)
    assert np.array_equal(vit.run(xq)[0], vit_dynamo.run(xq)[0])


def test_integer_forward_is_deterministic(vit, split):
    xq = vit.quantize_input(split.x_test[:64])
    logits, trace = vit.run(xq)
    again, trace2 = vit.run(xq.copy())
    assert list(trace) == list(trace2) and all(np.array_equal(trace[k], trace2[k]) for k in trace)
    assert all(v.dtype == np.int8 for v in trace.values()) and logits.dtype == np.int8
    alone, _ = vit.run(xq[5:6])  # a sample's bits do not depend on the rest of the batch
    assert np.array_equal(alone[0], logits[5])


def test_integer_nodes_hold_only_integers(vit):
    for node in vit.graph.nodes:
        for value in _fields(node.op).values():
            inner = _fields(value).values() if dataclasses.is_dataclass(value) else [value]
            for v in inner:
                assert not isinstance(v, float), node.name
                if isinstance(v, np.ndarray):
                    assert np.issubdtype(v.dtype, np.integer), node.name


def test_peaks_clear_of_the_grid(vit, calib):
    """Every calibrated peak is at least 1e-6 of a grid step away from the 8-bit grid it is rounded
    up to: a float difference of that size (far above BLAS reordering, ~1e-13) cannot move a scale."""
    for name, peak in calibration_peaks(vit.float_graph, calib).items():
        if name == "input" or peak == 0:
            continue
        f = math.frexp(peak)[0] * 2**PEAK_BITS
        assert min(f - math.floor(f), math.ceil(f) - f) > 1e-6, (name, peak)


def test_fixed_point_accuracy(vit, split):
    fixed = vit.predict(split.x_test)
    accuracy = float(np.mean(fixed == split.y_test))
    assert accuracy >= documented(1) - CPU_SLACK
    assert accuracy >= ISSUE_FLOOR and accuracy >= FLOAT_ACCURACY - ISSUE_GAP
    flt = read_vit(builtin_vit_path()).output(split.x_test).argmax(axis=1)
    assert float(np.mean(fixed == flt)) >= documented(3) - CPU_SLACK


REFERENCES = {"conv": conv_reference, "token_dense": token_dense_reference, "layernorm": layernorm_reference,
              "matmul": matmul_reference, "softmax": softmax_reference, "gelu": gelu_reference, "add": add_reference}


@pytest.mark.parametrize("kind", sorted(REFERENCES))
def test_references_agree_with_the_forward(vit, split, kind):
    """The last node of each kind (its inputs carry every error before it) against the plain reference."""
    _, trace = vit.run(vit.quantize_input(split.x_test[7:8]))
    node = [n for n in vit.graph.nodes if n.op.kind == kind][-1]
    got = REFERENCES[kind](node.op, *(trace[i] for i in node.inputs))
    assert np.array_equal(got, trace[node.name])


def test_token_dense_fast_path_is_the_dense(vit, split):
    """TokenDense's float32 product with the bias in the rounding constant gives Dense's integers."""
    _, trace = vit.run(vit.quantize_input(split.x_test[:50]))
    rng = np.random.default_rng(13)
    for node in [n for n in vit.graph.nodes if n.op.kind == "token_dense"]:
        x = trace[node.inputs[0]]
        width = x.shape[-1]
        extreme = rng.choice(np.array([-128, 127], dtype=np.int8), size=(64, width))  # the largest sums
        for rows in (x.reshape(-1, width), extreme):
            assert np.array_equal(node.op(rows), node.op.dense(rows)), node.name


def _edit(tmp_path: Path, source: Path, change) -> Path:
    model = onnx.load(str(source))
    change(model)
    out = tmp_path / "hostile.onnx"
    onnx.save(model, str(out))
    return out


def _node(model, op_type: str, index: int = 0):
    return [n for n in model.graph.node if n.op_type == op_type][index]


def _set(node, name: str, value) -> None:
    for a in node.attribute:
        if a.name == name:
            node.attribute.remove(a)
            break
    node.attribute.append(onnx.helper.make_attribute(name, value))


def _insert_relu(model) -> None:
    conv = _node(model, "Conv")
    relu = onnx.helper.make_node("Relu", [conv.output[0]], ["evil_out"], name="evil_relu")
    reshape = _node(model, "Reshape")
    reshape.input[0] = "evil_out"
    model.graph.node.insert(list(model.graph.node).index(conv) + 1, relu)


def _reshape_across_batch(model) -> None:
    """The patch tokens' Reshape to [1, -1, 16]: the batch axis would merge with the tokens."""
    target = _node(model, "Reshape").input[1]
    const = next(n for n in model.graph.node if n.op_type == "Constant" and n.output[0] == target)
    const.attribute[0].t.CopyFrom(onnx.numpy_helper.from_array(np.array([1, -1, 16], dtype=np.int64)))


HOSTILE = {
    "reshape across the batch": (_reshape_across_batch, r"Reshape node '/Reshape'.*batch axis"),
    "unsupported op": (_insert_relu, r"Relu node 'evil_relu'.*not supported"),
    "layernorm axis": (lambda m: _set(_node(m, "LayerNormalization", 1), "axis", 1),
                       r"LayerNormalization node '\S+norm2\S*'.*only the last axis"),
    "softmax axis": (lambda m: _set(_node(m, "Softmax"), "axis", 1), r"Softmax node '\S+Softmax'.*only the last axis"),
    "gemm alpha": (lambda m: _set(_node(m, "Gemm"), "alpha", 2.0), r"Gemm node '\S+'.*alpha"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_files_are_refused(tmp_path, case):
    change, message = HOSTILE[case]
    with pytest.raises(InvalidModel, match=message):
        read_vit(_edit(tmp_path, builtin_vit_path(), change))


def test_hostile_dynamo_gelu_and_scale(tmp_path):
    tanh = _edit(tmp_path, DYNAMO, lambda m: _set(_node(m, "Gelu"), "approximate", "tanh"))
    with pytest.raises(InvalidModel, match=r"Gelu node 'node_gelu'.*exact"):
        read_vit(tanh)

    def scale_after_softmax(m) -> None:  # the 0.25 Mul moved after the Softmax: no pattern has it there
        mul, soft = _node(m, "Mul"), _node(m, "Softmax")
        soft.input[0], mul.input[0] = mul.input[0], soft.output[0]
        for n in m.graph.node:
            if n is not mul and soft.output[0] in n.input:
                n.input[list(n.input).index(soft.output[0])] = mul.output[0]
        m.graph.node.remove(mul)
        m.graph.node.insert(list(m.graph.node).index(soft) + 1, mul)
    with pytest.raises(InvalidModel, match=r"Mul node 'node_mul_56'.*only as the scale"):
        read_vit(_edit(tmp_path, DYNAMO, scale_after_softmax))
