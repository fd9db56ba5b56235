"""Deterministic integer inference: the arithmetic every party must reproduce bit for bit.

The spec (mirrored by ``contracts/src/FixedPointNeuron.sol``; see docs/arithmetic.md):

* Activations are int8 vectors. Layer ``l`` maps ``x`` (width ``n``) to ``y`` (width ``m``).
* Neuron ``j`` of a dense layer holds int8 weights ``w[j, 0..n-1]``, an int32 bias ``b[j]``,
  a multiplier ``M[j]`` in ``[1, 2**31)``, a shift ``s[j]`` in ``[1, 62]`` and the layer's
  activation (``NONE`` or ``RELU``).
* ``acc = b[j] + sum_i w[j, i] * x[i]``, exact (the bounds below keep it in int64).
* ``y[j] = clamp((acc * M[j] + 2**(s[j] - 1)) >> s[j], lo, 127)`` where ``>>`` is an
  arithmetic shift (floor division by ``2**s``), so the rounding is half-up (towards +inf),
  and ``lo`` is 0 for RELU and -128 otherwise.
* Widths are 1..MAX_WIDTH. With ``n <= 4096``: ``|acc| < 4096 * 2**14 + 2**31 < 2**31.05`` and
  ``|acc * M| + 2**61 < 2**63``, so int64 never overflows and int256 agrees with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from vcp_toolkit.errors import InvalidModel, InvalidInput
from vcp_toolkit.model.kernels import exact_matmul

INT8_MIN, INT8_MAX = -128, 127
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
MULTIPLIER_MAX = 2**31 - 1
SHIFT_MIN, SHIFT_MAX = 1, 62
MAX_WIDTH = 4096
MAX_LAYERS = 64


class Activation(IntEnum):
    """What a quantized layer applies after requantization (encoded as one byte)."""

    NONE = 0
    RELU = 1


def requantize(acc: np.ndarray, multiplier: np.ndarray, shift: np.ndarray, activation: Activation) -> np.ndarray:
    """The one rounding rule: ``clamp((acc * M + 2**(s-1)) >> s, lo, 127)`` as int8.

    ``acc``, ``multiplier`` and ``shift`` broadcast against each other (int64).
    """
    acc = np.asarray(acc, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    rounded = (acc * np.asarray(multiplier, dtype=np.int64) + (np.int64(1) << (shift - 1))) >> shift
    low = 0 if activation == Activation.RELU else INT8_MIN
    return np.clip(rounded, low, INT8_MAX).astype(np.int8)


@dataclass(frozen=True, eq=False)
class QuantizedDense:
    """A dense layer in fixed point, with its activation fused (one trace vector per layer)."""

    weight: np.ndarray  # int8, shape (out_width, in_width)
    bias: np.ndarray  # int64 holding int32 values, shape (out_width,)
    multiplier: np.ndarray  # int64, shape (out_width,), each in [1, 2**31)
    shift: np.ndarray  # int64, shape (out_width,), each in [1, 62]
    activation: Activation

    def __post_init__(self) -> None:
        w, b, m, s = self.weight, self.bias, self.multiplier, self.shift
        if w.dtype != np.int8 or w.ndim != 2:
            raise InvalidModel(f"weights must be a 2-D int8 array, got {w.dtype} with shape {w.shape}")
        out_width, in_width = w.shape
        if not (1 <= in_width <= MAX_WIDTH and 1 <= out_width <= MAX_WIDTH):
            raise InvalidModel(f"layer shape {w.shape} outside 1..{MAX_WIDTH}")
        for name, arr in (("bias", b), ("multiplier", m), ("shift", s)):
            if arr.dtype != np.int64 or arr.shape != (out_width,):
                raise InvalidModel(f"{name} must be int64 of shape ({out_width},), got {arr.dtype} {arr.shape}")
        if b.min() < INT32_MIN or b.max() > INT32_MAX:
            raise InvalidModel("bias outside int32")
        if m.min() < 1 or m.max() > MULTIPLIER_MAX:
            raise InvalidModel(f"multiplier outside [1, {MULTIPLIER_MAX}]")
        if s.min() < SHIFT_MIN or s.max() > SHIFT_MAX:
            raise InvalidModel(f"shift outside [{SHIFT_MIN}, {SHIFT_MAX}]")
        for arr in (w, b, m, s):
            arr.setflags(write=False)

    @property
    def in_width(self) -> int:
        return int(self.weight.shape[1])

    @property
    def out_width(self) -> int:
        return int(self.weight.shape[0])

    def accumulate(self, x: np.ndarray) -> np.ndarray:
        """Exact int64 accumulators ``b + W x`` for a batch ``x`` of shape (batch, in_width).

        On BLAS through exact_matmul (int8 x int8 with in_width <= 4096 stays far below its float64
        bound), so any batch size runs at BLAS speed and stays bit-exact.
        """
        x = np.asarray(x)
        if x.ndim == 1:
            return exact_matmul(x[None, :], self.weight.T)[0] + self.bias
        return exact_matmul(x, self.weight.T) + self.bias

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return requantize(self.accumulate(x), self.multiplier, self.shift, self.activation)


def neuron_output(
    weights: np.ndarray, bias: int, multiplier: int, shift: int, activation: Activation, x: np.ndarray
) -> int:
    """One neuron of the spec, in plain Python integers: the reference the contract mirrors."""
    acc = int(bias) + sum(int(w) * int(v) for w, v in zip(weights.tolist(), x.tolist(), strict=True))
    y = (acc * int(multiplier) + (1 << (int(shift) - 1))) >> int(shift)
    low = 0 if activation == Activation.RELU else INT8_MIN
    return max(low, min(INT8_MAX, y))


def check_input(x: np.ndarray, width: int) -> np.ndarray:
    """Return ``x`` as an int8 batch of shape (batch, width), or raise InvalidInput."""
    arr = np.asarray(x)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != width:
        raise InvalidInput(f"input must have {width} values per sample, got shape {np.shape(x)}")
    if arr.dtype != np.int8:
        if not np.issubdtype(arr.dtype, np.integer):
            raise InvalidInput(f"quantized input must be integers, got {arr.dtype}")
        if arr.size and (arr.min() < INT8_MIN or arr.max() > INT8_MAX):
            raise InvalidInput("quantized input outside int8 [-128, 127]")
        arr = arr.astype(np.int8)
    return arr


def run_layers(layers: tuple[QuantizedDense, ...], x: np.ndarray) -> list[np.ndarray]:
    """The execution trace of a batch: ``[x, layer0(x), layer1(layer0(x)), ...]``, all int8."""
    trace = [x]
    for layer in layers:
        trace.append(layer(trace[-1]))
    return trace
