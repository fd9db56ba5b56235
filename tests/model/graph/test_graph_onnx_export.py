"""The operator graph written as float ONNX (what EZKL proves): each operator alone is within half an
output step of the integer kernel (only the rounding is left out), and whole CNNs agree on top-1."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from vcp_toolkit.model.builtin.graphs import builtin_graph
from vcp_toolkit.model.datasets import load_mnist_split
from vcp_toolkit.model.graph import (Add, AvgPool, Clamp, Conv2D, Dense, Flatten, GlobalAvgPool, IntGraph, IntNode,
                                     MaxPool)
from vcp_toolkit.model.graph.onnx_export import export_graph_onnx

RNG = np.random.default_rng(21)


def _rescale(n: int):
    return RNG.integers(2**29, 2**31, n, dtype=np.int64), RNG.integers(38, 41, n, dtype=np.int64)


def _conv(groups: int = 1, lo: int = -128, hi: int = 127) -> Conv2D:
    per_group = 1 if groups > 1 else 3
    out = 3 if groups > 1 else 5
    return Conv2D(RNG.integers(-128, 128, (out, per_group, 3, 3)).astype(np.int8), RNG.integers(-3000, 3000, out),
                  *_rescale(out), stride=(2, 1), pads=(1, 0, 2, 1), groups=groups, lo=lo, hi=hi)


SINGLE_NODES = {
    "conv": lambda: _conv(),
    "conv-relu": lambda: _conv(lo=0),
    "depthwise-clip": lambda: _conv(groups=3, lo=-20, hi=60),
    "maxpool": lambda: MaxPool((2, 3), (2, 1), (1, 0, 0, 1)),
    "avgpool": lambda: AvgPool((3, 3), (2, 2), (1, 1, 1, 1)),
    "avgpool-include-pad": lambda: AvgPool((3, 2), (1, 2), (1, 0, 1, 1), True),
    "gap": lambda: GlobalAvgPool(),
    "clamp": lambda: Clamp(-7, 90),
}


def _run_onnx(path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x.astype(np.float32)})[0]


def _steps_apart(graph: IntGraph, tmp_path, x: np.ndarray) -> float:
    """Largest distance, in output steps, between the exported graph and the integer one."""
    path = export_graph_onnx(graph, tmp_path / "g.onnx", int8_input=True)
    onnx.checker.check_model(onnx.load(str(path)))
    exact = graph.run(x).output.astype(np.float64)
    return float(np.max(np.abs(_run_onnx(path, x) / graph.output_scale - exact)))


@pytest.mark.parametrize("kind", sorted(SINGLE_NODES))
def test_each_operator_alone_is_within_half_a_step(kind, tmp_path):
    graph = IntGraph((3, 7, 6), 0.02, (IntNode("op", SINGLE_NODES[kind](), ("input",), 0.05),))
    x = RNG.integers(-128, 128, (16, 3, 7, 6)).astype(np.int8)
    assert _steps_apart(graph, tmp_path, x) <= 0.5 + 1e-3


def test_add_of_two_scales_and_dense_after_flatten(tmp_path):
    nodes = (IntNode("a", Clamp(-100, 100), ("input",), 0.02),
             IntNode("sum", Add(2**30, 3 * 2**28, 31, -128, 110), ("input", "a"), 0.03),
             IntNode("flat", Flatten(), ("sum",), 0.03))
    x = RNG.integers(-128, 128, (16, 2, 3, 3)).astype(np.int8)
    assert _steps_apart(IntGraph((2, 3, 3), 0.02, nodes), tmp_path, x) <= 0.5 + 1e-3
    dense = Dense(RNG.integers(-128, 128, (4, 18)).astype(np.int8), RNG.integers(-900, 900, 4), *_rescale(4), lo=0)
    graph = IntGraph((2, 3, 3), 0.02, (IntNode("flat", Flatten(), ("input",), 0.02), IntNode("fc", dense, ("flat",), 0.1)))
    assert _steps_apart(graph, tmp_path, x) <= 0.5 + 1e-3


def test_the_export_is_not_trivially_close(tmp_path):
    """A wrong multiplier in the export would be caught: the integer graph with one channel's
    multiplier halved is many steps away from the exported original."""
    conv = _conv()
    graph = IntGraph((3, 7, 6), 0.02, (IntNode("op", conv, ("input",), 0.05),))
    path = export_graph_onnx(graph, tmp_path / "g.onnx", int8_input=True)
    halved = conv.multiplier.copy()
    halved[0] //= 2
    other = Conv2D(conv.weight, conv.bias, halved, conv.shift, conv.stride, conv.pads)
    x = RNG.integers(-128, 128, (16, 3, 7, 6)).astype(np.int8)
    far = np.abs(_run_onnx(path, x) / 0.05 - other(x))
    assert far.max() > 5


@pytest.mark.parametrize("name", ["lenet", "rescnn"])
def test_builtin_cnns_agree_on_held_out_images(name, tmp_path):
    graph = builtin_graph(name)
    x = graph.quantize_input(load_mnist_split().x_test[:200])
    path = export_graph_onnx(graph, tmp_path / f"{name}.onnx", batch=None, int8_input=True)
    exact = graph.run(x).output.reshape(len(x), -1)
    approx = _run_onnx(path, x).reshape(len(x), -1) / graph.output_scale
    assert np.mean(np.argmax(approx, axis=1) == np.argmax(exact, axis=1)) >= 0.98
    assert np.mean(np.abs(approx - exact)) < 2.0


def test_float_input_export_takes_real_values(tmp_path):
    graph = builtin_graph("lenet")
    images = load_mnist_split().x_test[:20]
    path = export_graph_onnx(graph, tmp_path / "real.onnx", int8_input=False)
    codes = export_graph_onnx(graph, tmp_path / "codes.onnx", int8_input=True)
    x = graph.quantize_input(images)
    as_real = _run_onnx(path, x.astype(np.float32) * np.float32(graph.input_scale))
    assert np.allclose(as_real, _run_onnx(codes, x), rtol=1e-4, atol=1e-3 * graph.output_scale * 128)
