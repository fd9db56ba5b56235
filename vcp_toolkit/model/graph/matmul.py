"""MatMul of two int8 activation tensors (docs/arithmetic.md, "Transformer operators").

``out[..., i, j] = clamp((sum_k a[..., i, k] * b[..., k, j] * M + 2**(s-1)) >> s, lo, hi)``: the
graph's one requantization rule (common.requantize_range) with one ``M``, ``s`` per tensor and no
bias. Attention scores are ``MatMul(Q, K^T)`` with ``1/sqrt(d)`` folded into ``M``; the weighted sum
is ``MatMul(P, V)`` with P the Softmax output (scale 1/127). Leading axes (heads) broadcast as in
numpy.matmul. The inner dimension is at most 4096, so |acc| <= 2**26 and |acc * M| + 2**61 < 2**63.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vcp_toolkit.errors import InvalidInput, InvalidModel
from vcp_toolkit.model.fixedpoint import MAX_WIDTH, MULTIPLIER_MAX, SHIFT_MAX, SHIFT_MIN
from vcp_toolkit.model.graph.common import (INT8_MAX, INT8_MIN, check_range, check_tensor, requantize_one,
                                            requantize_range)
from vcp_toolkit.model.kernels import exact_matmul

__all__ = ["MatMul", "matmul_reference"]


@dataclass(frozen=True)
class MatMul:
    """``a @ b`` of two int8 tensors of 2 or more dimensions, requantized with one ``M``, ``s``."""

    multiplier: int
    shift: int
    lo: int = INT8_MIN
    hi: int = INT8_MAX

    kind = "matmul"
    arity = 2

    def __post_init__(self) -> None:
        if not 1 <= self.multiplier <= MULTIPLIER_MAX:
            raise InvalidModel(f"matmul multiplier {self.multiplier} outside [1, {MULTIPLIER_MAX}]")
        if not SHIFT_MIN <= self.shift <= SHIFT_MAX:
            raise InvalidModel(f"matmul shift {self.shift} outside [{SHIFT_MIN}, {SHIFT_MAX}]")
        check_range(self.lo, self.hi)

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a, b = check_tensor(a, max(2, np.ndim(a)), "MatMul"), check_tensor(b, max(2, np.ndim(b)), "MatMul")
        if a.shape[-1] != b.shape[-2] or not 1 <= a.shape[-1] <= MAX_WIDTH:
            raise InvalidInput(f"MatMul needs a (..., n, k) and b (..., k, m) with 1 <= k <= {MAX_WIDTH}, "
                               f"got {a.shape} and {b.shape}")
        return requantize_range(exact_matmul(a, b), self.multiplier, self.shift, self.lo, self.hi)


def matmul_reference(op: MatMul, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The plain reference on 2-D operands (or equal stacks of them): Python ints, one element at a time."""
    lead = np.shape(a)[:-2]
    a2 = np.asarray(a).reshape(-1, *np.shape(a)[-2:]).tolist()
    b2 = np.asarray(b).reshape(-1, *np.shape(b)[-2:]).tolist()
    out = []
    for ma, mb in zip(a2, b2, strict=True):
        columns = list(zip(*mb))
        out.append([[requantize_one(sum(x * y for x, y in zip(row, col, strict=True)), op.multiplier, op.shift,
                                    op.lo, op.hi) for col in columns] for row in ma])
    return np.array(out, dtype=np.int8).reshape(*lead, len(a2[0]), len(b2[0][0]))
