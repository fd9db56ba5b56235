"""The integer operator graph: nodes in topological order, each naming its input node(s).

Running it returns the output and the trace: every node's int8 tensor, input first, in node order
(the trace is what the commitment stage commits to).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from vcp_toolkit.errors import InvalidInput, InvalidModel
from vcp_toolkit.model.graph.common import INT8_MAX, INT8_MIN

INPUT = "input"
PARAMETERS = ("weight", "bias", "gamma", "beta", "token", "value")  # operator attributes that are parameters


@dataclass(frozen=True)
class IntNode:
    name: str
    op: object  # Conv2D, Dense, MaxPool, AvgPool, GlobalAvgPool, Add, Flatten or Clamp
    inputs: tuple[str, ...]
    scale: float  # real value of one int8 step (quantization and reporting only)


@dataclass(frozen=True)
class GraphRun:
    output: np.ndarray
    trace: dict[str, np.ndarray]  # node name -> int8 tensor, input first, in node order


@dataclass(frozen=True, eq=False)
class IntGraph:
    input_shape: tuple[int, ...]  # per sample, e.g. (1, 28, 28)
    input_scale: float
    nodes: tuple[IntNode, ...]
    name: str = "graph"
    metadata: dict = field(default_factory=dict)  # JSON values: where the graph came from (saved with it)

    def __post_init__(self) -> None:
        seen = {INPUT}
        for node in self.nodes:
            if node.name in seen:
                raise InvalidModel(f"graph node name {node.name!r} is used twice")
            if len(node.inputs) != node.op.arity or any(i not in seen for i in node.inputs):
                raise InvalidModel(f"graph node {node.name!r} must read {node.op.arity} earlier node(s), "
                                   f"reads {node.inputs}")
            if not (math.isfinite(node.scale) and node.scale > 0):
                raise InvalidModel(f"graph node {node.name!r} has scale {node.scale}")
            seen.add(node.name)
        if not self.nodes:
            raise InvalidModel("an operator graph needs at least one node")

    @property
    def param_count(self) -> int:
        """Integer parameters: weights and biases (conv, dense), LayerNorm's gamma and beta, a
        prepended token and a committed constant (one per float value of the model they came from)."""
        return sum(int(getattr(n.op, key).size) for n in self.nodes for key in PARAMETERS if hasattr(n.op, key))

    @property
    def output_scale(self) -> float:
        return self.nodes[-1].scale

    def quantize_input(self, x: np.ndarray) -> np.ndarray:
        """Float inputs to int8 as QuantizedModel.quantize_input: ``clamp(floor(x / scale + 0.5))``."""
        arr = np.asarray(x, dtype=np.float64)
        if not np.all(np.isfinite(arr)):
            raise InvalidInput("input holds NaN or infinite values")
        with np.errstate(over="ignore"):
            return np.clip(np.floor(arr / self.input_scale + 0.5), INT8_MIN, INT8_MAX).astype(np.int8)

    def run(self, x: np.ndarray) -> GraphRun:
        x = np.asarray(x)
        if x.dtype != np.int8 or tuple(x.shape[1:]) != tuple(self.input_shape):
            raise InvalidInput(f"graph input must be int8 of shape (N, {', '.join(map(str, self.input_shape))}), "
                               f"got {x.dtype} {x.shape}")
        trace = {INPUT: x}
        for node in self.nodes:
            trace[node.name] = node.op(*(trace[i] for i in node.inputs))
        return GraphRun(trace[self.nodes[-1].name], trace)

    def predict(self, x_float: np.ndarray) -> np.ndarray:
        """Class labels (argmax of the int8 output, lowest index on ties) for float inputs."""
        out = self.run(self.quantize_input(x_float)).output
        return np.argmax(out.reshape(len(out), -1), axis=1)
