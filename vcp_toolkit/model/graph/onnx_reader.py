"""Read a CNN from ONNX (torch TorchScript and dynamo exports) into a FloatGraph.

Ops: Conv, BatchNormalization (folded into the Conv before it), Relu, Clip (fused into the node
before them when that node's only reader is them, else a standalone clamp), MaxPool, AveragePool,
GlobalAveragePool, Add (two activations: residual; activation + constant after MatMul: bias),
Flatten (axis 1), Reshape to (batch, features), Gemm, MatMul, Identity, Dropout, Constant,
ReduceMean over H and W (a global average pool, as the dynamo exporter writes it), and the shape
arithmetic TorchScript writes for ``x.view(x.size(0), -1)``: Shape, then Gather, Unsqueeze,
Squeeze, Concat or Cast on constants, folded at import (the batch size stays symbolic); a Cast of
an activation to float is a no-op. A Reshape to the tensor's own shape is a no-op, a Squeeze of a
(C, 1, 1) activation a flatten, and a final Softmax or LogSoftmax the model's head (FloatGraph.head:
the integer graph ends at the logits, which have the same top-1).
Anything else raises InvalidModel naming the op and the node.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from vcp_toolkit.errors import InvalidInput, InvalidModel
from vcp_toolkit.model.graph.float_graph import FloatGraph, FloatNode
from vcp_toolkit.model.graph.graph import INPUT
from vcp_toolkit.model.onnx_import import _Graph, _attrs, _dims, _graph_input, _graph_output, _load

SUPPORTED = ("Conv", "BatchNormalization", "Relu", "Clip", "MaxPool", "AveragePool", "GlobalAveragePool", "Add",
             "Flatten", "Reshape", "Gemm", "MatMul", "Identity", "Dropout", "Constant", "ReduceMean", "Shape",
             "Gather", "Unsqueeze", "Squeeze", "Concat", "Cast", "Softmax", "LogSoftmax")
BATCH = -(2**62)  # the batch size inside folded shape arithmetic (exact as an int64 and as a float64)


def _label(node) -> str:
    return f"{node.op_type} node {node.name or '(unnamed)'!r}"


def _check(cond: bool, node, what: str) -> None:
    if not cond:
        raise InvalidModel(f"{_label(node)}: {what}")


class _Builder:
    def __init__(self, graph: _Graph, input_name: str, input_shape: tuple) -> None:
        self.g = graph
        self.input_shape = input_shape
        self.graph_output = ""  # the ONNX output read (a final Softmax must produce it)
        self.head: str | None = None
        self.alias = {input_name: INPUT}  # ONNX tensor -> float node name
        self.nodes: dict[str, dict] = {}  # node name -> FloatNode fields (mutable while fusing)
        # A Shape node reads only the shape: it must not stop a ReLU from fusing into its producer.
        self.readers = Counter(i for n in graph.proto.graph.node if n.op_type != "Shape"
                               for i in n.input if i not in graph.consts)

    def shape_of(self, name: str) -> tuple[int, ...]:
        """The per-sample shape of float node ``name`` (the graph so far, run on one zero image)."""
        if name == INPUT:
            return tuple(self.input_shape)
        nodes = tuple(_float_node(f) for f in _reachable(self.nodes, name))
        return FloatGraph(tuple(self.input_shape), nodes).output(np.zeros((1,) + tuple(self.input_shape))).shape[1:]

    def live(self, node) -> list[str]:
        names = [i for i in node.input if i and i not in self.g.consts]
        for name in names:
            _check(name in self.alias, node, f"reads {name!r}, which no supported node produced")
        return [self.alias[n] for n in names]

    def emit(self, node, kind: str, inputs: list[str], name: str | None = None, **params) -> None:
        name = name or node.output[0]
        self.nodes[name] = dict(name=name, kind=kind, inputs=tuple(inputs), params=params, act=(None, None))
        self.alias[node.output[0]] = name

    def fusable(self, node, kinds: tuple) -> dict | None:
        """The node producing ``node``'s input when it may absorb ``node`` (it has no other reader)."""
        src = node.input[0]
        target = self.nodes.get(self.alias.get(src, ""))
        if target and target["kind"] in kinds and self.readers[src] == 1 and target["act"] == (None, None):
            return target
        return None

    def const(self, node, i: int, what: str):
        _check(len(node.input) > i and node.input[i] in self.g.consts, node, f"{what} must be a constant")
        return np.asarray(self.g.consts[node.input[i]], dtype=np.float64)

    def optional(self, node, i: int):
        return self.const(node, i, "input") if len(node.input) > i and node.input[i] else None


