"""Dense on (N, F): fixedpoint.QuantizedDense's arithmetic (``acc = b + W x``, per-row M/s), with the
fused activation generalised to an int8 range [lo, hi] (lo 0 for ReLU, hi below 127 for a clip)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vcp_toolkit.model.fixedpoint import Activation, QuantizedDense
from vcp_toolkit.model.graph.common import (INT8_MAX, INT8_MIN, check_range, check_tensor, requantize_one,
                                            requantize_range)


@dataclass(frozen=True, eq=False)
class Dense:
    weight: np.ndarray  # int8 (out, in)
    bias: np.ndarray  # int64 (out,)
    multiplier: np.ndarray
    shift: np.ndarray
    lo: int = INT8_MIN
    hi: int = INT8_MAX
    layer: QuantizedDense = field(init=False, repr=False)

    kind = "dense"
    arity = 1

    def __post_init__(self) -> None:
        check_range(self.lo, self.hi)
        act = Activation.RELU if self.lo == 0 else Activation.NONE  # only for QuantizedDense's own checks
        object.__setattr__(self, "layer", QuantizedDense(self.weight, self.bias, self.multiplier, self.shift, act))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        acc = self.layer.accumulate(check_tensor(x, 2, "Dense"))
        return requantize_range(acc, self.multiplier, self.shift, self.lo, self.hi)


def dense_reference(op: Dense, x: np.ndarray) -> np.ndarray:
    out = np.zeros((x.shape[0], op.weight.shape[0]), dtype=np.int8)
    ws = op.weight.tolist()
    for b, row in enumerate(x.tolist()):
        for j, wrow in enumerate(ws):
            acc = int(op.bias[j]) + sum(a * c for a, c in zip(wrow, row, strict=True))
            out[b, j] = requantize_one(acc, int(op.multiplier[j]), int(op.shift[j]), op.lo, op.hi)
    return out
