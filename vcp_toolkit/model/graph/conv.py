"""Conv2D in fixed point: int8 OIHW weights, int32 bias, per-output-channel M/s, fused activation.

``acc[n,o,i,j] = bias[o] + sum_{c,u,v} w[o,c,u,v] * xpad[n, g*C/groups + c, i*sh + u, j*sw + v]``
(zero padding, g = o // (O/groups)); ``y = clamp((acc * M[o] + 2**(s[o]-1)) >> s[o], lo, hi)``.
groups is 1 or C (depthwise, one filter per input channel).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vcp_toolkit.errors import InvalidModel
from vcp_toolkit.model.graph.common import (INT8_MAX, INT8_MIN, MAX_FAN_IN, check_bias, check_range, check_rescale,
                                            check_tensor, freeze, pads4, pair, requantize_one)
from vcp_toolkit.model.kernels import conv_blocks, conv_geometry, exact_conv2d

CACHE_BLOCK = 2**18  # patch elements per block: its accumulators stay in a core's cache while requantized


@dataclass(frozen=True, eq=False)
class Conv2D:
    weight: np.ndarray  # int8 (O, C/groups, KH, KW)
    bias: np.ndarray  # int64 holding int32, (O,)
    multiplier: np.ndarray  # int64 (O,)
    shift: np.ndarray  # int64 (O,)
    stride: tuple[int, int] = (1, 1)
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)  # top, left, bottom, right
    groups: int = 1
    lo: int = INT8_MIN
    hi: int = INT8_MAX

    kind = "conv"
    arity = 1

    def __post_init__(self) -> None:
        w = self.weight
        if w.dtype != np.int8 or w.ndim != 4 or min(w.shape) < 1:
            raise InvalidModel(f"conv weights must be 4-D int8 (O, C/groups, KH, KW), got {w.dtype} {w.shape}")
        out_channels, per_group, kh, kw = w.shape
        if per_group * kh * kw > MAX_FAN_IN:
            raise InvalidModel(f"conv fan-in {per_group * kh * kw} above {MAX_FAN_IN}")
        if self.groups != 1 and (per_group != 1 or out_channels % self.groups):
            raise InvalidModel(f"conv groups={self.groups}: only 1 or depthwise (one input channel per group)")
        object.__setattr__(self, "stride", pair(self.stride, "stride"))
        object.__setattr__(self, "pads", pads4(self.pads))
        check_bias(self.bias, out_channels)
        check_rescale(self.multiplier, self.shift, out_channels)
        check_range(self.lo, self.hi)
        freeze(self.weight, self.bias, self.multiplier, self.shift)

    @property
    def in_channels(self) -> int:
        return self.weight.shape[1] * self.groups

    def accumulate(self, x: np.ndarray) -> np.ndarray:
        x = check_tensor(x, 4, "Conv2D")
        return exact_conv2d(x, self.weight, self.bias, self.stride, self.pads, self.groups)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The requantized int8 output, NCHW. Each block of samples is requantized channel-major as
        it comes from the matmul, while it is in cache, and only the int8 result is transposed: the
        same integers as requantizing accumulate()."""
        x = check_tensor(x, 4, "Conv2D")
        g = conv_geometry(x.shape, self.weight.shape, self.stride, self.pads, self.groups)
        out = np.empty((g.out_channels, x.shape[0]) + g.out_size, dtype=np.int8)
        per_channel = (-1, 1, 1, 1)
        # (acc + b) * M + 2**(s-1) == acc * M + (b * M + 2**(s-1)); |b * M| < 2**62, so the constant fits.
        multiplier = self.multiplier.reshape(per_channel)
        offset = (self.bias * self.multiplier + (np.int64(1) << (self.shift - 1))).reshape(per_channel)
        shift = self.shift.reshape(per_channel)
        for start, acc in conv_blocks(x, self.weight, g, budget=CACHE_BLOCK):
            acc *= multiplier
            acc += offset
            acc >>= shift
            out[:, start:start + acc.shape[1]] = np.clip(acc, self.lo, self.hi, out=acc)
        return np.ascontiguousarray(out.transpose(1, 0, 2, 3))


def conv_reference(op: Conv2D, x: np.ndarray) -> np.ndarray:
    """Plain-Python Conv2D: nested loops on ints, reading padding as zeros."""
    g = conv_geometry(x.shape, op.weight.shape, op.stride, op.pads, op.groups)
    xs, ws = x.tolist(), op.weight.tolist()
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (oh, ow) = g.kernel, g.stride, g.out_size
    top, left = op.pads[0], op.pads[1]
    per_group, og = c // op.groups, g.out_channels // op.groups
    out = np.zeros((n, g.out_channels, oh, ow), dtype=np.int8)
    for b in range(n):
        for o in range(g.out_channels):
            first = (o // og) * per_group
            for i in range(oh):
                for j in range(ow):
                    acc = int(op.bias[o])
                    for cc in range(per_group):
                        for u in range(kh):
                            for v in range(kw):
                                r, q = i * sh + u - top, j * sw + v - left
                                if 0 <= r < h and 0 <= q < w:
                                    acc += ws[o][cc][u][v] * xs[b][first + cc][r][q]
                    out[b, o, i, j] = requantize_one(acc, int(op.multiplier[o]), int(op.shift[o]), op.lo, op.hi)
    return out
