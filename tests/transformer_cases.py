"""Seeded transformer-kernel cases shared by tests/model/test_transformer_kernels.py (numpy against the
plain references) and tests/chain/test_transformer_mirror.py (Solidity against both): random rows and
operators, and the extreme rows (all-equal scores, one dominant score, saturated rows, constant rows
for LayerNorm's zero variance, the int8 ends for GELU)."""

from __future__ import annotations

import numpy as np

from vcp_toolkit.model.graph.gelu import Gelu
from vcp_toolkit.model.graph.layernorm import LayerNorm
from vcp_toolkit.model.graph.matmul import MatMul
from vcp_toolkit.model.graph.softmax import Softmax

SEED = 13


def int8(rng, shape) -> np.ndarray:
    return rng.integers(-128, 128, size=shape, dtype=np.int64).astype(np.int8)


def extreme_rows(n: int) -> list[np.ndarray]:
    """Rows every kernel must survive: constant (0, -128, 127), saturated alternating, one dominant value."""
    rows = [np.full(n, v, dtype=np.int8) for v in (0, -128, 127, 5)]
    rows.append(np.resize(np.array([-128, 127], dtype=np.int8), n))
    for top, rest in ((127, -128), (127, 126), (0, -1), (-127, -128)):
        row = np.full(n, rest, dtype=np.int8)
        row[n // 2] = top
        rows.append(row)
    return rows


def random_softmax(rng) -> Softmax:
    """Score scales from 1/256 (flat softmax) to 4 (exps underflow to 0 within one code)."""
    return Softmax.for_scale(float(2.0 ** rng.uniform(-8, 2)))


def random_layernorm(rng, n: int) -> LayerNorm:
    m = rng.integers(1, 2**31, size=n, dtype=np.int64)
    # |acc| ~ 2**10 * 2 * 64 + |beta|: shifts that land it near int8, a few saturate.
    s = np.clip(np.log2(2**17 * m.astype(np.float64) / 64).astype(np.int64) + rng.integers(-2, 3, size=n), 1, 62)
    lo = int(rng.choice([-128, 0]))
    return LayerNorm(int8(rng, n), rng.integers(-2**17, 2**17, size=n, dtype=np.int64), m, s.astype(np.int64),
                     int(rng.choice([1, 7, 2**20, 2**31 - 1])), lo, 127)


def random_gelu(rng) -> Gelu:
    if rng.random() < 0.5:
        return Gelu(int8(rng, 256))  # any committed table: the kernel is the lookup
    return Gelu.for_scales(float(2.0 ** rng.uniform(-7, -2)), float(2.0 ** rng.uniform(-7, -2)))


def random_matmul(rng, k: int) -> MatMul:
    m = int(rng.integers(2**30, 2**31))
    s = int(np.clip(np.log2(np.sqrt(k) * 2**14 * m / 64), 1, 62)) + int(rng.integers(-2, 3))
    lo = int(rng.choice([-128, 0, -5]))
    return MatMul(m, min(max(s, 1), 62), lo, int(rng.choice([127, max(lo, 30)])))
