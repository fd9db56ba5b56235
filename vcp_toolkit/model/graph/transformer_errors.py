"""How far the integer transformer kernels are from float64 (docs/arithmetic.md, "Transformer operators").

Each measure draws seeded int8 rows and realistic scales, runs the integer kernel and the float64
formula on the same integers and parameters, and returns the absolute error in output codes (the
float result divided by the output scale and clamped to int8, without rounding: the int8 rounding
itself accounts for up to 0.5). The figures are deterministic; a test holds the doc to them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vcp_toolkit.model.graph.gelu import Gelu
from vcp_toolkit.model.graph.layernorm import LN_FRAC, LayerNorm
from vcp_toolkit.model.graph.softmax import PROB_ONE, Softmax
from vcp_toolkit.model.quantize import multiplier_and_shift

SEED = 2026_12_07
SCORE_SCALES = (1 / 8, 1 / 16, 1 / 32)  # attention logits of range +-16, +-8, +-4
__all__ = ["ErrorFigures", "gelu_errors", "kernel_errors", "layernorm_errors", "softmax_errors"]


@dataclass(frozen=True)
class ErrorFigures:
    """Absolute error in output codes over ``count`` outputs."""

    max: float
    mean: float
    count: int

    @classmethod
    def of(cls, got: np.ndarray, want: np.ndarray) -> ErrorFigures:
        err = np.abs(got.astype(np.float64) - np.clip(want, -128, 127))
        return cls(float(err.max()), float(err.mean()), int(err.size))


def softmax_errors(rows: int = 2000, tokens: int = 17) -> ErrorFigures:
    """Rows of ``tokens`` scores ~ N(0, 40 codes) at each score scale, against 127 * softmax(scale * x)."""
    rng = np.random.default_rng(SEED)
    got, want = [], []
    for scale in SCORE_SCALES:
        x = np.clip(np.round(rng.normal(0, 40, (rows, tokens))), -128, 127).astype(np.int8)
        got.append(Softmax.for_scale(scale)(x))
        xf = x.astype(np.float64)
        z = np.exp(scale * (xf - xf.max(axis=-1, keepdims=True)))
        want.append(PROB_ONE * z / z.sum(axis=-1, keepdims=True))
    return ErrorFigures.of(np.concatenate(got), np.concatenate(want))


def layernorm_errors(rows: int = 2000, width: int = 64, scale_in: float = 1 / 16) -> ErrorFigures:
    """Rows of random mean and spread; float gamma, beta quantized as a model would be; eps = 1e-5."""
    rng = np.random.default_rng(SEED + 1)
    mean = rng.uniform(-60, 60, (rows, 1))
    spread = np.exp(rng.uniform(0, math.log(50), (rows, 1)))
    x = np.clip(np.round(rng.normal(mean, spread, (rows, width))), -128, 127).astype(np.int8)
    gamma_f, beta_f = rng.uniform(-2, 2, width), rng.uniform(-1, 1, width)
    scale_g = np.abs(gamma_f).max() / 127
    gamma = np.clip(np.round(gamma_f / scale_g), -127, 127).astype(np.int8)
    unit = scale_g * 2.0**-LN_FRAC  # the real value of one step of gamma * h + beta
    beta = np.round(beta_f / unit).astype(np.int64)
    scale_out = (2 * 4 + 1) / 127  # |gamma x_hat + beta| <= 2 * 4 std + 1
    m, s = multiplier_and_shift(unit / scale_out)
    epsilon = max(1, round(1e-5 * width**2 / scale_in**2))
    op = LayerNorm(gamma, beta, np.full(width, m, np.int64), np.full(width, s, np.int64), epsilon)
    xf = x.astype(np.float64)
    centered = xf - xf.mean(axis=-1, keepdims=True)
    x_hat = centered / np.sqrt((centered**2).mean(axis=-1, keepdims=True) + epsilon / width**2)
    want = (gamma * scale_g * x_hat + beta * unit) / scale_out
    return ErrorFigures.of(op(x), want)


def gelu_errors() -> ErrorFigures:
    """Every int8 code at input scales 1/8 .. 1/64, output scale max|gelu| / 127, against float64 GELU."""
    got, want = [], []
    codes = np.arange(-128, 128)
    for scale_in in (1 / 8, 1 / 16, 1 / 32, 1 / 64):
        v = scale_in * codes.astype(np.float64)
        exact = v * (1 + np.array([math.erf(t / math.sqrt(2)) for t in v])) / 2
        scale_out = np.abs(exact).max() / 127
        got.append(Gelu.for_scales(scale_in, scale_out)(codes.astype(np.int8)))
        want.append(exact / scale_out)
    return ErrorFigures.of(np.concatenate(got), np.concatenate(want))


def kernel_errors() -> dict[str, ErrorFigures]:
    return {"softmax": softmax_errors(), "layernorm": layernorm_errors(), "gelu": gelu_errors()}
