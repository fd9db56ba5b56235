"""MaxPool, AveragePool and GlobalAveragePool on int8 NCHW; the scale is unchanged.

MaxPool: padded cells read as -128; every window holds at least one real cell (pads < kernel).
AveragePool: ``sum`` over the window's cells (padding adds 0), ``n`` = kernel area when
``count_include_pad`` else the window's real cells, ``y = floor((2*sum + n) / (2*n))`` (round half
up, floor division for negatives). GlobalAveragePool: the same rule with the window = the whole H x W.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from vcp_toolkit.errors import InvalidInput, InvalidModel
from vcp_toolkit.model.graph.common import INT8_MIN, check_tensor, half_up_div, pads4, pair


def _check_window(kernel, stride, pads) -> tuple:
    kernel, stride, pads = pair(kernel, "kernel"), pair(stride, "stride"), pads4(pads)
    if max(pads[0], pads[2]) >= kernel[0] or max(pads[1], pads[3]) >= kernel[1]:
        raise InvalidModel(f"pool padding {pads} must be smaller than the kernel {kernel}")
    return kernel, stride, pads


def out_size(shape: tuple, kernel, stride, pads) -> tuple[int, int]:
    oh = (shape[2] + pads[0] + pads[2] - kernel[0]) // stride[0] + 1
    ow = (shape[3] + pads[1] + pads[3] - kernel[1]) // stride[1] + 1
    if oh < 1 or ow < 1:
        raise InvalidInput(f"pool kernel {kernel} larger than the padded input {shape}")
    return oh, ow


def _reduce_windows(x: np.ndarray, kernel, stride, pads, fill: int, combine, dtype) -> np.ndarray:
    """Every window of the padded input folded with ``combine`` (np.maximum, np.add), one strided
    slice per kernel offset: KH*KW passes over the output instead of a 6-D window view, which numpy
    reduces slowly. Max and integer sums do not depend on the order, so the result is the same."""
    top, left, bottom, right = pads
    oh, ow = out_size(x.shape, kernel, stride, pads)
    xp = np.pad(x.astype(dtype, copy=False), ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=fill)
    out = None
    for u in range(kernel[0]):
        for v in range(kernel[1]):
            part = xp[:, :, u:u + stride[0] * (oh - 1) + 1:stride[0], v:v + stride[1] * (ow - 1) + 1:stride[1]]
            out = part.copy() if out is None else combine(out, part, out=out)
    return out


def _windows(x: np.ndarray, kernel, stride, pads, fill: int) -> np.ndarray:
    """(N, C, OH, OW, KH, KW) views of the padded input."""
    top, left, bottom, right = pads
    oh, ow = out_size(x.shape, kernel, stride, pads)
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=fill)
    return sliding_window_view(xp, kernel, axis=(2, 3))[:, :, ::stride[0], ::stride[1]][:, :, :oh, :ow]


@dataclass(frozen=True)
class MaxPool:
    kernel: tuple[int, int]
    stride: tuple[int, int]
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)

    kind = "maxpool"
    arity = 1

    def __post_init__(self) -> None:
        for name, value in zip(("kernel", "stride", "pads"), _check_window(self.kernel, self.stride, self.pads)):
            object.__setattr__(self, name, value)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = check_tensor(x, 4, "MaxPool")
        return _reduce_windows(x, self.kernel, self.stride, self.pads, INT8_MIN, np.maximum, np.int8)


@dataclass(frozen=True)
class AvgPool:
    kernel: tuple[int, int]
    stride: tuple[int, int]
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)
    count_include_pad: bool = False

    kind = "avgpool"
    arity = 1

    def __post_init__(self) -> None:
        for name, value in zip(("kernel", "stride", "pads"), _check_window(self.kernel, self.stride, self.pads)):
            object.__setattr__(self, name, value)

    def counts(self, shape: tuple) -> np.ndarray:
        """n per output cell, shape (OH, OW)."""
        if self.count_include_pad:
            return np.full(out_size(shape, self.kernel, self.stride, self.pads), self.kernel[0] * self.kernel[1])
        ones = np.ones((1, 1) + tuple(shape[2:]), dtype=np.int64)
        return _windows(ones, self.kernel, self.stride, self.pads, 0).sum(axis=(4, 5))[0, 0]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = check_tensor(x, 4, "AvgPool")
        small = self.kernel[0] * self.kernel[1] < 2**24  # then |sum| <= 128 * KH * KW < 2**31
        total = _reduce_windows(x, self.kernel, self.stride, self.pads, 0, np.add, np.int32 if small else np.int64)
        return half_up_div(total.astype(np.int64), self.counts(x.shape)).astype(np.int8)


@dataclass(frozen=True)
class GlobalAvgPool:
    kind = "gap"
    arity = 1

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = check_tensor(x, 4, "GlobalAvgPool")
        total = x.astype(np.int64).sum(axis=(2, 3), keepdims=True)
        return half_up_div(total, x.shape[2] * x.shape[3]).astype(np.int8)


def _window_cells(shape, kernel, stride, pads, i: int, j: int) -> list[tuple[int, int] | None]:
    """The window of output (i, j): input coordinates, None for a padded cell."""
    cells = []
    for u in range(kernel[0]):
        for v in range(kernel[1]):
            r, q = i * stride[0] + u - pads[0], j * stride[1] + v - pads[1]
            cells.append((r, q) if 0 <= r < shape[2] and 0 <= q < shape[3] else None)
    return cells


def pool_reference(op, x: np.ndarray) -> np.ndarray:
    """Plain-Python MaxPool / AvgPool / GlobalAvgPool."""
    if op.kind == "gap":
        op = AvgPool(kernel=x.shape[2:], stride=(1, 1))
    oh, ow = out_size(x.shape, op.kernel, op.stride, op.pads)
    xs = x.tolist()
    out = np.zeros((x.shape[0], x.shape[1], oh, ow), dtype=np.int8)
    for b in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(oh):
                for j in range(ow):
                    cells = _window_cells(x.shape, op.kernel, op.stride, op.pads, i, j)
                    values = [xs[b][c][r][q] for r, q in filter(None, cells)]
                    if op.kind == "maxpool":
                        out[b, c, i, j] = max(values + [INT8_MIN] * (len(cells) - len(values)))
                    else:
                        n = len(cells) if op.count_include_pad else len(values)
                        out[b, c, i, j] = (2 * sum(values) + n) // (2 * n)
    return out
