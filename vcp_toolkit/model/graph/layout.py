"""Operators that only move or clamp values: Flatten (C, H, W order) and a standalone Clamp
(ReLU / Clip that could not be fused: ``y = clamp(x, lo, hi)``, scale unchanged)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vcp_toolkit.errors import InvalidInput
from vcp_toolkit.model.graph.common import INT8_MAX, INT8_MIN, check_range


@dataclass(frozen=True)
class Flatten:
    kind = "flatten"
    arity = 1

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim < 2:
            raise InvalidInput(f"Flatten needs a batch axis, got shape {x.shape}")
        return x.reshape(x.shape[0], -1)


@dataclass(frozen=True)
class Clamp:
    lo: int = INT8_MIN
    hi: int = INT8_MAX

    kind = "clamp"
    arity = 1

    def __post_init__(self) -> None:
        check_range(self.lo, self.hi)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.clip(np.asarray(x), self.lo, self.hi).astype(np.int8)


def layout_reference(op, x: np.ndarray) -> np.ndarray:
    flat = x.ravel().tolist()
    if op.kind == "flatten":
        return np.array(flat, dtype=np.int8).reshape(x.shape[0], -1)
    return np.array([max(op.lo, min(op.hi, v)) for v in flat], dtype=np.int8).reshape(x.shape)
