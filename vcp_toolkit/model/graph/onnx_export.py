"""The integer operator graph written as a float ONNX graph, for tools that take ONNX (EZKL).

Each node becomes the float operator its integer arithmetic approximates, with the requantization
folded into the weights: a conv or dense output channel computes ``s_out * M/2**s * (b + W x_codes)``,
so in real units its weights are ``s_out * (M/2**s) / s_in * W`` and its bias ``s_out * (M/2**s) * b``.
A residual Add scales each side by ``s_out * M_side / (2**s * s_side)``. Every conv, dense, add and
clamp ends in a Clip to its int8 range in real units (saturation and ReLU in one). It leaves out
only the integer rounding, so it tracks the integer graph to within a few output steps (measured
in tests/model/test_graph_onnx_export.py).
With ``int8_input`` the graph takes the int8 input codes themselves (as floats) and multiplies them
by the input scale first, so a zk proof's public inputs are exactly vcp's committed input codes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vcp_toolkit.model.graph.graph import INPUT, IntGraph, IntNode

OPSET = 17


class _Writer:
    """Nodes and initializers collected in order; tensor names follow the graph's node names."""

    def __init__(self, graph: IntGraph) -> None:
        from onnx import helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.graph = graph
        self.nodes: list = []
        self.inits: list = []
        self.scales = {INPUT: graph.input_scale} | {n.name: n.scale for n in graph.nodes}

    def constant(self, name: str, value) -> str:
        self.inits.append(self.numpy_helper.from_array(np.asarray(value, dtype=np.float32), name))
        return name

    def node(self, op_type: str, inputs: list[str], output: str, **attrs) -> str:
        self.nodes.append(self.helper.make_node(op_type, inputs, [output], name=output, **attrs))
        return output


def _rescale(op) -> np.ndarray:
    return op.multiplier.astype(np.float64) / np.power(2.0, op.shift.astype(np.float64))


def _clamp(w: _Writer, tensor: str, node: IntNode, lo: int, hi: int) -> str:
    """The int8 saturation and any fused activation (ReLU is lo = 0), as one Clip in real units."""
    bounds = [w.constant(f"{node.name}.{k}", v * node.scale) for k, v in (("lo", lo), ("hi", hi))]
    return w.node("Clip", [tensor] + bounds, f"{node.name}.clip")


def _weighted(w: _Writer, node: IntNode, source: str) -> str:
    op, s_in, s_out = node.op, w.scales[node.inputs[0]], node.scale
    real = s_out * _rescale(op)
    shape = (-1,) + (1,) * (op.weight.ndim - 1)
    weight = w.constant(f"{node.name}.w", (real / s_in).reshape(shape) * op.weight.astype(np.float64))
    bias = w.constant(f"{node.name}.b", real * op.bias.astype(np.float64))
    if op.kind == "dense":
        out = w.node("Gemm", [source, weight, bias], node.name + ".gemm", transB=1)
    else:
        out = w.node("Conv", [source, weight, bias], node.name + ".conv", strides=list(op.stride),
                     pads=[op.pads[0], op.pads[1], op.pads[2], op.pads[3]], group=op.groups,
                     kernel_shape=list(op.weight.shape[2:]))
    return _clamp(w, out, node, op.lo, op.hi)


def _pool(w: _Writer, node: IntNode, source: str) -> str:
    op = node.op
    if op.kind == "gap":
        return w.node("GlobalAveragePool", [source], node.name + ".gap")
    attrs = {"kernel_shape": list(op.kernel), "strides": list(op.stride), "pads": list(op.pads)}
    if op.kind == "maxpool":
        return w.node("MaxPool", [source], node.name + ".maxpool", **attrs)
    return w.node("AveragePool", [source], node.name + ".avgpool", count_include_pad=int(op.count_include_pad),
                  **attrs)


def _add(w: _Writer, node: IntNode, sources: list[str]) -> str:
    op, scaled = node.op, []
    for side, (source, m) in enumerate(zip(sources, (op.multiplier_a, op.multiplier_b))):
        factor = node.scale * m / (2.0 ** op.shift * w.scales[node.inputs[side]])
        scaled.append(w.node("Mul", [source, w.constant(f"{node.name}.k{side}", factor)], f"{node.name}.mul{side}"))
    return _clamp(w, w.node("Add", scaled, node.name + ".add"), node, op.lo, op.hi)


def _same_codes(w: _Writer, node: IntNode, source: str) -> str:
    """Pools, flatten and clamp keep the codes, so a node recorded at another scale than its input
    (the quantizer never writes one, a hand-made graph may) has its real values rescaled."""
    ratio = node.scale / w.scales[node.inputs[0]]
    if ratio == 1.0:
        return source
    return w.node("Mul", [source, w.constant(f"{node.name}.rescale", ratio)], f"{node.name}.rescaled")


def _emit(w: _Writer, node: IntNode, tensors: dict[str, str]) -> str:
    sources = [tensors[i] for i in node.inputs]
    kind = node.op.kind
    if kind in ("conv", "dense"):
        return _weighted(w, node, sources[0])
    if kind == "add":
        return _add(w, node, sources)
    source = _same_codes(w, node, sources[0])
    if kind in ("maxpool", "avgpool", "gap"):
        return _pool(w, node, source)
    if kind == "flatten":
        return w.node("Flatten", [source], node.name + ".flatten", axis=1)
    return _clamp(w, source, node, node.op.lo, node.op.hi)  # a standalone Clamp


def export_graph_onnx(graph: IntGraph, path: Path, batch: int | None = None, int8_input: bool = False) -> Path:
    """Write ``graph`` as a float ONNX model at ``path`` (see the module docstring)."""
    import onnx
    from onnx import TensorProto

    w = _Writer(graph)
    tensors = {INPUT: "x"}
    if int8_input:
        tensors[INPUT] = w.node("Mul", ["x", w.constant("input.scale", graph.input_scale)], "input.real")
    for node in graph.nodes:
        tensors[node.name] = _emit(w, node, tensors)
    w.node("Identity", [tensors[graph.nodes[-1].name]], "y")
    out_shape = graph.run(np.zeros((1,) + tuple(graph.input_shape), dtype=np.int8)).output.shape[1:]
    dims = [batch or "N"]
    proto = onnx.helper.make_model(
        onnx.helper.make_graph(w.nodes, graph.name,
                               [onnx.helper.make_tensor_value_info("x", TensorProto.FLOAT, dims + list(graph.input_shape))],
                               [onnx.helper.make_tensor_value_info("y", TensorProto.FLOAT, dims + list(out_shape))],
                               w.inits),
        opset_imports=[onnx.helper.make_opsetid("", OPSET)], producer_name="vcp")
    proto.ir_version = 8
    onnx.checker.check_model(proto)
    from vcp_toolkit.attest.files import write_atomic

    write_atomic(Path(path), proto.SerializeToString())
    return Path(path)
