"""Every node's per-sample output shape, computed from the operators' fields without running them,
and the size limits a graph read from a file must keep (so a hostile file cannot make the first
run allocate more than it took to write)."""

from __future__ import annotations

import math

from vcp_toolkit.errors import InvalidInput, InvalidModel
from vcp_toolkit.model.graph.graph import INPUT
from vcp_toolkit.model.graph.pool import out_size
from vcp_toolkit.model.kernels import conv_geometry

MAX_TENSOR = 2**22  # int8 elements per sample of any node's input or output (MNIST: 784; 3x224x224: 150,528)


def _padded(shape: tuple, pads) -> int:
    c, h, w = shape
    return c * (h + pads[0] + pads[2]) * (w + pads[1] + pads[3])


def _out_shape(op, shapes: list[tuple]) -> tuple:
    x = shapes[0]
    kind = op.kind
    if kind in ("conv", "maxpool", "avgpool", "gap") and len(x) != 3:
        raise InvalidInput(f"{kind} needs (C, H, W) inputs, got {x}")
    if kind == "conv":
        if _padded(x, op.pads) > MAX_TENSOR:
            raise InvalidInput(f"conv padding {op.pads} makes {x} larger than {MAX_TENSOR:,} elements")
        g = conv_geometry((1,) + x, op.weight.shape, op.stride, op.pads, op.groups)
        return (g.out_channels,) + g.out_size
    if kind in ("maxpool", "avgpool"):
        if _padded(x, op.pads) > MAX_TENSOR:
            raise InvalidInput(f"pool padding {op.pads} makes {x} larger than {MAX_TENSOR:,} elements")
        return (x[0],) + out_size((1,) + x, op.kernel, op.stride, op.pads)
    if kind == "gap":
        return (x[0], 1, 1)
    if kind == "dense":
        if x != (op.weight.shape[1],):
            raise InvalidInput(f"dense takes ({op.weight.shape[1]},), gets {x}")
        return (op.weight.shape[0],)
    if kind == "flatten":
        return (math.prod(x),)
    if kind == "add" and shapes[1] != x:
        raise InvalidInput(f"add of shapes {x} and {shapes[1]}")
    return x  # add, clamp


def node_shapes(graph) -> dict[str, tuple[int, ...]]:
    """Per-sample output shape of every node (input first), or InvalidModel naming the node."""
    shapes = {INPUT: tuple(graph.input_shape)}
    if math.prod(shapes[INPUT]) > MAX_TENSOR:
        raise InvalidModel(f"input shape {shapes[INPUT]} holds over {MAX_TENSOR:,} elements")
    for node in graph.nodes:
        try:
            shape = _out_shape(node.op, [shapes[i] for i in node.inputs])
        except InvalidInput as exc:
            raise InvalidModel(f"node {node.name!r} ({node.op.kind}): {exc}") from None
        if math.prod(shape) > MAX_TENSOR:
            raise InvalidModel(f"node {node.name!r} ({node.op.kind}) outputs {shape}, over {MAX_TENSOR:,} elements")
        shapes[node.name] = tuple(int(d) for d in shape)
    return shapes
