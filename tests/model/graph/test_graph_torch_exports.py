"""CNNs written by torch's TorchScript and dynamo exporters (tests/fixtures/onnx/make_cnn_fixtures.py:
a ResNet BasicBlock net with and without BatchNormalization nodes, a MobileNetV2-style net with
depthwise convolutions, ReLU6 and an inverted residual, a pooling net with count_include_pad,
padding, clamp, Hardtanh and ``x.view(x.size(0), -1)``), none made by vcp's own training script.

The float graph must match onnxruntime within float tolerance; the quantized graph's top-1 must
agree with onnxruntime on the 1,000 held-out MNIST images (calibration: the first 500 train images).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from vcp_toolkit.errors import InvalidModel
from vcp_toolkit.model.datasets import load_mnist_split
from vcp_toolkit.model.graph import load_graph, quantize_graph, read_onnx_graph, save_graph

ort = pytest.importorskip("onnxruntime")
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "onnx" / "cnn"
KERAS = FIXTURES / "keras_cnn_tf2onnx.onnx"  # tests/fixtures/onnx/make_keras_cnn_fixture.py
KERAS_MEASURED = 0.98  # fixed-point top-1 agreement, same run as MEASURED
# Fixed-point top-1 agreement with onnxruntime on the 1,000 held-out images: run of 2026-11-23,
# `.venv/bin/python -m pytest tests/model/graph/test_graph_torch_exports.py` (the integer graph is the
# same on every machine; its scales come from float calibration, hence the 1-point margin below).
MEASURED = {"resnet_tiny_torchscript": 0.983, "resnet_tiny_torchscript_bn": 0.983, "resnet_tiny_dynamo": 0.983,
            "mobilenet_tiny_torchscript": 0.956, "mobilenet_tiny_dynamo": 0.956,
            "poolnet_torchscript": 0.998, "poolnet_dynamo": 0.998}
OPS = {"resnet_tiny_torchscript_bn": {"BatchNormalization", "GlobalAveragePool", "Flatten"},
       "resnet_tiny_dynamo": {"ReduceMean", "Reshape"}, "mobilenet_tiny_torchscript": {"Clip", "Add"},
       "poolnet_torchscript": {"AveragePool", "Shape", "Gather", "Unsqueeze", "Concat"}}


@pytest.fixture(scope="module")
def split():
    return load_mnist_split()


def onnxruntime_logits(path: Path, x: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x.astype(np.float32)})[0]


def test_fixtures_are_what_the_exporters_wrote():
    made = {p.stem for p in FIXTURES.glob("*.onnx")} - {"lenet5_dynamo", "rescnn_dynamo", KERAS.stem}
    assert made == set(MEASURED), "make_cnn_fixtures.py and MEASURED disagree"
    for stem, ops in OPS.items():
        assert ops <= {n.op_type for n in onnx.load(FIXTURES / f"{stem}.onnx").graph.node}, stem
    for stem in MEASURED:
        producer = onnx.load(FIXTURES / f"{stem}.onnx").producer_name
        assert producer == "pytorch", (stem, producer)


@pytest.mark.parametrize("stem", sorted(MEASURED))
def test_torch_export_imports_and_agrees_with_onnxruntime(split, stem, tmp_path):
    path = FIXTURES / f"{stem}.onnx"
    graph = read_onnx_graph(path)
    reference = onnxruntime_logits(path, split.x_test)
    ours = graph.output(split.x_test)
    np.testing.assert_allclose(ours, reference, rtol=1e-4, atol=1e-4 * float(np.abs(reference).max()))
    assert np.mean(ours.argmax(axis=1) == reference.argmax(axis=1)) >= 0.998  # only near-ties may flip
    assert len(np.unique(reference.argmax(axis=1))) >= 8  # the agreement below is not a constant class
    int_graph = quantize_graph(graph, split.x_train[:500])
    fixed = int_graph.predict(split.x_test)
    agreement = float(np.mean(fixed == reference.argmax(axis=1)))
    assert agreement >= MEASURED[stem] - 0.01, agreement
    back = load_graph(save_graph(int_graph, tmp_path / "g.graph.npz"))
    assert np.array_equal(back.predict(split.x_test), fixed)


def test_keras_cnn_through_tf2onnx_imports_and_agrees(split):
    """tf2onnx with inputs_as_nchw: a Reshape that keeps the shape, BN folded by tf2onnx, Clip for
    ReLU6, Squeeze after GlobalAveragePool, MatMul + Add, and a Softmax head."""
    ops = {n.op_type for n in onnx.load(KERAS).graph.node}
    assert {"Reshape", "Squeeze", "MatMul", "Softmax", "Clip", "AveragePool"} <= ops
    graph = read_onnx_graph(KERAS)
    assert graph.head == "softmax"
    reference = onnxruntime_logits(KERAS, split.x_test)
    logits = graph.output(split.x_test)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(probs / probs.sum(axis=1, keepdims=True), reference, atol=1e-5)
    fixed = quantize_graph(graph, split.x_train[:500]).predict(split.x_test)
    assert float(np.mean(fixed == reference.argmax(axis=1))) >= KERAS_MEASURED - 0.01


def tampered(tmp_path, fn, source: Path = FIXTURES / "poolnet_torchscript.onnx") -> Path:
    model = onnx.load(source)
    fn(model.graph)
    path = tmp_path / "tampered.onnx"
    onnx.save(model, path)
    return path


def test_unsupported_op_in_a_real_export_names_op_and_node(tmp_path):
    def to_elu(graph):
        relu = next(n for n in graph.node if n.op_type == "Relu")
        relu.op_type, relu.name = "Elu", "my_elu"
    with pytest.raises(InvalidModel, match=r"Elu node 'my_elu': unsupported op; vcp's operator graph supports Conv"):
        read_onnx_graph(tampered(tmp_path, to_elu))


def test_shape_arithmetic_on_activations_is_refused(tmp_path):
    def gather_activation(graph):
        gather = next(n for n in graph.node if n.op_type == "Gather")
        shape = next(n for n in graph.node if n.op_type == "Shape")
        gather.input[0] = shape.input[0]  # a Gather over the activation itself, not its shape
    with pytest.raises(InvalidModel, match=r"Gather node '/Gather': only folded on constants"):
        read_onnx_graph(tampered(tmp_path, gather_activation))


def test_softmax_inside_the_graph_and_other_reshapes_are_refused(tmp_path):
    def softmax_inside(graph):
        graph.node[-1].op_type = "Identity"  # the head Softmax becomes an Identity ...
        squeeze = next(n for n in graph.node if n.op_type == "Squeeze")
        squeeze.op_type, squeeze.input[:] = "Softmax", squeeze.input[:1]  # ... and a Softmax sits mid-graph
        del squeeze.attribute[:]
    with pytest.raises(InvalidModel, match=r"Softmax node .*: softmax is supported only as the model's last op"):
        read_onnx_graph(tampered(tmp_path, softmax_inside, KERAS))

    def reshape_to_nhwc(graph):
        shape = next(i for i in graph.initializer if i.name == graph.node[0].input[1])
        shape.CopyFrom(onnx.numpy_helper.from_array(np.array([-1, 28, 28, 1], dtype=np.int64), shape.name))
    with pytest.raises(InvalidModel, match=r"Reshape node .*: reshape to \[-1, 28, 28, 1\]; vcp supports"):
        read_onnx_graph(tampered(tmp_path, reshape_to_nhwc, KERAS))
