"""Integer-only Softmax over the last axis (docs/arithmetic.md, "Transformer operators").

For a row of int8 scores ``x`` of scale ``S`` and each element ``i``:

    d  = max(x) - x[i]                               0..255
    u  = (d * M + 2**(s-1)) >> s                     M * 2**-s ~= S * log2(e) * 2**16: exp(-S d) = 2**(-u / 2**16)
    z, r = u >> 16, u & 0xFFFF                       2**(-u/2**16) = 2**-z * 2**(-r/2**16)
    p  = ONE - ((r * (A - ((B * r) >> 16))) >> 16)   ONE = 2**30: 2**-f ~= 1 - f (a - b f), f = r / 2**16
    e  = p >> min(z, 31)                             p <= 2**30, so a shift of 31 or more gives 0
    y  = (2 * 127 * e[i] + sum(e)) // (2 * sum(e))   127 * e[i] / sum(e), half up: probability * 127

The output is int8 in 0..127 with the fixed scale 1/127 (code 127 is probability 1, like the input
image's code 127 is 1.0). The largest score has d = 0 and e = ONE, so sum(e) >= 2**30 > 0. Every
intermediate is non-negative, so floor shifts and divisions agree in every language; with rows of
at most 4096, sum(e) <= 2**42 and int64 never overflows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vcp_toolkit.errors import InvalidInput, InvalidModel
from vcp_toolkit.model.fixedpoint import MAX_WIDTH, MULTIPLIER_MAX, SHIFT_MAX, SHIFT_MIN
from vcp_toolkit.model.graph.common import check_tensor

EXP_FRAC = 16  # fractional bits of the base-2 exponent u
EXP_ONE = 2**30  # the integer exp of the row's largest score
EXP_A, EXP_B = 721_984_002, 186_294_206  # round(2**30 * (0.6724, 0.1735)): minimax relative error 0.22% on [0, 1)
PROB_ONE = 127  # output code of probability 1: the output scale is 1/127

__all__ = ["EXP_A", "EXP_B", "EXP_FRAC", "EXP_ONE", "PROB_ONE", "Softmax", "exp2_neg", "softmax_reference"]


@dataclass(frozen=True)
class Softmax:
    """Softmax over the last axis of an int8 tensor; ``M * 2**-s`` is ``scale_in * log2(e) * 2**16``."""

    multiplier: int
    shift: int

    kind = "softmax"
    arity = 1

    def __post_init__(self) -> None:
        if not 1 <= self.multiplier <= MULTIPLIER_MAX:
            raise InvalidModel(f"softmax multiplier {self.multiplier} outside [1, {MULTIPLIER_MAX}]")
        if not SHIFT_MIN <= self.shift <= SHIFT_MAX:
            raise InvalidModel(f"softmax shift {self.shift} outside [{SHIFT_MIN}, {SHIFT_MAX}]")

    @classmethod
    def for_scale(cls, scale_in: float) -> Softmax:
        """The integer parameters for input scores of scale ``scale_in`` (float, at quantization time)."""
        from vcp_toolkit.model.quantize import multiplier_and_shift

        return cls(*multiplier_and_shift(scale_in * math.log2(math.e) * 2**EXP_FRAC))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = check_tensor(x, max(1, np.ndim(x)), "Softmax")
        if x.ndim == 0 or not 1 <= x.shape[-1] <= MAX_WIDTH:
            raise InvalidInput(f"Softmax needs rows of 1..{MAX_WIDTH} scores, got shape {x.shape}")
        wide = x.astype(np.int64)
        d = wide.max(axis=-1, keepdims=True) - wide
        u = (d * self.multiplier + (1 << (self.shift - 1))) >> self.shift
        e = exp2_neg(u)
        total = e.sum(axis=-1, keepdims=True)
        return ((2 * PROB_ONE * e + total) // (2 * total)).astype(np.int8)


def exp2_neg(u: np.ndarray) -> np.ndarray:
    """``2**30 * 2**(-u / 2**16)`` for int64 ``u >= 0``: the quadratic on the fraction, shifted by the integer part."""
    z = np.minimum(u >> EXP_FRAC, 31)
    r = u & ((1 << EXP_FRAC) - 1)
    p = EXP_ONE - ((r * (EXP_A - ((EXP_B * r) >> EXP_FRAC))) >> EXP_FRAC)
    return p >> z


def _exp2_neg_one(u: int) -> int:
    z, r = u >> EXP_FRAC, u & ((1 << EXP_FRAC) - 1)
    p = EXP_ONE - ((r * (EXP_A - ((EXP_B * r) >> EXP_FRAC))) >> EXP_FRAC)
    return p >> z if z < 31 else 0


def softmax_reference(op: Softmax, x: np.ndarray) -> np.ndarray:
    """The plain reference: Python ints, one row at a time."""
    rows = np.asarray(x).reshape(-1, np.shape(x)[-1]).tolist()
    out = []
    for row in rows:
        top = max(row)
        e = [_exp2_neg_one(((top - v) * op.multiplier + (1 << (op.shift - 1))) >> op.shift) for v in row]
        total = sum(e)
        out.append([(2 * PROB_ONE * v + total) // (2 * total) for v in e])
    return np.array(out, dtype=np.int8).reshape(np.shape(x))
