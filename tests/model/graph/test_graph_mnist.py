"""The built-in MNIST CNNs through the operator graph: fixed-point held-out accuracy (exact: the
integer graph is the same on every machine) against onnxruntime's float accuracy (a tolerance)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from vcp_toolkit.model.datasets import load_mnist_split
from vcp_toolkit.model.graph import quantize_graph, read_onnx_graph

ort = pytest.importorskip("onnxruntime")
CALIBRATION = 500  # the first train images; the held-out 1,000 never set a scale
# (model file, fixed-point correct out of 1,000, float correct out of 1,000) as measured on 2026-11-23
# The dynamo exports in tests/fixtures/onnx/cnn hold the same weights: the same counts.
MEASURED = [("lenet5.onnx", 975, 974), ("rescnn.onnx", 985, 986)]
DYNAMO = Path(__file__).resolve().parents[2] / "fixtures" / "onnx" / "cnn"


def model_path(name: str, exporter: str) -> Path:
    if exporter == "dynamo":
        return DYNAMO / name.replace(".onnx", "_dynamo.onnx")
    return Path(str(resources.files("vcp_toolkit.model.builtin").joinpath(name)))


@pytest.fixture(scope="module")
def split():
    return load_mnist_split()


@pytest.mark.parametrize("exporter", ["torchscript", "dynamo"])
@pytest.mark.parametrize(("name", "fixed_correct", "float_correct"), MEASURED)
def test_fixed_point_accuracy_on_held_out_mnist(split, name, fixed_correct, float_correct, exporter):
    path = model_path(name, exporter)
    if not path.is_file():
        pytest.skip(f"{name} is not in this checkout")
    graph = read_onnx_graph(str(path))
    int_graph = quantize_graph(graph, split.x_train[:CALIBRATION])
    fixed = int(np.sum(int_graph.predict(split.x_test) == split.y_test))
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    logits = sess.run(None, {sess.get_inputs()[0].name: split.x_test.astype(np.float32)})[0]
    floating = int(np.sum(logits.argmax(axis=1) == split.y_test))
    assert fixed == fixed_correct  # integers: exact
    assert abs(floating - float_correct) <= 3  # float: BLAS rounding may move an image or two
    assert fixed >= 965 and fixed >= floating - 10  # >= 96.5% and within 1 point of float
