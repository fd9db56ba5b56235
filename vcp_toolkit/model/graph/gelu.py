"""GELU as a committed 256-entry table over the int8 input codes (docs/arithmetic.md, "Transformer operators").

An int8 input takes 256 values, so for fixed input and output scales GELU is a map from 256 codes
to int8: ``table[q + 128] = clamp(floor(gelu(scale_in * q) / scale_out + 0.5), -128, 127)`` with
``gelu(v) = v * (1 + erf(v / sqrt(2))) / 2``. The table is computed once in float64 at quantization
time and committed with the model (256 bytes); inference is ``y = table[x + 128]``, exact and the
best int8 answer (error at most half a code). Why a table rather than I-BERT's polynomial i-GELU: the
polynomial's erf approximation errs by about 1e-2 before requantization, costs more gas per element,
and would still need per-layer integer constants committed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vcp_toolkit.errors import InvalidModel
from vcp_toolkit.model.graph.common import INT8_MAX, INT8_MIN, check_tensor

TABLE_SIZE = 256
__all__ = ["TABLE_SIZE", "Gelu", "gelu_reference", "gelu_table"]


@dataclass(frozen=True, eq=False)
class Gelu:
    """Elementwise int8 -> int8 lookup: ``y = table[x + 128]``."""

    table: np.ndarray  # int8 (256,)

    kind = "gelu"
    arity = 1

    def __post_init__(self) -> None:
        if np.shape(self.table) != (TABLE_SIZE,) or np.asarray(self.table).dtype != np.int8:
            raise InvalidModel(f"gelu table must be int8 of shape ({TABLE_SIZE},), got {np.shape(self.table)}")

    @classmethod
    def for_scales(cls, scale_in: float, scale_out: float) -> Gelu:
        return cls(gelu_table(scale_in, scale_out))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = check_tensor(x, np.ndim(x), "Gelu")
        return self.table[x.astype(np.int16) + 128]


def gelu_table(scale_in: float, scale_out: float) -> np.ndarray:
    """The committed table (float64, once): entry ``k`` is the output code of input code ``k - 128``."""
    if not (scale_in > 0 and scale_out > 0 and math.isfinite(scale_in) and math.isfinite(scale_out)):
        raise InvalidModel(f"gelu scales must be positive and finite, got {scale_in}, {scale_out}")
    out = []
    for q in range(INT8_MIN, INT8_MAX + 1):
        v = scale_in * q
        out.append(max(INT8_MIN, min(INT8_MAX, math.floor(v * (1 + math.erf(v / math.sqrt(2))) / 2 / scale_out + 0.5))))
    table = np.array(out, dtype=np.int8)
    table.setflags(write=False)
    return table


def gelu_reference(op: Gelu, x: np.ndarray) -> np.ndarray:
    table = op.table.tolist()
    return np.array([table[v + 128] for v in np.asarray(x).ravel().tolist()], dtype=np.int8).reshape(np.shape(x))
