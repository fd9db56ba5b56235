"""Per-sample output shapes of the transformer node kinds (token_dense, layernorm, matmul, softmax,
gelu, reshape, transpose, take, prepend, const), computed from their fields without running them,
and ``graph_shapes``: model.graph.shapes.node_shapes for a graph that may hold them. A graph file is
checked with it before anything runs, so shapes that do not chain raise InvalidModel naming the node.
"""

from __future__ import annotations

import math

from vcp_toolkit.errors import InvalidInput, InvalidModel
from vcp_toolkit.model.fixedpoint import MAX_WIDTH
from vcp_toolkit.model.graph.graph import INPUT
from vcp_toolkit.model.graph.shapes import MAX_TENSOR, _out_shape

TRANSFORMER_KINDS = frozenset({"token_dense", "layernorm", "matmul", "softmax", "gelu", "reshape", "transpose",
                               "take", "prepend", "const"})


def _last_axis(x: tuple, width: int | None, kind: str) -> None:
    if not x or (width is not None and x[-1] != width):
        raise InvalidInput(f"{kind} of width {width} over the last axis gets {x}")


def _matmul(a: tuple, b: tuple) -> tuple:
    if len(a) < 2 or len(a) != len(b) or a[:-2] != b[:-2] or a[-1] != b[-2] or not 1 <= a[-1] <= MAX_WIDTH:
        raise InvalidInput(f"matmul needs (..., n, k) and (..., k, m) stacks of one shape, 1 <= k <= {MAX_WIDTH}, "
                           f"gets {a} and {b}")
    return a[:-1] + (b[-1],)


def _tokens(op, x: tuple) -> tuple:
    """take and prepend: (tokens, width) per sample."""
    if len(x) != 2:
        raise InvalidInput(f"{op.kind} needs (tokens, width) per sample, gets {x}")
    if op.kind == "take":
        if not 0 <= op.index < x[0]:
            raise InvalidInput(f"take of token {op.index} of {x[0]}")
        return (x[1],)
    if x[1] != len(op.token):
        raise InvalidInput(f"prepend of a token of width {len(op.token)} before {x}")
    return (x[0] + 1, x[1])


def transformer_shape(op, shapes: list[tuple]) -> tuple:
    """The per-sample output shape of a transformer node given its inputs' shapes, or InvalidInput."""
    x, kind = shapes[0], op.kind
    if kind == "token_dense":
        _last_axis(x, op.weight.shape[1], kind)
        return x[:-1] + (op.weight.shape[0],)
    if kind == "layernorm":
        _last_axis(x, op.gamma.shape[0], kind)
    elif kind == "softmax":
        _last_axis(x, None, kind)
        if x[-1] > MAX_WIDTH:
            raise InvalidInput(f"softmax over rows of {x[-1]}, above {MAX_WIDTH}")
    elif kind == "matmul":
        return _matmul(x, shapes[1])
    elif kind == "reshape":
        if math.prod(op.shape) != math.prod(x):
            raise InvalidInput(f"reshape of {x} to {op.shape}")
        return tuple(op.shape)
    elif kind == "transpose":
        if len(op.perm) != len(x) + 1:
            raise InvalidInput(f"transpose perm {op.perm} of a tensor of shape (N, {', '.join(map(str, x))})")
        return tuple(x[p - 1] for p in op.perm[1:])
    elif kind in ("take", "prepend"):
        return _tokens(op, x)
    elif kind == "const":
        return tuple(op.value.shape)
    return x  # gelu, and layernorm and softmax once checked


def graph_shapes(graph) -> dict[str, tuple[int, ...]]:
    """Per-sample output shape of every node (input first), or InvalidModel naming the node: as
    shapes.node_shapes, for graphs of every node kind."""
    shapes = {INPUT: tuple(graph.input_shape)}
    if math.prod(shapes[INPUT]) > MAX_TENSOR:
        raise InvalidModel(f"input shape {shapes[INPUT]} holds over {MAX_TENSOR:,} elements")
    for node in graph.nodes:
        ins = [shapes[i] for i in node.inputs]
        try:
            shape = transformer_shape(node.op, ins) if node.op.kind in TRANSFORMER_KINDS else _out_shape(node.op, ins)
        except InvalidInput as exc:
            raise InvalidModel(f"node {node.name!r} ({node.op.kind}): {exc}") from None
        if math.prod(shape) > MAX_TENSOR:
            raise InvalidModel(f"node {node.name!r} ({node.op.kind}) outputs {shape}, over {MAX_TENSOR:,} elements")
        shapes[node.name] = tuple(int(d) for d in shape)
    return shapes


def is_transformer(graph) -> bool:
    """True when ``graph`` holds a transformer node kind (commands beyond inspect and quantize refuse it)."""
    return any(node.op.kind in TRANSFORMER_KINDS for node in graph.nodes)
