"""The float graph of a vision transformer as vit_onnx reads it, and its float64 numpy executor.

Nodes are ``VitNode(name, kind, inputs, params)``; every tensor has the batch axis first. Kinds:

- conv (weight OIHW, bias, stride, pads), dense (weight (out, in), bias: over the last axis),
- layernorm (gamma, beta, epsilon: over the last axis), softmax (last axis), gelu (exact, erf),
- matmul (two activations, times the float ``scale`` folded from a following Mul),
- add (two activations of one shape), add_const (``value`` broadcast over the batch),
- prepend (``token`` put in front on axis 1), reshape (per-sample ``shape``), transpose (``perm``,
  batch axis kept), take (``index`` on axis 1).

This executor exists for calibration (the scales of the integer model) and for checking the reading
against onnxruntime; the integer model never runs it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from vcp_toolkit.model.graph.float_graph import conv_float
from vcp_toolkit.model.graph.graph import INPUT

_ERF = np.frompyfunc(math.erf, 1, 1)


@dataclass(frozen=True)
class VitNode:
    name: str
    kind: str
    inputs: tuple[str, ...]
    params: dict = field(default_factory=dict)


def gelu_float(x: np.ndarray) -> np.ndarray:
    return x * (1.0 + _ERF(x / math.sqrt(2.0)).astype(np.float64)) / 2.0


def _layernorm(x: np.ndarray, p: dict) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + p["epsilon"]) * p["gamma"] + p["beta"]


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def apply_node(node: VitNode, xs: list[np.ndarray]) -> np.ndarray:
    """One node's float64 output from its inputs' outputs."""
    p, x = node.params, xs[0]
    kind = node.kind
    if kind == "conv":
        return conv_float(x, p["weight"], p["bias"], p["stride"], p["pads"], 1)
    if kind == "dense":
        return x @ p["weight"].T + p["bias"]
    if kind == "layernorm":
        return _layernorm(x, p)
    if kind == "softmax":
        return _softmax(x)
    if kind == "gelu":
        return gelu_float(x)
    if kind == "matmul":
        return (x @ xs[1]) * p["scale"]
    if kind == "add":
        return x + xs[1]
    if kind == "add_const":
        return x + p["value"]
    if kind == "prepend":
        token = np.broadcast_to(p["token"], (len(x), 1) + p["token"].shape)
        return np.concatenate([token, x], axis=1)
    if kind == "reshape":
        return x.reshape((len(x),) + tuple(p["shape"]))
    if kind == "transpose":
        return x.transpose(p["perm"])
    if kind == "take":
        return x[:, p["index"]]
    raise AssertionError(f"unknown float node kind {kind!r}")  # vit_onnx emits only the kinds above


@dataclass(frozen=True, eq=False)
class VitFloatGraph:
    input_shape: tuple[int, ...]
    nodes: tuple[VitNode, ...]
    onnx_names: dict = field(default_factory=dict)  # node name -> the ONNX node(s) it was read from

    def run(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Every node's float64 output, input first."""
        values = {INPUT: np.asarray(x, dtype=np.float64)}
        for node in self.nodes:
            values[node.name] = apply_node(node, [values[i] for i in node.inputs])
        return values

    def output(self, x: np.ndarray) -> np.ndarray:
        return self.run(x)[self.nodes[-1].name]
