"""One handler per ONNX op type for vit_onnx's reader: each checks its node's pattern and emits (or
folds into) float nodes, or raises InvalidModel naming the node and what it needed."""

from __future__ import annotations

import math

import numpy as np

from vcp_toolkit.model.graph.vit_onnx import BATCH, SQRT2_TOLERANCE, _check, _Reader, near


def _shape_value(r: _Reader, name: str) -> np.ndarray | None:
    """A 1-D integer shape (constant or computed from Shape), or None."""
    if name in r.shapes:
        return r.shapes[name]
    value = r.g.consts.get(name)
    if value is not None and np.asarray(value).ndim == 1 and np.issubdtype(np.asarray(value).dtype, np.integer):
        return np.asarray(value, dtype=np.int64)
    return None


def _optional(r: _Reader, node, i: int, what: str, width: int) -> np.ndarray:
    """Optional constant input ``i`` as float64, zeros of ``width`` when absent."""
    if len(node.input) > i and node.input[i]:
        return r.const(node, i, what).astype(np.float64)
    return np.zeros(width)


def _consumers(r: _Reader, tensor: str) -> list:
    return [n for n in r.g.proto.graph.node if tensor in n.input]


def _rank(r: _Reader, name: str) -> int:
    return len(r.shape(name)) + 1


def _conv(r: _Reader, node, a: dict) -> None:
    x = r.act(node, 0)
    w = r.const(node, 1, "the weight").astype(np.float64)
    _check(w.ndim == 4, node, f"weights of shape {w.shape}; 2-D convolutions only")
    _check(int(a.get("group", 1)) == 1, node, "group other than 1")
    _check(all(d == 1 for d in a.get("dilations", [1, 1])), node, "dilations other than 1")
    _check(a.get("auto_pad", b"NOTSET") in (b"NOTSET", "NOTSET"), node, "auto_pad (use pads)")
    _check(tuple(a.get("kernel_shape", w.shape[2:])) == w.shape[2:], node, "kernel_shape differs from the weights")
    bias = _optional(r, node, 2, "the bias", len(w))
    r.emit([node], "conv", [x], weight=w, bias=bias, stride=tuple(a.get("strides", [1, 1])),
           pads=tuple(a.get("pads", [0, 0, 0, 0])))


def _shape(r: _Reader, node, a: dict) -> None:
    src = node.input[0]
    if src in r.views:
        base, slices = r.views[src]
        full = (BATCH,) + r.sample[base][slices].shape[1:]
    else:
        full = (BATCH,) + r.shape(r.act(node, 0))
    r.shapes[node.output[0]] = np.array(full[a.get("start", 0):a.get("end", None)], dtype=np.int64)


def _slice(r: _Reader, node, a: dict) -> None:
    starts, ends = r.const(node, 1, "starts"), r.const(node, 2, "ends")
    axes = r.const(node, 3, "axes") if len(node.input) > 3 and node.input[3] else np.arange(len(starts))
    steps = r.const(node, 4, "steps") if len(node.input) > 4 and node.input[4] else np.ones(len(starts), np.int64)
    shape = _shape_value(r, node.input[0])
    if shape is not None:  # arithmetic on a shape
        _check(list(axes) == [0], node, "a Slice of a shape must be on axis 0")
        r.shapes[node.output[0]] = shape[int(starts[0]):int(ends[0]):int(steps[0])]
        return
    x = r.act(node, 0)
    rank = _rank(r, x)
    _check(all(0 < int(ax) % rank for ax in axes), node, "a Slice of an activation may not cut the batch axis")
    readers = _consumers(r, node.output[0])
    _check(bool(readers) and all(n.op_type == "Shape" for n in readers), node,
           "a Slice of an activation is supported only as the input of Shape (the class token's Expand)")
    slices = [slice(None)] * rank
    for start, end, ax, step in zip(starts, ends, axes, steps, strict=True):
        slices[int(ax) % rank] = slice(int(start), int(end), int(step))
    r.views[node.output[0]] = (x, tuple(slices))


def _concat(r: _Reader, node, a: dict) -> None:
    shapes = [_shape_value(r, i) for i in node.input]
    if all(s is not None for s in shapes):
        r.shapes[node.output[0]] = np.concatenate(shapes)
        return
    ok = len(node.input) == 2 and node.input[0] in r.batch_consts and r.is_act(node.input[1])
    _check(ok, node, "Concat is supported of shapes, or of a batch-expanded constant row before an activation")
    x = r.act(node, 1)
    _check(int(a.get("axis", 0)) % _rank(r, x) == 1, node, "the class token must be concatenated on axis 1")
    token = r.batch_consts[node.input[0]]
    _check(token.shape == (1,) + r.shape(x)[1:], node, f"a constant of shape {token.shape} before {r.shape(x)}")
    r.emit([node], "prepend", [x], token=token[0])


