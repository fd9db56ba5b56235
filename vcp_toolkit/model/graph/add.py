"""Residual Add of two int8 tensors of the same shape and different scales.

``y = clamp((a * Ma + b * Mb + 2**(s-1)) >> s, lo, hi)`` with one shared shift s:
``Ma * 2**-s ~= scale_a / scale_out`` and ``Mb * 2**-s ~= scale_b / scale_out``.
|a*Ma + b*Mb| <= 2 * 128 * 2**31 = 2**39, so int64 never overflows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vcp_toolkit.errors import InvalidInput, InvalidModel
from vcp_toolkit.model.fixedpoint import MULTIPLIER_MAX, SHIFT_MAX, SHIFT_MIN
from vcp_toolkit.model.graph.common import INT8_MAX, INT8_MIN, check_range, check_tensor, requantize_one


CHUNK = 2**15  # elements per step: 256 KiB of int64 per temporary


@dataclass(frozen=True)
class Add:
    multiplier_a: int
    multiplier_b: int
    shift: int
    lo: int = INT8_MIN
    hi: int = INT8_MAX

    kind = "add"
    arity = 2

    def __post_init__(self) -> None:
        for m in (self.multiplier_a, self.multiplier_b):
            if not 1 <= m <= MULTIPLIER_MAX:
                raise InvalidModel(f"add multiplier {m} outside [1, {MULTIPLIER_MAX}]")
        if not SHIFT_MIN <= self.shift <= SHIFT_MAX:
            raise InvalidModel(f"add shift {self.shift} outside [{SHIFT_MIN}, {SHIFT_MAX}]")
        check_range(self.lo, self.hi)

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a, b = check_tensor(a, np.ndim(a), "Add"), check_tensor(b, np.ndim(b), "Add")
        if a.shape != b.shape:
            raise InvalidInput(f"Add needs two tensors of one shape, got {a.shape} and {b.shape}")
        out = np.empty(a.shape, dtype=np.int8)
        flat_a, flat_b, flat_out = a.reshape(-1), b.reshape(-1), out.reshape(-1)
        for start in range(0, flat_a.size, CHUNK):  # int64 temporaries that stay in cache
            part = slice(start, start + CHUNK)
            acc = flat_a[part].astype(np.int64)
            acc *= self.multiplier_a
            other = flat_b[part].astype(np.int64)
            other *= self.multiplier_b
            acc += other
            acc += 1 << (self.shift - 1)
            acc >>= self.shift
            flat_out[part] = np.clip(acc, self.lo, self.hi, out=acc)
        return out


def add_reference(op: Add, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    flat = [requantize_one(x * op.multiplier_a + y * op.multiplier_b, 1, op.shift, op.lo, op.hi)
            for x, y in zip(a.ravel().tolist(), b.ravel().tolist(), strict=True)]
    return np.array(flat, dtype=np.int8).reshape(a.shape)


def shared_rescale(ratio_a: float, ratio_b: float) -> tuple[int, int, int]:
    """(Ma, Mb, s): the larger ratio gets a 31-bit multiplier, the other the same shift."""
    from vcp_toolkit.model.quantize import multiplier_and_shift

    big = max(ratio_a, ratio_b)
    m_big, shift = multiplier_and_shift(big)

    def other(r: float) -> int:
        return m_big if r == big else max(1, min(MULTIPLIER_MAX, int(np.floor(r * 2.0**shift + 0.5))))
    return other(ratio_a), other(ratio_b), shift