def _window(node, a: dict, kernel_rank: int = 2) -> dict:
    _check(a.get("auto_pad", b"NOTSET") in (b"NOTSET", "NOTSET"), node, "auto_pad is not supported (use pads)")
    _check(all(d == 1 for d in a.get("dilations", [1] * kernel_rank)), node, "dilations other than 1")
    _check(a.get("ceil_mode", 0) == 0, node, "ceil_mode=1 is not supported")
    kernel = tuple(a.get("kernel_shape", ()))
    _check(len(kernel) == kernel_rank, node, f"2-D kernels only, got {kernel}")
    return dict(kernel=kernel, stride=tuple(a.get("strides", [1, 1])), pads=tuple(a.get("pads", [0, 0, 0, 0])))


def _conv(b: _Builder, node, a: dict) -> None:
    w = b.const(node, 1, "the weight")
    _check(w.ndim == 4, node, f"weights of shape {w.shape}; 2-D convolutions only")
    win = _window(node, {"kernel_shape": a.get("kernel_shape", w.shape[2:]), **a})
    _check(win["kernel"] == w.shape[2:], node, "kernel_shape differs from the weights")
    groups = int(a.get("group", 1))
    _check(groups == 1 or w.shape[1] == 1, node, f"group={groups}: only 1 or depthwise")
    bias = b.optional(node, 2)
    b.emit(node, "conv", b.live(node), weight=w, bias=np.zeros(len(w)) if bias is None else bias,
           stride=win["stride"], pads=win["pads"], groups=groups)


def _batchnorm(b: _Builder, node, a: dict) -> None:
    target = b.fusable(node, ("conv",))
    _check(target is not None, node, "BatchNormalization must follow a Conv that nothing else reads (it is folded)")
    _check(len(node.output) == 1 or not any(node.output[1:]), node, "training-mode outputs")
    gamma, beta, mean, var = (b.const(node, i, n) for i, n in enumerate(("scale", "B", "mean", "var"), start=1))
    factor = gamma / np.sqrt(var + float(a.get("epsilon", 1e-5)))
    p = target["params"]
    p["weight"] = p["weight"] * factor[:, None, None, None]
    p["bias"] = (p["bias"] - mean) * factor + beta
    b.alias[node.output[0]] = target["name"]


def _activation(b: _Builder, node, interval: tuple) -> None:
    target = b.fusable(node, ("conv", "dense", "add"))
    if target is not None:
        target["act"] = interval
        b.alias[node.output[0]] = target["name"]
    else:
        b.emit(node, "clamp", b.live(node)[:1])
        b.nodes[node.output[0]]["act"] = interval


def _clip(b: _Builder, node, a: dict) -> None:
    lo, hi = a.get("min"), a.get("max")  # opset < 11: attributes; later: optional inputs
    if len(node.input) > 1:
        lo = None if b.optional(node, 1) is None else float(b.optional(node, 1))
        hi = None if b.optional(node, 2) is None else float(b.optional(node, 2))
    _activation(b, node, (lo, hi))


def _dense(b: _Builder, node, weight: np.ndarray, bias: np.ndarray) -> None:
    _check(weight.ndim == 2 and bias.size in (1, len(weight)), node, f"weights {weight.shape}, bias {bias.shape}")
    b.emit(node, "dense", b.live(node), weight=weight, bias=np.broadcast_to(bias.ravel(), (len(weight),)).copy())


def _gemm(b: _Builder, node, a: dict) -> None:
    _check(a.get("transA", 0) == 0, node, "transA=1 is not supported")
    w = b.const(node, 1, "the weight")
    w = (w if a.get("transB", 0) else w.T) * float(a.get("alpha", 1.0))
    c = b.optional(node, 2)
    _dense(b, node, w, np.zeros(1) if c is None else c * float(a.get("beta", 1.0)))


def _add(b: _Builder, node, a: dict) -> None:
    live = b.live(node)
    if len(live) == 2:
        b.emit(node, "add", live)
        return
    target = b.fusable(node, ("dense",))
    _check(target is not None and target["params"].get("matmul", False), node,
           "adds a constant to something other than a MatMul; vcp supports Add as a residual or a MatMul bias")
    const = [i for i in node.input if i in b.g.consts]
    target["params"]["bias"] = target["params"]["bias"] + np.asarray(b.g.consts[const[0]], dtype=np.float64).ravel()
    target["params"]["matmul"] = False
    b.alias[node.output[0]] = target["name"]


def _matmul(b: _Builder, node, a: dict) -> None:
    w = b.const(node, 1, "the second operand (weights)")
    _dense(b, node, w.T, np.zeros(1))
    b.nodes[node.output[0]]["params"]["matmul"] = True


