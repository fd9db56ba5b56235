"""Shared integer rules of the operator graph (docs/arithmetic.md, "Operator graph").

One requantization rule for every operator that rescales: ``clamp((acc * M + 2**(s-1)) >> s, lo, hi)``
with ``>>`` an arithmetic shift (round half up), M in [1, 2**31), s in [1, 62], and
``-128 <= lo <= hi <= 127`` the fused activation's integer range.
"""

from __future__ import annotations

import numpy as np

from vcp_toolkit.errors import InvalidInput, InvalidModel
from vcp_toolkit.model.fixedpoint import (INT8_MAX, INT8_MIN, INT32_MAX, INT32_MIN, MAX_WIDTH, MULTIPLIER_MAX,
                                          SHIFT_MAX, SHIFT_MIN)

MAX_FAN_IN = MAX_WIDTH  # products per accumulator: keeps |acc * M| + 2**61 < 2**63 as for dense layers
__all__ = ["INT8_MAX", "INT8_MIN", "MAX_FAN_IN", "requantize_range", "requantize_one", "check_range",
           "check_rescale", "check_bias", "check_tensor", "half_up_div", "freeze", "pair", "pads4"]


def requantize_range(acc: np.ndarray, multiplier, shift, lo: int, hi: int) -> np.ndarray:
    """``clamp((acc * M + 2**(s-1)) >> s, lo, hi)`` as int8; M and s broadcast against ``acc``."""
    shift = np.asarray(shift, dtype=np.int64)
    # In place on one int64 buffer (a fresh one: acc is not modified): same integers, fewer passes.
    out = np.array(np.broadcast_to(acc, np.broadcast_shapes(np.shape(acc), np.shape(multiplier), shift.shape)),
                   dtype=np.int64)
    out *= np.asarray(multiplier, dtype=np.int64)
    out += np.int64(1) << (shift - 1)
    out >>= shift
    return np.clip(out, lo, hi, out=out).astype(np.int8)


def requantize_one(acc: int, multiplier: int, shift: int, lo: int, hi: int) -> int:
    """The same rule on Python ints: the plain reference."""
    return max(lo, min(hi, (acc * multiplier + (1 << (shift - 1))) >> shift))


def half_up_div(total, count):
    """``floor((2*total + count) / (2*count))``: total/count rounded half up (floor division)."""
    return (2 * total + count) // (2 * count)


def check_range(lo: int, hi: int) -> None:
    if not (INT8_MIN <= lo <= hi <= INT8_MAX):
        raise InvalidModel(f"activation range [{lo}, {hi}] is not inside int8 [-128, 127] with lo <= hi")


def check_rescale(multiplier: np.ndarray, shift: np.ndarray, n: int) -> None:
    for name, arr in (("multiplier", multiplier), ("shift", shift)):
        if arr.dtype != np.int64 or arr.shape != (n,):
            raise InvalidModel(f"{name} must be int64 of shape ({n},), got {arr.dtype} {arr.shape}")
    if n and (multiplier.min() < 1 or multiplier.max() > MULTIPLIER_MAX):
        raise InvalidModel(f"multiplier outside [1, {MULTIPLIER_MAX}]")
    if n and (shift.min() < SHIFT_MIN or shift.max() > SHIFT_MAX):
        raise InvalidModel(f"shift outside [{SHIFT_MIN}, {SHIFT_MAX}]")


def check_bias(bias: np.ndarray, n: int) -> None:
    if bias.dtype != np.int64 or bias.shape != (n,):
        raise InvalidModel(f"bias must be int64 of shape ({n},), got {bias.dtype} {bias.shape}")
    if n and (bias.min() < INT32_MIN or bias.max() > INT32_MAX):
        raise InvalidModel("bias outside int32")


def check_tensor(x: np.ndarray, ndim: int, what: str) -> np.ndarray:
    """``x`` as int8 of ``ndim`` dimensions, or InvalidInput naming the operator."""
    x = np.asarray(x)
    if x.ndim != ndim:
        raise InvalidInput(f"{what} needs a {ndim}-D int8 tensor, got shape {x.shape}")
    if x.dtype != np.int8:
        if not np.issubdtype(x.dtype, np.integer) or (x.size and (x.min() < INT8_MIN or x.max() > INT8_MAX)):
            raise InvalidInput(f"{what} needs int8 values, got {x.dtype}")
        x = x.astype(np.int8)
    return x


def freeze(*arrays: np.ndarray) -> None:
    for arr in arrays:
        arr.setflags(write=False)


def pair(value, name: str) -> tuple[int, int]:
    out = (value, value) if isinstance(value, (int, np.integer)) else tuple(int(v) for v in value)
    if len(out) != 2 or min(out) < 1:
        raise InvalidModel(f"{name} must be a pair of positive ints, got {value!r}")
    return int(out[0]), int(out[1])


def pads4(value) -> tuple[int, int, int, int]:
    """Padding as (top, left, bottom, right)."""
    out = (value,) * 4 if isinstance(value, (int, np.integer)) else tuple(int(v) for v in value)
    if len(out) != 4 or min(out) < 0:
        raise InvalidModel(f"padding must be (top, left, bottom, right) of ints >= 0, got {value!r}")
    return out  # type: ignore[return-value]
