"""Integer-only LayerNorm over the last axis (docs/arithmetic.md, "Transformer operators").

For a row ``x`` of ``n`` int8 values and channel ``i``:

    t    = sum(x),  q = sum(x * x)
    c    = n * x[i] - t                          n * (x[i] - mean), exact
    V    = n * q - t * t + E                     n**2 * var + E, exact (E >= 1: the epsilon, never 0)
    sd   = isqrt(V << 20)                        floor(2**10 * sqrt(V))
    h    = (2 * (c << 20) + sd) // (2 * sd)      2**10 * c / sqrt(V) = 2**10 * x_hat, half up
    acc  = gamma[i] * h + beta[i]                int8 gamma, int32 beta (units gamma_scale * 2**-10)
    y[i] = clamp((acc * M[i] + 2**(s[i]-1)) >> s[i], lo, hi)

A constant row has c = 0 and V = E, so y = requantize(beta). Bounds for n <= 4096: |c| <= 2**20,
V <= 2**38 + 2**31, V << 20 < 2**59; |c| <= sqrt(n - 1) * sqrt(V) and sd >= 2**10, so
|h| <= 2**10 * sqrt(n - 1) * (1 + 2**-10) + 1 < 2**17, |acc| < 2**24 + 2**31 and
|acc * M| + 2**61 < 2**63, as for a dense layer: int64 never overflows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vcp_toolkit.errors import InvalidInput, InvalidModel
from vcp_toolkit.model.fixedpoint import INT32_MAX, MAX_WIDTH
from vcp_toolkit.model.graph.common import (INT8_MAX, INT8_MIN, check_bias, check_range, check_rescale,
                                            check_tensor, half_up_div, requantize_one, requantize_range)

LN_FRAC = 10  # fractional bits of the normalised value h (and of sqrt(V))
__all__ = ["LN_FRAC", "LayerNorm", "isqrt_array", "layernorm_reference"]


@dataclass(frozen=True, eq=False)
class LayerNorm:
    """LayerNorm over the last axis (width ``n``): per-channel int8 ``gamma``, int32 ``beta``, ``M``, ``s``."""

    gamma: np.ndarray  # int8 (n,)
    beta: np.ndarray  # int64 (n,), int32 values
    multiplier: np.ndarray  # int64 (n,)
    shift: np.ndarray  # int64 (n,)
    epsilon: int  # E in units of V = n**2 * var (codes**2): eps_real * n**2 / scale_in**2, at least 1
    lo: int = INT8_MIN
    hi: int = INT8_MAX

    kind = "layernorm"
    arity = 1

    def __post_init__(self) -> None:
        n = np.shape(self.gamma)[0] if np.ndim(self.gamma) == 1 else -1
        if n < 1 or n > MAX_WIDTH or np.asarray(self.gamma).dtype != np.int8:
            raise InvalidModel(f"layernorm gamma must be int8 of shape (n,), 1 <= n <= {MAX_WIDTH}")
        check_bias(self.beta, n)
        check_rescale(self.multiplier, self.shift, n)
        check_range(self.lo, self.hi)
        if not 1 <= self.epsilon <= INT32_MAX:
            raise InvalidModel(f"layernorm epsilon {self.epsilon} outside [1, {INT32_MAX}]")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = check_tensor(x, max(1, np.ndim(x)), "LayerNorm")
        n = self.gamma.shape[0]
        if x.ndim == 0 or x.shape[-1] != n:
            raise InvalidInput(f"LayerNorm of width {n} got shape {x.shape}")
        wide = x.astype(np.int64)
        total = wide.sum(axis=-1, keepdims=True)
        var = n * (wide * wide).sum(axis=-1, keepdims=True) - total * total + self.epsilon
        sd = isqrt_array(var << (2 * LN_FRAC))
        h = half_up_div((n * wide - total) << (2 * LN_FRAC), sd)
        acc = h * self.gamma.astype(np.int64) + self.beta
        return requantize_range(acc, self.multiplier, self.shift, self.lo, self.hi)


def isqrt_array(a: np.ndarray) -> np.ndarray:
    """``floor(sqrt(a))`` of int64 ``0 <= a < 2**62``, exact: float64's root is off by at most one, then corrected."""
    a = np.asarray(a, dtype=np.int64)
    root = np.floor(np.sqrt(a.astype(np.float64))).astype(np.int64)
    for _ in range(2):
        root -= root * root > a
        root += (root + 1) * (root + 1) <= a
    return root


def layernorm_reference(op: LayerNorm, x: np.ndarray) -> np.ndarray:
    """The plain reference: Python ints and math.isqrt, one row at a time."""
    n = op.gamma.shape[0]
    gamma, beta = op.gamma.tolist(), op.beta.tolist()
    mult, shift = op.multiplier.tolist(), op.shift.tolist()
    out = []
    for row in np.asarray(x).reshape(-1, n).tolist():
        total, squares = sum(row), sum(v * v for v in row)
        sd = math.isqrt((n * squares - total * total + op.epsilon) << (2 * LN_FRAC))
        for i, v in enumerate(row):
            h = (2 * ((n * v - total) << (2 * LN_FRAC)) + sd) // (2 * sd)
            out.append(requantize_one(gamma[i] * h + beta[i], mult[i], shift[i], op.lo, op.hi))
    return np.array(out, dtype=np.int8).reshape(np.shape(x))