def _reshape(b: _Builder, node, a: dict) -> None:
    """To (batch, features): a flatten; to the tensor's own shape (tf2onnx writes one for a layout
    change of a single channel): nothing."""
    shape = [0 if v == BATCH else v for v in b.const(node, 1, "the target shape").astype(np.int64).tolist()]
    source = b.live(node)[0]
    if len(shape) > 2 and shape[0] in (0, -1) and _resolved(shape[1:], b.shape_of(source)) == b.shape_of(source):
        b.alias[node.output[0]] = source
        return
    _check(len(shape) == 2 and (shape[0] in (0, -1) or shape[1] == -1), node,
           f"reshape to {shape}; vcp supports (batch, features) and reshapes that keep the shape only")
    b.emit(node, "flatten", [source], features=int(shape[1]))


def _resolved(target: list[int], current: tuple[int, ...]) -> tuple[int, ...]:
    """A per-sample Reshape target with 0 (copy) and -1 (infer) replaced, as ONNX reads them."""
    dims = [current[i] if v == 0 and i < len(current) else v for i, v in enumerate(target)]
    known = int(np.prod([d for d in dims if d != -1]))
    if dims.count(-1) == 1 and known > 0:
        dims[dims.index(-1)] = int(np.prod(current)) // known
    return tuple(dims)


def _flatten(b: _Builder, node, a: dict) -> None:
    _check(a.get("axis", 1) == 1, node, f"axis={a.get('axis')}; vcp supports axis=1")
    b.emit(node, "flatten", b.live(node))


def _pass(b: _Builder, node, a: dict) -> None:
    _check(node.op_type != "Dropout" or not a.get("training_mode"), node, "training mode")
    if node.input[0] in b.g.consts:  # torch's TorchScript exporter shares parameters through Identity
        b.g.consts[node.output[0]] = b.g.consts[node.input[0]]
    else:
        b.alias[node.output[0]] = b.live(node)[0]


def _reduce_mean(b: _Builder, node, a: dict) -> None:
    """ReduceMean over H and W (how the dynamo exporter writes adaptive_avg_pool2d(1)): GlobalAveragePool."""
    axes = b.optional(node, 1) if len(node.input) > 1 else a.get("axes")  # an input from opset 18
    _check(axes is not None and sorted(int(v) % 4 for v in np.ravel(axes)) == [2, 3], node,
           f"axes {None if axes is None else np.ravel(axes).tolist()}; vcp supports the mean over H and W only")
    if a.get("keepdims", 1):
        b.emit(node, "gap", b.live(node))
    else:  # (N, C): the pooled cells, then their layout
        b.emit(node, "gap", b.live(node), name=node.output[0] + ":gap")
        b.emit(node, "flatten", [node.output[0] + ":gap"])


def _shape(b: _Builder, node, a: dict) -> None:
    _check(a.get("start", 0) == 0 and a.get("end") is None, node, "start and end are not supported")
    b.g.consts[node.output[0]] = np.array((BATCH,) + b.shape_of(b.live(node)[0]), dtype=np.int64)


def _axes(b: _Builder, node, a: dict) -> list[int]:
    axes = b.optional(node, 1) if len(node.input) > 1 else a.get("axes")  # an input from opset 13
    return [] if axes is None else [int(v) for v in np.ravel(axes)]


def _fold(fn):
    """Shape arithmetic on constants, computed now: the result is a constant too."""
    def build(b: _Builder, node, a: dict) -> None:
        names = [i for i in node.input if i]
        _check(all(i in b.g.consts for i in names), node,
               "only folded on constants (shape arithmetic); vcp does not run it on activations")
        values = [np.asarray(b.g.consts[i]) for i in names]
        try:
            b.g.consts[node.output[0]] = np.asarray(fn(b, node, a, values))
        except (ValueError, IndexError, TypeError, np.exceptions.AxisError) as exc:
            raise InvalidModel(f"{_label(node)}: {exc}") from None
    return build


def _unsqueeze(b, node, a, values):
    out = values[0]
    for axis in sorted(v % (out.ndim + len(_axes(b, node, a))) for v in _axes(b, node, a)):
        out = np.expand_dims(out, axis)
    return out


def _squeeze(b, node, a, values):
    axes = _axes(b, node, a)
    return np.squeeze(values[0], axis=tuple(axes) if axes else None)


def _cast(b, node, a, values):
    from onnx import helper

    return values[0].astype(helper.tensor_dtype_to_np_dtype(a["to"]))


def _cast_any(b: _Builder, node, a: dict) -> None:
    """A Cast of constants is folded; a Cast of an activation to float (exporters write them) is a no-op."""
    from onnx import TensorProto

    if node.input[0] in b.g.consts:
        _fold(_cast)(b, node, a)
    else:
        _check(a.get("to") in (TensorProto.FLOAT, TensorProto.DOUBLE), node, "casts an activation to a non-float type")
        b.alias[node.output[0]] = b.live(node)[0]


