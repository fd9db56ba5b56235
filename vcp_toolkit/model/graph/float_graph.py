"""The float reference graph an ONNX file is read into, and its executor (numpy float64).

Nodes are FloatNode(name, kind, inputs, params); kinds: conv, dense, maxpool, avgpool, gap, add,
flatten, clamp. ``act`` is the fused activation as a float interval (None = unbounded):
ReLU is (0, None), Clip(a, b) is (a, b).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from vcp_toolkit.errors import InvalidModel
from vcp_toolkit.model.graph.graph import INPUT
from vcp_toolkit.model.graph.pool import out_size

Interval = tuple  # (lo or None, hi or None)


@dataclass(frozen=True)
class FloatNode:
    name: str
    kind: str
    inputs: tuple[str, ...]
    params: dict = field(default_factory=dict)
    act: Interval = (None, None)


def _windows(x, kernel, stride, pads, fill):
    top, left, bottom, right = pads
    oh, ow = out_size(x.shape, kernel, stride, pads)
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=fill)
    return sliding_window_view(xp, tuple(kernel), axis=(2, 3))[:, :, ::stride[0], ::stride[1]][:, :, :oh, :ow]


def conv_float(x, w, b, stride, pads, groups):
    o, cg, kh, kw = w.shape
    if x.ndim != 4 or x.shape[1] != cg * groups:
        raise InvalidModel(f"conv weights {w.shape} with groups={groups} do not fit its input of shape {x.shape}")
    win = _windows(x, (kh, kw), stride, pads, 0.0)
    n, _, oh, ow = win.shape[:4]
    win = win.reshape(n, groups, cg, oh, ow, kh, kw)
    out = np.einsum("ngchwij,gocij->ngohw", win, w.reshape(groups, o // groups, cg, kh, kw), optimize=True)
    return out.reshape(n, o, oh, ow) + b[None, :, None, None]


def _avgpool(x, p):
    total = _windows(x, p["kernel"], p["stride"], p["pads"], 0.0).sum(axis=(4, 5))
    if p["count_include_pad"]:
        return total / (p["kernel"][0] * p["kernel"][1])
    ones = np.ones((1, 1) + x.shape[2:])
    return total / _windows(ones, p["kernel"], p["stride"], p["pads"], 0.0).sum(axis=(4, 5))


def _apply(node: FloatNode, xs: list[np.ndarray]) -> np.ndarray:
    p, x = node.params, xs[0]
    if node.kind == "conv":
        y = conv_float(x, p["weight"], p["bias"], p["stride"], p["pads"], p["groups"])
    elif node.kind == "dense":
        if x.ndim != 2 or x.shape[1] != p["weight"].shape[1]:
            raise InvalidModel(f"node {node.name!r}: dense layer takes {p['weight'].shape[1]} features, gets {x.shape}")
        y = x @ p["weight"].T + p["bias"]
    elif node.kind == "maxpool":
        y = _windows(x, p["kernel"], p["stride"], p["pads"], -np.inf).max(axis=(4, 5))
    elif node.kind == "avgpool":
        y = _avgpool(x, p)
    elif node.kind == "gap":
        y = x.mean(axis=(2, 3), keepdims=True)
    elif node.kind == "add":
        if x.shape != xs[1].shape:
            raise InvalidModel(f"node {node.name!r}: Add of shapes {x.shape} and {xs[1].shape} (no broadcasting)")
        y = x + xs[1]
    elif node.kind == "flatten":
        y = x.reshape(len(x), -1)
        if p.get("features", -1) not in (-1, y.shape[1]):
            raise InvalidModel(f"node {node.name!r}: Reshape to {p['features']} features, the tensor has {y.shape[1]}")
    else:
        y = x  # clamp: the interval below
    lo, hi = node.act
    return np.clip(y, -np.inf if lo is None else lo, np.inf if hi is None else hi)


@dataclass(frozen=True, eq=False)
class FloatGraph:
    input_shape: tuple[int, ...]
    nodes: tuple[FloatNode, ...]
    head: str | None = None  # "softmax" or "logsoftmax" after the last node in the ONNX file (not run here)

    def run(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Every node's float output, input first."""
        values = {INPUT: np.asarray(x, dtype=np.float64)}
        for node in self.nodes:
            values[node.name] = _apply(node, [values[i] for i in node.inputs])
        return values

    def output(self, x: np.ndarray) -> np.ndarray:
        return self.run(x)[self.nodes[-1].name]
