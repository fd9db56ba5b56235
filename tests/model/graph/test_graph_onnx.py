"""ONNX CNNs built here with onnx.helper (conv+bn+relu+pool+residual add+gemm, depthwise, clip,
MatMul+Add, Reshape): the float reader agrees with onnxruntime, the integer graph agrees on top-1,
and unsupported ops are refused naming the op and the node."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from vcp_toolkit.errors import InvalidModel
from vcp_toolkit.model.graph import quantize_graph, read_onnx_graph

ort = pytest.importorskip("onnxruntime")


class Net:
    """A tiny graph builder: random initializers, nodes appended in order."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits = [], []

    def const(self, name: str, value) -> str:
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def weight(self, name: str, shape, scale: float = 0.5) -> str:
        return self.const(name, (self.rng.standard_normal(shape) * scale).astype(np.float32))

    def node(self, op: str, inputs: list[str], out: str, **attrs) -> str:
        self.nodes.append(helper.make_node(op, inputs, [out], name=f"n_{out}", **attrs))
        return out

    def bn(self, x: str, c: int, out: str) -> str:
        g = self.const(f"{out}_g", (self.rng.uniform(0.5, 1.5, c)).astype(np.float32))
        b = self.const(f"{out}_b", (self.rng.standard_normal(c) * 0.1).astype(np.float32))
        m = self.const(f"{out}_m", (self.rng.standard_normal(c) * 0.1).astype(np.float32))
        v = self.const(f"{out}_v", (self.rng.uniform(0.5, 2.0, c)).astype(np.float32))
        return self.node("BatchNormalization", [x, g, b, m, v], out, epsilon=1e-5)

    def save(self, path, out: str, in_shape=(1, 12, 12), opset: int = 17) -> str:
        graph = helper.make_graph(self.nodes, "t", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                                  ["N", *in_shape])],
                                  [helper.make_tensor_value_info(out, TensorProto.FLOAT, ["N", 10])], self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        onnx.save(model, str(path))
        return str(path)