def _squeeze_any(b: _Builder, node, a: dict) -> None:
    """Squeeze of constants is folded; of a (C, 1, 1) activation (tf2onnx after a global average
    pool) it is a flatten."""
    if node.input[0] in b.g.consts:
        _fold(_squeeze)(b, node, a)
        return
    source = b.live(node)[0]
    shape, axes = b.shape_of(source), sorted(v % 4 for v in _axes(b, node, a))
    _check(len(shape) == 3 and axes == [2, 3] and shape[1:] == (1, 1), node,
           f"squeezes axes {axes} of a tensor of shape {shape}; vcp supports (C, 1, 1) to (C,) only")
    b.emit(node, "flatten", [source])


def _head(kind: str):
    """A final Softmax / LogSoftmax: monotonic, so the integer graph ends at the logits before it."""
    def build(b: _Builder, node, a: dict) -> None:
        _check(node.output[0] == b.graph_output, node, f"{kind} is supported only as the model's last op")
        _check(a.get("axis", -1) in (-1, 1), node, f"axis={a.get('axis')}; the class axis must be the last")
        b.alias[node.output[0]] = b.live(node)[0]
        b.head = kind
    return build


FOLDED = {"Gather": _fold(lambda b, n, a, v: np.take(v[0], v[1].astype(np.int64), axis=a.get("axis", 0))),
          "Concat": _fold(lambda b, n, a, v: np.concatenate(v, axis=a["axis"])),
          "Unsqueeze": _fold(_unsqueeze), "Squeeze": _squeeze_any, "Cast": _cast_any,
          "Softmax": _head("softmax"), "LogSoftmax": _head("logsoftmax")}


def _pool(kind):
    def build(b: _Builder, node, a: dict) -> None:
        _check(len(node.output) == 1 or not any(node.output[1:]), node, "the Indices output is not supported")
        _check(a.get("storage_order", 0) == 0, node, "storage_order=1")
        b.emit(node, kind, b.live(node), **_window(node, a), count_include_pad=bool(a.get("count_include_pad", 0)))
    return build


HANDLERS = {"Conv": _conv, "BatchNormalization": _batchnorm, "Clip": _clip, "Gemm": _gemm, "MatMul": _matmul,
            "Add": _add, "Reshape": _reshape, "Flatten": _flatten, "Identity": _pass, "Dropout": _pass,
            "MaxPool": _pool("maxpool"), "AveragePool": _pool("avgpool"),
            "ReduceMean": _reduce_mean, "Relu": lambda b, n, a: _activation(b, n, (0.0, None)), "Shape": _shape,
            **FOLDED,
            "GlobalAveragePool": lambda b, n, a: b.emit(n, "gap", b.live(n))}


def _float_node(fields: dict) -> FloatNode:
    params = {k: v for k, v in fields["params"].items() if k != "matmul"}
    return FloatNode(fields["name"], fields["kind"], fields["inputs"], params, fields["act"])


def read_onnx_graph(path: Path) -> FloatGraph:
    """The FloatGraph of an ONNX CNN; InvalidModel (naming the file, op and node) otherwise."""
    proto, _digest = _load(Path(path))
    try:
        graph = _Graph(proto)
        graph_input = _graph_input(path, proto, graph)
        builder = _Builder(graph, graph_input.name, tuple(graph_input.dims[1:]))
        builder.graph_output = _graph_output(path, proto, None)
        for node in proto.graph.node:
            if node.op_type == "Constant":
                continue
            handler = HANDLERS.get(node.op_type)
            _check(handler is not None, node, f"unsupported op; vcp's operator graph supports {', '.join(SUPPORTED)}")
            handler(builder, node, _attrs(node))
        out = builder.alias.get(_graph_output(path, proto, None))
        if out is None or out == INPUT:
            raise InvalidModel("the graph output is not computed by supported nodes")
        nodes = _reachable(builder.nodes, out)
        result = FloatGraph(tuple(graph_input.dims[1:]), tuple(_float_node(f) for f in nodes), builder.head)
        result.run(np.zeros((1,) + result.input_shape))  # shapes must chain: fail here, not at calibration
        return result
    except InvalidInput as exc:  # InvalidModel included: a pool larger than its input is the model's fault
        raise InvalidModel(f"{path}: {exc}") from None


def _reachable(nodes: dict[str, dict], out: str) -> list[dict]:
    """The nodes ``out`` depends on, in file (topological) order, ``out`` last."""
    needed, stack = set(), [out]
    while stack:
        name = stack.pop()
        if name in needed or name == INPUT:
            continue
        needed.add(name)
        stack.extend(nodes[name]["inputs"])
    return [f for name, f in nodes.items() if name in needed]
