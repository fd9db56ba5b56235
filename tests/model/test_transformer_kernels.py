"""The integer transformer kernels (Softmax, LayerNorm, GELU, MatMul) against their plain-Python
references, bit for bit, on hundreds of seeded random rows and on the extreme rows; their documented
bounds and refusals; and their distance to float64, held against the figures in docs/arithmetic.md."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from docfigures import REPO, Figure, Measured, locate, mismatch
from transformer_cases import (SEED, extreme_rows, int8, random_gelu, random_layernorm, random_matmul,
                               random_softmax)

from vcp_toolkit.errors import InvalidInput, InvalidModel
from vcp_toolkit.model.graph.gelu import Gelu, gelu_reference, gelu_table
from vcp_toolkit.model.graph.layernorm import LayerNorm, isqrt_array, layernorm_reference
from vcp_toolkit.model.graph.matmul import MatMul, matmul_reference
from vcp_toolkit.model.graph.softmax import EXP_ONE, PROB_ONE, Softmax, exp2_neg, softmax_reference
from vcp_toolkit.model.graph.transformer_errors import kernel_errors

WIDTHS = (1, 2, 16, 17, 32, 64, 197)
VECTORS = json.loads((REPO / "tests" / "vectors" / "transformer.json").read_text())


def i8(values) -> np.ndarray:
    return np.array(values, dtype=np.int8)


def vector_op(case: dict):
    """The operator of a shared vector (tests/vectors/transformer.json)."""
    if case["op"] == "softmax":
        return Softmax(case["multiplier"], case["shift"])
    if case["op"] == "layernorm":
        return LayerNorm(i8(case["gamma"]), np.array(case["beta"], np.int64), np.array(case["multiplier"], np.int64),
                         np.array(case["shift"], np.int64), case["epsilon"], case["lo"], case["hi"])
    if case["op"] == "gelu":
        return Gelu(i8(case["table"]))
    return MatMul(case["multiplier"], case["shift"], case["lo"], case["hi"])


def test_shared_vectors():
    references = {"softmax": softmax_reference, "layernorm": layernorm_reference, "gelu": gelu_reference}
    assert {case["op"] for case in VECTORS} == {"softmax", "layernorm", "gelu", "matmul"}
    for case in VECTORS:
        op = vector_op(case)
        if case["op"] == "matmul":
            a, b = i8(case["a"])[None], i8(case["b"])[:, None]
            assert int(op(a, b)[0, 0]) == int(matmul_reference(op, a, b)[0, 0]) == case["out"], case
        else:
            row = i8(case["row"])
            assert op(row).tolist() == references[case["op"]](op, row).tolist() == case["out"], case


@pytest.mark.parametrize("n", WIDTHS)
def test_softmax_matches_reference(n):
    rng = np.random.default_rng([SEED, n])
    for _ in range(40):
        op, x = random_softmax(rng), int8(rng, (5, n))
        np.testing.assert_array_equal(op(x), softmax_reference(op, x))
    for row in extreme_rows(n):
        op = random_softmax(rng)
        y = op(row)
        np.testing.assert_array_equal(y, softmax_reference(op, row))
        assert y.min() >= 0 and y.max() <= PROB_ONE


def test_softmax_extremes_mean_what_they_should():
    op = Softmax.for_scale(1 / 16)
    assert op(np.full(17, 9, np.int8)).tolist() == [7] * 17  # 127 / 17 = 7.47: all equal
    assert op(np.full(1, -128, np.int8)).tolist() == [PROB_ONE]
    dominant = np.full(17, -128, np.int8)
    dominant[3] = 127
    assert op(dominant).tolist() == [0, 0, 0, PROB_ONE] + [0] * 13  # exp(-255 / 16) is below half a code
    assert int(exp2_neg(np.array([0]))[0]) == EXP_ONE
    assert exp2_neg(np.array([31 << 16, 2**40])).tolist() == [0, 0]  # the shift never passes 31
    u = np.arange(0, 40 << 16, 997, dtype=np.int64)
    rel = exp2_neg(u) / (EXP_ONE * 2.0 ** (-u / 2**16))
    assert np.abs(rel[u < 8 << 16] - 1).max() < 0.0023  # the quadratic's minimax error, before shift rounding


@pytest.mark.parametrize("n", WIDTHS)
def test_layernorm_matches_reference(n):
    rng = np.random.default_rng([SEED, 100 + n])
    for _ in range(30):
        op, x = random_layernorm(rng, n), int8(rng, (4, n))
        np.testing.assert_array_equal(op(x), layernorm_reference(op, x))
    for row in extreme_rows(n):
        op = random_layernorm(rng, n)
        np.testing.assert_array_equal(op(row), layernorm_reference(op, row))


def test_layernorm_zero_variance_gives_beta():
    n = 32
    op = LayerNorm(np.full(n, 127, np.int8), np.arange(n, dtype=np.int64) * 1000, np.full(n, 2**30, np.int64),
                   np.full(n, 40, np.int64), 1)
    beta_only = LayerNorm(np.zeros(n, np.int8), op.beta, op.multiplier, op.shift, 1)
    for value in (-128, 0, 127):
        row = np.full((2, n), value, np.int8)
        np.testing.assert_array_equal(op(row), beta_only(row))


def test_isqrt_array_is_floor_sqrt():
    rng = np.random.default_rng(SEED)
    roots = np.concatenate([np.arange(0, 5000), rng.integers(0, 2**31 - 1, 5000), [2**31 - 2]]).astype(np.int64)
    a = np.concatenate([roots * roots, roots * roots - 1, roots * roots + 1, rng.integers(0, 2**62, 5000)])
    a = a[a >= 0]
    np.testing.assert_array_equal(isqrt_array(a), [math.isqrt(int(v)) for v in a])


@pytest.mark.parametrize("n", WIDTHS)
def test_gelu_matches_reference(n):
    rng = np.random.default_rng([SEED, 200 + n])
    for _ in range(30):
        op, x = random_gelu(rng), int8(rng, (3, n))
        np.testing.assert_array_equal(op(x), gelu_reference(op, x))
    op = random_gelu(rng)
    for row in extreme_rows(n):
        np.testing.assert_array_equal(op(row), gelu_reference(op, row))


def test_gelu_table_ends():
    table = gelu_table(1 / 16, 1 / 16)
    assert table[128] == 0  # gelu(0) = 0
    assert table[255] == 127 and table[0] == 0  # gelu(7.94) = 7.94; gelu(-8) underflows to 0
    assert table.min() < 0  # gelu's dip below zero near -0.75
    assert gelu_table(1 / 4, 1 / 64)[255] == 127  # saturates


@pytest.mark.parametrize("k", (1, 16, 17, 32, 64))
def test_matmul_matches_reference(k):
    rng = np.random.default_rng([SEED, 300 + k])
    for _ in range(25):
        op = random_matmul(rng, k)
        a, b = int8(rng, (2, 5, k)), int8(rng, (2, k, 4))
        np.testing.assert_array_equal(op(a, b), matmul_reference(op, a, b))
    op = random_matmul(rng, k)
    for row in extreme_rows(k):
        a, b = np.stack([row, -row.astype(np.int16).clip(-128, 127)]).astype(np.int8), np.stack([row] * 3, axis=1)
        np.testing.assert_array_equal(op(a, b), matmul_reference(op, a, b))


def test_refusals():
    with pytest.raises(InvalidModel):
        Softmax(0, 10)
    with pytest.raises(InvalidModel):
        Softmax(1, 63)
    with pytest.raises(InvalidInput):
        Softmax(2**30, 20)(np.zeros((2, 4097), np.int8))
    n = 4
    ok = dict(gamma=np.ones(n, np.int8), beta=np.zeros(n, np.int64), multiplier=np.ones(n, np.int64),
              shift=np.ones(n, np.int64), epsilon=1)
    for bad in ({"epsilon": 0}, {"epsilon": 2**31}, {"gamma": np.ones(n, np.int64)}, {"beta": np.full(n, 2**31)}):
        with pytest.raises(InvalidModel):
            LayerNorm(**{**ok, **bad})
    with pytest.raises(InvalidInput):
        LayerNorm(**ok)(np.zeros((1, n + 1), np.int8))
    with pytest.raises(InvalidModel):
        Gelu(np.zeros(255, np.int8))
    with pytest.raises(InvalidInput):
        MatMul(1, 1)(np.zeros((2, 3), np.int8), np.zeros((4, 2), np.int8))


# --------------------------------------------------------------------------------------------
# distance to float64, as docs/arithmetic.md states it

ARITHMETIC = "docs/arithmetic.md"


def error_figure(op: str, column: int) -> Figure:
    """The figure in column ``column`` (1 = the one after the operator) of the error table's row ``op``."""
    skip = r"[^|\n]*\|" * (column - 1)
    return Figure(ARITHMETIC, rf"^\| {op} \|{skip} (\d+\.\d+) \|", f"{op} error, column {column}")


def test_doc_error_figures_are_the_kernels():
    errors = kernel_errors()
    for op, figures in errors.items():
        for column, value in ((2, figures.max), (3, figures.mean)):
            figure = error_figure(op, column)
            problem = mismatch(figure, locate(figure), Measured(value))
            assert problem is None, problem
        assert figures.max < 0.6  # at most a tenth of a code above the int8 rounding's own 0.5


def test_doc_constants_are_the_kernels():
    from vcp_toolkit.model.graph.softmax import EXP_A, EXP_B

    for name, value in (("A", EXP_A), ("B", EXP_B)):
        figure = Figure(ARITHMETIC, rf"2\^\(-r/2\^16\), A = [\d,]+, B = [\d,]+".replace(
            rf"{name} = [\d,]+", rf"{name} = ([\d,]+)"), f"softmax constant {name}")
        problem = mismatch(figure, locate(figure), Measured(value))
        assert problem is None, problem