def _expand(r: _Reader, node, a: dict) -> None:
    value = r.const(node, 0, "the expanded tensor").astype(np.float64)
    shape = _shape_value(r, node.input[1])
    _check(shape is not None, node, "the target shape must be computable at import")
    ok = value.ndim == len(shape) and value.shape[0] == 1 and shape[0] == BATCH and tuple(shape[1:]) == value.shape[1:]
    _check(ok, node, f"only a constant of shape {value.shape} expanded over the batch axis is supported")
    r.batch_consts[node.output[0]] = value[0]


def _reshape(r: _Reader, node, a: dict) -> None:
    x = r.act(node, 0)
    shape = _shape_value(r, node.input[1])
    _check(shape is not None, node, "the shape must be a constant")
    _check(len(shape) >= 2 and int(shape[0]) in (-1, BATCH), node, "the batch axis must stay first (-1)")
    rest = tuple(int(d) for d in shape[1:])
    _check(all(d > 0 for d in rest), node, f"the per-sample shape {rest} must be given in full")
    _check(math.prod(rest) == math.prod(r.shape(x)), node, f"cannot reshape {r.shape(x)} to {rest}")
    r.emit([node], "reshape", [x], shape=rest)


def _transpose(r: _Reader, node, a: dict) -> None:
    x = r.act(node, 0)
    perm = tuple(int(p) for p in a.get("perm", ()))
    _check(len(perm) == _rank(r, x) and perm[0] == 0 and sorted(perm) == list(range(len(perm))), node,
           f"perm {perm} must keep the batch axis first")
    r.emit([node], "transpose", [x], perm=perm)


def _layernorm(r: _Reader, node, a: dict) -> None:
    x = r.act(node, 0)
    rank = _rank(r, x)
    axis = int(a.get("axis", -1))
    _check(axis % rank == rank - 1, node, f"normalises from axis {axis}; only the last axis is supported")
    _check(int(a.get("stash_type", 1)) == 1, node, "stash_type other than 1 (float32)")
    _check(not any(node.output[1:]), node, "mean and inverse-deviation outputs are not supported")
    width = r.shape(x)[-1]
    gamma = r.const(node, 1, "the scale").astype(np.float64)
    beta = _optional(r, node, 2, "the bias", width)
    _check(gamma.shape == (width,) and beta.shape == (width,), node, f"scale and bias must have shape ({width},)")
    r.emit([node], "layernorm", [x], gamma=gamma, beta=beta, epsilon=float(a.get("epsilon", 1e-5)))


def _matmul(r: _Reader, node, a: dict) -> None:
    x = r.act(node, 0)
    if node.input[1] in r.g.consts:
        w = r.const(node, 1, "the weight").astype(np.float64)
        _check(w.ndim == 2 and r.shape(x)[-1] == w.shape[0], node, f"weight {w.shape} for input {r.shape(x)}")
        name = r.emit([node], "dense", [x], weight=np.ascontiguousarray(w.T), bias=np.zeros(w.shape[1]))
        r.open_bias.add(name)
        return
    b = r.act(node, 1)
    _check(_rank(r, x) >= 3 and r.shape(x)[:-2] == r.shape(b)[:-2], node, "MatMul of stacks of one shape only")
    r.emit([node], "matmul", [x, b], scale=1.0)


def _constant_operand(r: _Reader, node) -> tuple[str, np.ndarray]:
    """(activation name, constant) of a binary node with one of each."""
    acts = [i for i in node.input if r.is_act(i)]
    consts = [i for i in node.input if i in r.g.consts]
    _check(len(acts) == 1 and len(consts) == 1, node, "needs one activation and one constant")
    return acts[0], np.asarray(r.g.consts[consts[0]], dtype=np.float64)


def _add(r: _Reader, node, a: dict) -> None:
    if all(r.is_act(i) for i in node.input):
        x, y = r.act(node, 0), r.act(node, 1)
        _check(r.shape(x) == r.shape(y), node, f"Add of shapes {r.shape(x)} and {r.shape(y)} (no broadcasting)")
        r.emit([node], "add", [x, y])
        return
    tensor, c = _constant_operand(r, node)
    src = r.alias[tensor]
    width = r.shape(src)[-1]
    if src in r.open_bias and r.readers[tensor] == 1 and c.size == width and c.shape[-1:] == (width,):
        r.open_bias.discard(src)
        r.replace(src, node, bias=c.reshape(width))
        return
    value = c[0] if c.ndim == len(r.shape(src)) + 1 and c.shape[0] == 1 else c
    _check(value.ndim <= len(r.shape(src)) and np.broadcast_shapes(value.shape, r.shape(src)) == r.shape(src),
           node, f"a constant of shape {c.shape} does not broadcast over {r.shape(src)} per sample")
    r.emit([node], "add_const", [src], value=value)