def residual_cnn(path) -> str:
    """conv+bn+relu, maxpool with padding, depthwise conv + clip, residual add + relu, avgpool, gap, gemm."""
    n = Net(1)
    h = n.node("Conv", ["x", n.weight("w1", (4, 1, 3, 3)), n.weight("b1", (4,), 0.1)], "c1", pads=[1, 1, 1, 1])
    h = n.node("Relu", [n.bn(h, 4, "bn1")], "r1")
    h = n.node("MaxPool", [h], "p1", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    d = n.node("Conv", [h, n.weight("wd", (4, 1, 3, 3))], "dw", pads=[1, 1, 1, 1], group=4)
    d = n.node("Clip", [d, n.const("lo", np.float32(0)), n.const("hi", np.float32(1.5))], "cl")
    c = n.node("Conv", [d, n.weight("w2", (4, 4, 3, 3), 0.3)], "c2", pads=[1, 1, 1, 1], strides=[1, 1])
    c = n.bn(c, 4, "bn2")
    a = n.node("Relu", [n.node("Add", [c, h], "add")], "ra")
    a = n.node("AveragePool", [a], "ap", kernel_shape=[2, 2], strides=[1, 1], pads=[0, 0, 1, 1], count_include_pad=1)
    a = n.node("GlobalAveragePool", [a], "gap")
    a = n.node("Flatten", [a], "fl", axis=1)
    a = n.node("Gemm", [a, n.weight("wf", (10, 4), 1.0), n.weight("bf", (10,), 0.1)], "logits", transB=1)
    return n.save(path / "res.onnx", a)


def matmul_cnn(path) -> str:
    """conv stride 2 + relu, standalone relu after a shared tensor, reshape, matmul + add, dropout."""
    n = Net(2)
    h = n.node("Conv", ["x", n.weight("w1", (3, 1, 4, 4)), n.weight("b1", (3,), 0.1)], "c1", strides=[2, 2],
               pads=[0, 1, 2, 1])
    r = n.node("Relu", [h], "r1")
    s = n.node("Add", [h, r], "sum")  # h has two readers: the Relu cannot be fused
    a = n.node("AveragePool", [s], "ap", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    f = n.node("Reshape", [a, n.const("shape", np.array([-1, 27], dtype=np.int64))], "flat")
    f = n.node("Dropout", [f], "drop")
    m = n.node("MatMul", [f, n.weight("wm", (27, 10))], "mm")
    out = n.node("Add", [m, n.weight("bm", (10,), 0.1)], "logits")
    return n.save(path / "mm.onnx", out)


def ort_run(path: str, x: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": x.astype(np.float32)})[0]


@pytest.mark.parametrize("build", [residual_cnn, matmul_cnn])
def test_reader_and_integer_graph_agree_with_onnxruntime(tmp_path, build):
    path = build(tmp_path)
    graph = read_onnx_graph(path)
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 1, size=(300, 1, 12, 12))
    expected = ort_run(path, x)
    assert np.allclose(graph.output(x), expected, atol=1e-4, rtol=1e-4)
    int_graph = quantize_graph(graph, rng.uniform(0, 1, size=(200, 1, 12, 12)))
    agreement = np.mean(int_graph.predict(x) == expected.argmax(axis=1))
    assert agreement >= 0.85, agreement  # measured 0.92 and 0.997: random weights, 10 close logits
    run = int_graph.run(int_graph.quantize_input(x[:2]))
    assert list(run.trace)[0] == "input" and all(t.dtype == np.int8 for t in run.trace.values())


def test_batchnorm_folds_and_fusions(tmp_path):
    graph = read_onnx_graph(residual_cnn(tmp_path))
    kinds = [(node.kind, node.act) for node in graph.nodes]
    assert kinds[:3] == [("conv", (0.0, None)), ("maxpool", (None, None)), ("conv", (0.0, 1.5))]
    assert ("add", (0.0, None)) in kinds and "clamp" not in [k for k, _ in kinds]
    mm = read_onnx_graph(matmul_cnn(tmp_path))
    assert [node.kind for node in mm.nodes] == ["conv", "clamp", "add", "avgpool", "flatten", "dense"]


def test_unsupported_op_names_op_and_node(tmp_path):
    n = Net(3)
    h = n.node("Conv", ["x", n.weight("w1", (2, 1, 3, 3))], "c1")
    path = n.save(tmp_path / "sig.onnx", n.node("Sigmoid", [h], "sig"))
    with pytest.raises(InvalidModel, match=r"Sigmoid node 'n_sig': unsupported op"):
        read_onnx_graph(path)


def test_batchnorm_without_conv_is_refused(tmp_path):
    n = Net(4)
    path = n.save(tmp_path / "bn.onnx", n.bn(n.node("Relu", ["x"], "r"), 1, "bn"))
    with pytest.raises(InvalidModel, match="BatchNormalization node 'n_bn'.*follow a Conv"):
        read_onnx_graph(path)


def test_wrong_reshape_is_refused(tmp_path):
    n = Net(5)
    h = n.node("Conv", ["x", n.weight("w1", (2, 1, 3, 3))], "c1")
    path = n.save(tmp_path / "rs.onnx", n.node("Reshape", [h, n.const("s", np.array([2, 5, -1], np.int64))], "rs"))
    with pytest.raises(InvalidModel, match="Reshape node 'n_rs'.*batch, features"):
        read_onnx_graph(path)


@pytest.mark.parametrize("keepdims", [0, 1])
def test_reduce_mean_and_shared_parameters_as_exporters_write_them(tmp_path, keepdims):
    """dynamo writes the global pool as ReduceMean(axes=[-1, -2]) (opset 18: axes as an input);
    TorchScript shares a parameter through an Identity of an initializer."""
    n = Net(6)
    shared = n.node("Identity", [n.weight("b1", (3,), 0.1)], "b1_shared")
    h = n.node("Relu", [n.node("Conv", ["x", n.weight("w1", (3, 1, 3, 3)), shared], "c1")], "r1")
    m = n.node("ReduceMean", [h, n.const("axes", np.array([-1, -2], np.int64))], "mean", keepdims=keepdims)
    if keepdims:
        m = n.node("Flatten", [m], "flat")
    path = n.save(tmp_path / "rm.onnx", n.node("Gemm", [m, n.weight("wf", (10, 3), 1.0)], "logits", transB=1),
                  opset=18)
    graph = read_onnx_graph(path)
    x = np.random.default_rng(8).uniform(0, 1, size=(50, 1, 12, 12))
    assert np.allclose(graph.output(x), ort_run(path, x), atol=1e-4, rtol=1e-4)
    assert [node.kind for node in graph.nodes] == ["conv", "gap", "flatten", "dense"]


def test_reduce_mean_over_channels_is_refused(tmp_path):
    n = Net(7)
    path = n.save(tmp_path / "rc.onnx", n.node("ReduceMean", ["x"], "mean", axes=[1], keepdims=1), opset=13)
    with pytest.raises(InvalidModel, match="ReduceMean node 'n_mean'.*over H and W"):
        read_onnx_graph(path)


def refused(tmp_path, build, match: str) -> None:
    n = Net(9)
    path = n.save(tmp_path / "bad.onnx", build(n))
    with pytest.raises(InvalidModel, match=match):
        read_onnx_graph(path)


def test_unsupported_attributes_and_shapes_are_refused(tmp_path):
    refused(tmp_path, lambda n: n.node("MaxPool", ["x"], "mp", kernel_shape=[2, 2], ceil_mode=1),
            r"MaxPool node 'n_mp': ceil_mode=1")
    refused(tmp_path, lambda n: n.node("Conv", ["x", n.weight("w", (2, 1, 3, 3))], "c", dilations=[2, 2]),
            r"Conv node 'n_c': dilations")
    refused(tmp_path, lambda n: n.node("Conv", ["x", n.weight("w", (2, 3, 3, 3))], "c"),
            r"do not fit its input of shape \(1, 1, 12, 12\)")
    refused(tmp_path, lambda n: n.node("AveragePool", ["x"], "ap", kernel_shape=[13, 13]),
            r"larger than the padded input")
    refused(tmp_path, lambda n: n.node("Conv", ["x", n.weight("w", (4, 2, 3, 3))], "c", group=2),
            r"Conv node 'n_c': group=2: only 1 or depthwise")
