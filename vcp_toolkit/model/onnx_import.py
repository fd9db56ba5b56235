"""Import dense networks from ONNX as real exporters write them, into vcp's layer list.

Supported ops: Gemm, MatMul (+ Add for the bias), Add (bias only), Relu, Flatten, Reshape,
Squeeze and Unsqueeze with static shapes that keep the batch axis, Identity, Dropout
(inference), Cast (to a float type), Constant, and a final Softmax, LogSoftmax or ArgMax.

The final head is not part of the integer computation: softmax and log-softmax are monotone
and ArgMax only reads the result, so vcp commits to the logits and applies the head (in float,
after dequantization) only when reporting. The predicted class is argmax of the int8 logits
(lowest index on ties), the same everywhere. Anything else is refused with an error naming the
op and the node: never a silently different model.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vcp_toolkit.errors import InvalidModel
from vcp_toolkit.model.float_model import Dense, Layer, Model, ReLU

SUPPORTED_OPS = ("Gemm", "MatMul", "Add", "Relu", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Identity",
                 "Dropout", "Cast", "Constant", "Softmax", "LogSoftmax", "ArgMax")
HEADS = ("Softmax", "LogSoftmax", "ArgMax")
PASS_THROUGH = ("Identity", "Dropout", "Cast", "Flatten", "Reshape", "Squeeze", "Unsqueeze")
FLOAT_TYPES = (1, 10, 11, 16)  # FLOAT, FLOAT16, DOUBLE, BFLOAT16
MAX_ONNX_BYTES = 512 * 2**20
ONNX_FIX = "pass a model exported to ONNX (e.g. torch.onnx.export), or a .q.npz quantized model"
IMPORTER = "vcp-onnx/1"


@dataclass(frozen=True, eq=False)
class ImportedModel:
    """A float model read from ONNX, with what identifies it and how it ends."""

    model: Model
    head: str  # "none", "softmax", "logsoftmax" or "argmax"
    input_name: str
    output_name: str
    input_shape: tuple  # as declared, batch axis first (symbolic dims as str)
    identity: dict  # source file digest, producer, opset, importer: goes into the model commitment


def _supported() -> str:
    return ", ".join(SUPPORTED_OPS)


def _load(path: Path):
    import onnx
    from google.protobuf.message import DecodeError

    from vcp_toolkit.attest.files import printable
    from vcp_toolkit.model.arrays import read_file

    raw = read_file(Path(path), "ONNX model file", MAX_ONNX_BYTES, InvalidModel, ONNX_FIX)
    path = printable(path)  # named in every message below, escaped for the terminal
    try:
        proto = onnx.load_from_string(raw)
    except (DecodeError, ValueError, RuntimeError, TypeError) as exc:
        raise InvalidModel(f"ONNX model file {path} does not parse as ONNX (truncated, or another format); "
                           f"{ONNX_FIX}") from exc
    if not proto.graph.node:
        raise InvalidModel(f"ONNX model file {path} has an empty graph (truncated, or not an ONNX model); {ONNX_FIX}")
    for tensor in proto.graph.initializer:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            raise InvalidModel(f"{path}: tensor {printable(tensor.name)[:60]!r} uses external data, which vcp does "
                               "not load; save the model with its weights inside the .onnx file")
    try:
        onnx.checker.check_model(proto)
    except Exception as exc:  # onnx raises its own ValidationError (and others) from C++
        raise InvalidModel(f"{path} fails the ONNX checker: {str(exc).splitlines()[0]}") from exc
    return proto, hashlib.sha256(raw).hexdigest()


class _Graph:
    def __init__(self, proto) -> None:
        from onnx import numpy_helper

        self.proto = proto
        self.consts: dict[str, np.ndarray] = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}
        self.producer: dict[str, object] = {}
        for node in proto.graph.node:
            if node.op_type == "Constant":
                self.consts[node.output[0]] = self._constant_value(node)
                continue
            for out in node.output:
                self.producer[out] = node

    @staticmethod
    def _constant_value(node) -> np.ndarray:
        from onnx import helper, numpy_helper

        for attr in node.attribute:
            value = helper.get_attribute_value(attr)
            if attr.name == "value":
                return numpy_helper.to_array(value)
            if attr.name in ("value_float", "value_int"):
                return np.array(value)
            if attr.name in ("value_floats", "value_ints"):
                return np.array(list(value))
        raise InvalidModel(f"Constant node {node.name!r} has no supported value attribute")

    def const(self, name: str, node, what: str) -> np.ndarray:
        if name not in self.consts:
            raise InvalidModel(f"node {node.name or node.op_type!r} ({node.op_type}): {what} must be a constant "
                               "(initializer); vcp imports fixed-weight dense networks only")
        return self.consts[name]

    def chain_to(self, output: str, graph_input: str) -> list:
        """Nodes from the graph input to ``output``, each fed by the previous one's activation."""
        nodes = []
        current = output
        while current != graph_input:
            node = self.producer.get(current)
            if node is None:
                raise InvalidModel(f"tensor {current!r} is neither produced by a node nor the graph input")
            live = [i for i in node.input if i and i not in self.consts]
            if len(live) != 1:
                raise InvalidModel(
                    f"node {node.name or node.op_type!r} ({node.op_type}) combines {len(live)} activations; vcp "
                    "imports sequential dense networks (no residual or multi-input layers)")
            nodes.append(node)
            current = live[0]
            if len(nodes) > 10_000:
                raise InvalidModel("graph too deep or cyclic")
        return nodes[::-1]


