"""The built-in MNIST CNNs through the operator graph: fixed-point held-out accuracy against
onnxruntime's float accuracy. Both get a small tolerance: the integer graph runs the same on every
machine, but its scales come from float calibration, which BLAS may round differently elsewhere."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from vcp_toolkit.model.datasets import load_mnist_split
from vcp_toolkit.model.graph import quantize_graph, read_onnx_graph

ort = pytest.importorskip("onnxruntime")
CALIBRATION = 500  # the first train images; the held-out 1,000 never set a scale
# (model file, fixed-point correct out of 1,000, float correct out of 1,000): run of 2026-11-23,
# `.venv/bin/python -m pytest tests/model/graph/test_graph_mnist.py`, on the committed models
# The dynamo exports in tests/fixtures/onnx/cnn hold the same weights: the same counts.
MEASURED = [("lenet5.onnx", 981, 981), ("rescnn.onnx", 985, 986)]
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
    assert path.is_file(), f"{path} is missing: the built-in CNNs are committed (train_cnn.py makes them)"
    graph = read_onnx_graph(str(path))
    int_graph = quantize_graph(graph, split.x_train[:CALIBRATION])
    fixed = int(np.sum(int_graph.predict(split.x_test) == split.y_test))
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    logits = sess.run(None, {sess.get_inputs()[0].name: split.x_test.astype(np.float32)})[0]
    floating = int(np.sum(logits.argmax(axis=1) == split.y_test))
    assert abs(fixed - fixed_correct) <= 2  # exact here; elsewhere a calibration scale may differ by an ulp
    assert abs(floating - float_correct) <= 3  # float: BLAS rounding may move an image or two
    assert fixed >= 965 and fixed >= floating - 10  # >= 96.5% and within 1 point of float