def _mul(r: _Reader, node, a: dict) -> None:
    tensor, c = _constant_operand(r, node)
    src = r.alias[tensor]
    ok = c.size == 1 and r.nodes[-1].name == src and r.nodes[-1].kind == "matmul" and r.readers[tensor] == 1
    _check(ok, node, "Mul by a constant is supported only as the scale right after a MatMul of two activations, "
           "or inside the exact GELU pattern")
    r.replace(src, node, scale=r.nodes[-1].params["scale"] * float(c.reshape(())))


def _only_reader(r: _Reader, node, op_type: str, start) -> object:
    readers = _consumers(r, node.output[0])
    _check(len(readers) == 1 and readers[0].op_type == op_type, start,
           "only the exact GELU pattern Div(x, sqrt 2) -> Erf -> Add 1 -> Mul x -> Mul 0.5 is supported")
    return readers[0]


def _other_input(node, known: str) -> str:
    rest = [i for i in node.input if i != known]
    return rest[0] if len(rest) == 1 else ""


def _div(r: _Reader, node, a: dict) -> None:
    x = r.act(node, 0)
    _check(near(r.const(node, 1, "the divisor"), math.sqrt(2), SQRT2_TOLERANCE), node,
           "Div is supported only as the division by sqrt 2 of the exact GELU pattern")
    erf = _only_reader(r, node, "Erf", node)
    add = _only_reader(r, erf, "Add", node)
    one = _other_input(add, erf.output[0])
    _check(one in r.g.consts and near(r.g.consts[one], 1.0), node, "GELU pattern: Erf + 1 expected")
    mul = _only_reader(r, add, "Mul", node)
    _check(_other_input(mul, add.output[0]) == node.input[0], node, "GELU pattern: x * (1 + erf) expected")
    half = _only_reader(r, mul, "Mul", node)
    c = _other_input(half, mul.output[0])
    _check(c in r.g.consts and near(r.g.consts[c], 0.5), node, "GELU pattern: a final Mul by 0.5 expected")
    r.emit([node, erf, add, mul, half], "gelu", [x])
    r.skip.update(n.output[0] for n in (erf, add, mul, half))


def _gelu(r: _Reader, node, a: dict) -> None:
    approximate = a.get("approximate", b"none")
    _check(approximate in (b"none", "none"), node, f"approximate={approximate!r}; only exact (erf) GELU")
    r.emit([node], "gelu", [r.act(node, 0)])


def _erf(r: _Reader, node, a: dict) -> None:
    _check(False, node, "Erf is supported only inside the exact GELU pattern")


def _softmax(r: _Reader, node, a: dict) -> None:
    x = r.act(node, 0)
    rank = _rank(r, x)
    axis = int(a.get("axis", -1 if r.opset >= 13 else 1))
    _check(axis % rank == rank - 1, node, f"Softmax over axis {axis}; only the last axis is supported")
    r.emit([node], "softmax", [x])


def _gather(r: _Reader, node, a: dict) -> None:
    x = r.act(node, 0)
    index = r.const(node, 1, "the index")
    _check(int(a.get("axis", 0)) % _rank(r, x) == 1 and index.ndim == 0, node,
           "Gather is supported of one scalar index on axis 1 (the class token)")
    _check(-r.shape(x)[0] <= int(index) < r.shape(x)[0], node, f"index {int(index)} out of range")
    r.emit([node], "take", [x], index=int(index) % r.shape(x)[0])


def _gemm(r: _Reader, node, a: dict) -> None:
    x = r.act(node, 0)
    _check(float(a.get("alpha", 1.0)) == 1.0 and float(a.get("beta", 1.0)) == 1.0 and not a.get("transA", 0), node,
           "alpha, beta other than 1 or transA")
    w = r.const(node, 1, "the weight").astype(np.float64)
    w = w if a.get("transB", 0) else w.T
    _check(w.ndim == 2 and len(r.shape(x)) == 1 and r.shape(x)[0] == w.shape[1], node,
           f"weight {w.shape} for input {r.shape(x)}")
    bias = _optional(r, node, 2, "the bias", len(w))
    _check(bias.size == len(w), node, f"bias of shape {bias.shape}")
    r.emit([node], "dense", [x], weight=w, bias=bias.reshape(len(w)))


HANDLERS = {"Conv": _conv, "Shape": _shape, "Slice": _slice, "Concat": _concat, "Expand": _expand,
            "Reshape": _reshape, "Transpose": _transpose, "LayerNormalization": _layernorm, "MatMul": _matmul,
            "Add": _add, "Mul": _mul, "Div": _div, "Erf": _erf, "Gelu": _gelu, "Softmax": _softmax,
            "Gather": _gather, "Gemm": _gemm}