def _attrs(node) -> dict:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _dims(value_info) -> tuple:
    shape = value_info.type.tensor_type.shape
    return tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in shape.dim)


@dataclass(frozen=True)
class _Input:
    """The graph's one activation input: its name, its declared shape, its feature width."""

    name: str
    dims: tuple
    width: int


def _graph_input(path: Path, proto, graph: _Graph) -> _Input:
    inputs = [i for i in proto.graph.input if i.name not in graph.consts]
    if len(inputs) != 1:
        raise InvalidModel(f"{path}: vcp imports models with one input, this one has {len(inputs)}")
    graph_input = inputs[0]
    in_dims = _dims(graph_input)
    feature_dims = in_dims[1:]
    if not in_dims or any(not isinstance(d, int) or d <= 0 for d in feature_dims):
        raise InvalidModel(f"{path}: input {graph_input.name!r} has shape {in_dims}; every axis but the batch "
                           "axis must be static")
    return _Input(graph_input.name, in_dims, int(np.prod(feature_dims)) if feature_dims else 1)


def _graph_output(path: Path, proto, output: str | None) -> str:
    """The output to import: the one asked for, else the only float output, else the only output."""
    outputs = {o.name: o for o in proto.graph.output}
    if output is None:
        floats = [o.name for o in proto.graph.output if o.type.tensor_type.elem_type in FLOAT_TYPES]
        if len(floats) == 1:
            return floats[0]
        if len(proto.graph.output) == 1:
            return proto.graph.output[0].name
        raise InvalidModel(f"{path}: several outputs ({', '.join(outputs)}); choose one with --output")
    if output not in outputs:
        raise InvalidModel(f"{path}: no output named {output!r} (outputs: {', '.join(outputs)})")
    return output


