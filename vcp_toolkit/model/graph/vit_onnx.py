"""Read a small vision transformer from ONNX (torch TorchScript and dynamo exports) into a VitFloatGraph.

Recognised (docs/models.md, "Tiny ViT"): Conv (group 1), Reshape to a constant shape that keeps the
batch axis (-1 first), Transpose that keeps it, LayerNormalization over the last axis,
MatMul by a 2-D weight constant (+ Add of the bias constant: a dense map over the last axis),
MatMul of two activations (+ Mul by a scalar constant, folded into it), Softmax over the last axis,
exact GELU (one Gelu with approximate "none", or TorchScript's Div by sqrt 2, Erf, Add 1, Mul by the
input, Mul 0.5), Add of two activations (residual), Add of a constant (positional embeddings),
Concat on axis 1 of a batch-expanded constant row and an activation (the class token), Gather of
one constant index on axis 1, Gemm (the head), and the shape arithmetic of the class token's
Expand (Shape, Slice, Concat on shapes). Anything else raises InvalidModel naming the op and node.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np

from vcp_toolkit.errors import InvalidModel
from vcp_toolkit.model.graph.graph import INPUT
from vcp_toolkit.model.graph.vit_float import VitFloatGraph, VitNode, apply_node
from vcp_toolkit.model.onnx_import import _attrs, _Graph, _graph_input, _load

BATCH = -(2**62)  # the batch size inside shape arithmetic
SQRT2_TOLERANCE = 1e-6  # TorchScript stores sqrt(2) as the float32 1.4142135


def _label(node) -> str:
    return f"{node.op_type} node {node.name or '(unnamed)'!r}"


def _check(cond: bool, node, what: str) -> None:
    if not cond:
        raise InvalidModel(f"{_label(node)}: {what}")


class _Reader:
    """Walks the ONNX nodes in order; each ONNX tensor becomes a float node, a shape or a batch constant."""

    def __init__(self, graph: _Graph, input_name: str, input_shape: tuple) -> None:
        self.g = graph
        self.alias = {input_name: INPUT}  # ONNX tensor -> float node name
        self.sample = {INPUT: np.zeros((1,) + input_shape)}  # one zero image through the graph: shapes
        self.shapes: dict[str, np.ndarray] = {}  # ONNX tensor -> int64 shape value (BATCH for the batch)
        self.views: dict[str, tuple] = {}  # ONNX tensor -> (float node, Slice node): read only by Shape
        self.batch_consts: dict[str, np.ndarray] = {}  # ONNX tensor -> per-sample value of an Expand
        self.nodes: list[VitNode] = []
        self.origin: dict[str, list[str]] = {}
        self.counts: Counter = Counter()
        self.readers = Counter(i for n in graph.proto.graph.node for i in n.input if i)
        self.open_bias: set[str] = set()  # dense nodes from a MatMul whose bias Add may still follow
        self.opset = next((o.version for o in graph.proto.opset_import if o.domain in ("", "ai.onnx")), 1)
        self.skip: set[str] = set()  # first outputs of ONNX nodes a pattern already read

    def act(self, node, i: int) -> str:
        name = node.input[i] if len(node.input) > i else ""
        _check(name in self.alias, node, f"input {i} ({name!r}) must be an activation a supported node produced")
        return self.alias[name]

    def is_act(self, name: str) -> bool:
        return name in self.alias

    def const(self, node, i: int, what: str) -> np.ndarray:
        _check(len(node.input) > i and node.input[i] in self.g.consts, node, f"{what} must be a constant")
        return np.asarray(self.g.consts[node.input[i]])

    def shape(self, name: str) -> tuple[int, ...]:
        """Per-sample shape of float node ``name``."""
        return self.sample[name].shape[1:]

    def emit(self, onnx_nodes: list, kind: str, inputs: list[str], **params) -> str:
        name = f"{kind}{self.counts[kind]}"
        self.counts[kind] += 1
        new = VitNode(name, kind, tuple(inputs), params)
        try:
            self.sample[name] = apply_node(new, [self.sample[i] for i in inputs])
        except (ValueError, IndexError) as exc:  # shapes that do not fit: name the ONNX node
            raise InvalidModel(f"{_label(onnx_nodes[-1])}: does not fit its input shapes ({exc})") from exc
        self.nodes.append(new)
        self.origin[name] = [n.name for n in onnx_nodes]
        self.alias[onnx_nodes[-1].output[0]] = name
        return name

    def replace(self, name: str, onnx_node, **params) -> None:
        """Fold ``onnx_node`` into float node ``name`` (it must be the latest node emitted)."""
        old = self.nodes[-1]
        _check(old.name == name, onnx_node, "folds only into the node just before it")
        self.nodes[-1] = VitNode(old.name, old.kind, old.inputs, {**old.params, **params})
        self.sample[name] = apply_node(self.nodes[-1], [self.sample[i] for i in old.inputs])
        self.origin[name].append(onnx_node.name)
        self.alias[onnx_node.output[0]] = name


def read_vit(path: Path) -> VitFloatGraph:
    """The float graph of the ViT ONNX file at ``path``, or InvalidModel naming the node it cannot read."""
    from vcp_toolkit.model.graph.vit_patterns import HANDLERS

    proto, _digest = _load(Path(path))
    graph = _Graph(proto)
    inp = _graph_input(Path(path), proto, graph)
    reader = _Reader(graph, inp.name, tuple(int(d) for d in inp.dims[1:]))
    for node in proto.graph.node:
        if node.op_type == "Constant" or (node.output and node.output[0] in reader.skip):
            continue
        handler = HANDLERS.get(node.op_type)
        if handler is None:
            raise InvalidModel(f"{_label(node)}: op {node.op_type} is not supported in a vision transformer; "
                               f"supported: {', '.join(sorted(HANDLERS))}")
        handler(reader, node, _attrs(node))
    outputs = [o.name for o in proto.graph.output]
    if len(outputs) != 1 or reader.alias.get(outputs[0]) != (reader.nodes[-1].name if reader.nodes else None):
        raise InvalidModel(f"{path}: the graph's one output must be its last supported node's output")
    if reader.nodes[-1].kind != "dense":
        raise InvalidModel(f"{path}: the model must end in a dense head (Gemm), not {reader.nodes[-1].kind}")
    return VitFloatGraph(tuple(int(d) for d in inp.dims[1:]), tuple(reader.nodes), reader.origin)


def near(value: np.ndarray, want: float, tolerance: float = 0.0) -> bool:
    """A scalar constant equal to ``want`` within ``tolerance`` (relative)."""
    value = np.asarray(value)
    return value.size == 1 and math.isclose(float(value.reshape(())), want, rel_tol=tolerance, abs_tol=0.0)
