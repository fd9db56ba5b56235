"""A sequential CNN cut to a fraction of its channels: the zk baseline's "largest size that fits".

EZKL's memory grows with the circuit's rows, and the rows with the multiply-adds. When the whole
built-in LeNet does not fit in a machine's memory, the bench proves the same network with the first
``ceil(fraction * n)`` output channels of every conv and hidden dense layer kept (their integer
weights, biases and rescales unchanged; the dense layer after Flatten keeps the columns of the kept
channels). Its accuracy is not the point, its circuit size is: the same operators at a known scale.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from vcp_toolkit.errors import InvalidModel
from vcp_toolkit.model.graph import Conv2D, Dense, IntGraph, IntNode


def _kept(n: int, fraction: float) -> int:
    return max(1, math.ceil(n * fraction))


def _conv(op: Conv2D, inputs: np.ndarray, outputs: int) -> Conv2D:
    return dataclasses.replace(op, weight=np.ascontiguousarray(op.weight[:outputs][:, inputs]),
                               bias=op.bias[:outputs].copy(), multiplier=op.multiplier[:outputs].copy(),
                               shift=op.shift[:outputs].copy())


def _dense(op: Dense, inputs: np.ndarray, outputs: int) -> Dense:
    return Dense(np.ascontiguousarray(op.weight[:outputs][:, inputs]), op.bias[:outputs].copy(),
                 op.multiplier[:outputs].copy(), op.shift[:outputs].copy(), op.lo, op.hi)


def narrowed(graph: IntGraph, fraction: float) -> IntGraph:
    """``graph`` (a chain of conv, pool, flatten and dense nodes, groups = 1) with ``fraction`` of the
    channels of every conv and of every dense node but the last kept."""
    if not 0 < fraction <= 1:
        raise InvalidModel(f"fraction must be in (0, 1], got {fraction}")
    channels = np.arange(graph.input_shape[0])  # kept channels (or features) of the current tensor
    spatial = int(np.prod(graph.input_shape[1:]))
    nodes = []
    for i, node in enumerate(graph.nodes):
        op, last = node.op, i == len(graph.nodes) - 1
        if node.op.arity != 1 or getattr(op, "groups", 1) != 1:
            raise InvalidModel(f"narrowing needs a chain without residual adds or grouped convs: {node.name!r}")
        if op.kind == "conv":
            op = _conv(op, channels, _kept(op.weight.shape[0], fraction))
            channels = np.arange(op.weight.shape[0])
        elif op.kind == "flatten":
            channels = (channels[:, None] * spatial + np.arange(spatial)[None, :]).reshape(-1)
        elif op.kind == "dense":
            op = _dense(op, channels, op.weight.shape[0] if last else _kept(op.weight.shape[0], fraction))
            channels = np.arange(op.weight.shape[0])
        spatial = _spatial_after(graph, i, spatial)
        nodes.append(IntNode(node.name, op, node.inputs, node.scale))
    return dataclasses.replace(graph, nodes=tuple(nodes), name=f"{graph.name}-x{fraction:g}",
                               metadata={**graph.metadata, "narrowed_from": graph.name, "fraction": fraction})


def _spatial_after(graph: IntGraph, index: int, spatial: int) -> int:
    """Cells per channel of node ``index``'s output (1 once flattened)."""
    shape = graph.run(np.zeros((1,) + tuple(graph.input_shape), dtype=np.int8)).trace[graph.nodes[index].name].shape
    return int(np.prod(shape[2:])) if len(shape) == 4 else 1