class _LayerBuilder:
    """vcp layers from the sequential chain of ONNX nodes, one node at a time."""

    def __init__(self, graph: _Graph, width: int) -> None:
        self.graph = graph
        self.width = width
        self.layers: list[Layer] = []
        self.pending: tuple[np.ndarray, np.ndarray | None] | None = None  # MatMul waiting for its Add
        self.head = "none"

    def flush(self) -> None:
        if self.pending is not None:
            weight, bias = self.pending
            self.layers.append(Dense(weight, bias if bias is not None else np.zeros(weight.shape[0])))
            self.pending = None

    def add(self, node) -> None:
        op, name = node.op_type, node.name or node.op_type
        a = _attrs(node)
        if op not in SUPPORTED_OPS:
            raise InvalidModel(f"unsupported ONNX op {op} in node {name!r}; vcp supports: {_supported()}")
        head = self.head
        if head != "none" and op not in ("Identity", "Cast") and not (head != "argmax" and op == "ArgMax"):
            raise InvalidModel(f"node {name!r} ({op}) follows the {head} head; only Identity, Cast or ArgMax may")
        handler = self._HANDLERS.get(op)
        if handler is not None:
            handler(self, node, name, a)

    def _gemm(self, node, name: str, a: dict) -> None:
        self.flush()
        if a.get("transA", 0):
            raise InvalidModel(f"Gemm node {name!r} has transA=1; only the activation-first form is supported")
        weight = self.graph.const(node.input[1], node, "B (weights)").astype(np.float64)
        weight = weight if a.get("transB", 0) else weight.T
        bias = (self.graph.const(node.input[2], node, "C (bias)").astype(np.float64).reshape(-1)
                if len(node.input) > 2 and node.input[2] else np.zeros(weight.shape[0]))
        if bias.size == 1 and weight.shape[0] != 1:
            bias = np.full(weight.shape[0], float(bias[0]))
        self.layers.append(Dense(weight * a.get("alpha", 1.0), bias * a.get("beta", 1.0)))

    def _matmul(self, node, name: str, a: dict) -> None:
        self.flush()
        if node.input[0] in self.graph.consts:
            raise InvalidModel(f"MatMul node {name!r} multiplies weights by activations (W @ x); vcp "
                               "supports x @ W")
        weight = self.graph.const(node.input[1], node, "the second input (weights)").astype(np.float64)
        if weight.ndim != 2:
            raise InvalidModel(f"MatMul node {name!r}: weights of shape {weight.shape}; 2-D expected")
        self.pending = (weight.T, None)

    def _add(self, node, name: str, a: dict) -> None:
        pending = self.pending
        other = next(i for i in node.input if i in self.graph.consts)
        bias = self.graph.consts[other].astype(np.float64)
        if pending is None or pending[1] is not None:
            raise InvalidModel(f"Add node {name!r} does not follow a MatMul; vcp supports Add as a bias only")
        if bias.size not in (1, pending[0].shape[0]) or bias.ndim > 2 or (bias.ndim == 2 and bias.shape[0] != 1):
            raise InvalidModel(f"Add node {name!r}: bias of shape {bias.shape} does not match "
                               f"{pending[0].shape[0]} outputs")
        self.pending = (pending[0], np.broadcast_to(bias.reshape(-1), (pending[0].shape[0],)).copy())

    def _relu(self, node, name: str, a: dict) -> None:
        self.flush()
        self.layers.append(ReLU())

    def _reshape(self, node, name: str, a: dict) -> None:
        shape = self.graph.const(node.input[1], node, "the target shape").astype(np.int64).reshape(-1)
        current = (self.pending[0].shape[0] if self.pending else
                   next((lyr.weight.shape[0] for lyr in reversed(self.layers) if isinstance(lyr, Dense)), self.width))
        rest = shape[1:]
        known = int(np.prod([d for d in rest if d > 0])) if len(rest) else 1
        ok = (len(shape) >= 1 and shape[0] in (-1, 0) and -1 not in rest and known == current) or \
             (len(shape) >= 2 and shape[0] in (0,) and list(rest).count(-1) == 1) or \
             (len(shape) == 2 and shape[1] == -1 and shape[0] in (0,))
        if not ok:
            raise InvalidModel(f"Reshape node {name!r} to {shape.tolist()} would mix samples of a batch; vcp "
                               "supports reshapes that keep the batch axis")

    def _squeeze(self, node, name: str, a: dict) -> None:
        axes = a.get("axes")
        if axes is None and len(node.input) > 1 and node.input[1]:
            axes = self.graph.const(node.input[1], node, "axes").reshape(-1).tolist()
        if axes is None or 0 in [int(x) for x in axes]:
            raise InvalidModel(f"{node.op_type} node {name!r} touches the batch axis; vcp supports it on feature axes")

    def _flatten(self, node, name: str, a: dict) -> None:
        if a.get("axis", 1) != 1:
            raise InvalidModel(f"Flatten node {name!r} with axis {a.get('axis')}; vcp supports axis=1")

    def _dropout(self, node, name: str, a: dict) -> None:
        if len(node.input) > 2 and node.input[2] and bool(self.graph.const(node.input[2], node, "training_mode")):
            raise InvalidModel(f"Dropout node {name!r} is in training mode")

    def _cast(self, node, name: str, a: dict) -> None:
        if a.get("to") not in FLOAT_TYPES and self.head != "argmax":
            raise InvalidModel(f"Cast node {name!r} casts to type {a.get('to')}; only float casts are supported")

    def _final_head(self, node, name: str, a: dict) -> None:
        self.flush()
        self.head = node.op_type.lower()

    _HANDLERS = {"Gemm": _gemm, "MatMul": _matmul, "Add": _add, "Relu": _relu, "Reshape": _reshape,
                 "Squeeze": _squeeze, "Unsqueeze": _squeeze, "Flatten": _flatten, "Dropout": _dropout, "Cast": _cast,
                 "Softmax": _final_head, "LogSoftmax": _final_head, "ArgMax": _final_head}  # HEADS

    def finish(self, path: Path) -> list[Layer]:
        """The layers, checked to start with a dense layer that takes the input's width."""
        self.flush()
        layers = self.layers
        if not layers or not isinstance(layers[0], Dense):
            raise InvalidModel(f"{path}: no dense layer found between input and output")
        if layers[0].weight.shape[1] != self.width:
            raise InvalidModel(f"{path}: the first layer takes {layers[0].weight.shape[1]} values, "
                               f"the input has {self.width}")
        return layers


def import_onnx(path: Path, output: str | None = None) -> ImportedModel:
    """Read ``path`` into a float ``Model``; raises InvalidModel with the reason otherwise."""
    proto, digest = _load(path)
    graph = _Graph(proto)
    graph_input = _graph_input(path, proto, graph)
    output = _graph_output(path, proto, output)
    builder = _LayerBuilder(graph, graph_input.width)
    for node in graph.chain_to(output, graph_input.name):
        builder.add(node)
    layers = builder.finish(path)
    producer = f"{proto.producer_name} {proto.producer_version}".strip()
    identity = {
        "source": Path(path).name, "source_sha256": digest, "importer": IMPORTER, "producer": producer,
        "opset": {o.domain or "ai.onnx": o.version for o in proto.opset_import}, "output": output,
        "head": builder.head,
    }
    try:
        model = Model(name=Path(path).stem, layers=tuple(layers))
    except InvalidModel as exc:
        raise InvalidModel(f"{path}: {exc}") from exc
    return ImportedModel(model, builder.head, graph_input.name, output, graph_input.dims, identity)
