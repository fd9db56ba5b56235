"""Exact integer kernels on BLAS (vcp_toolkit.model.kernels): bit-identical to integer references,
at the float32 / float64 bounds, beyond them (chunks, int64), and conv2d against a direct loop."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vcp_toolkit.errors import InvalidInput
from vcp_toolkit.model.kernels import (
    FLOAT32_EXACT,
    FLOAT64_EXACT,
    MatmulPlan,
    exact_conv2d,
    exact_matmul,
    plan_matmul,
)


def python_matmul(a: np.ndarray, b: np.ndarray) -> list[list[int]]:
    """The plain-Python reference: unbounded ints, no numpy arithmetic."""
    al, bl = a.tolist(), b.tolist()
    return [[sum(int(x) * int(bl[t][j]) for t, x in enumerate(row)) for j in range(len(bl[0]))] for row in al]


def int64_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.matmul(a.astype(np.int64), b.astype(np.int64))  # numpy's integer loop: no BLAS, exact here


def check(a: np.ndarray, b: np.ndarray, reference=int64_matmul) -> np.ndarray:
    out = exact_matmul(a, b)
    assert out.dtype == np.int64
    expected = reference(a, b)
    assert np.array_equal(out, np.asarray(expected, dtype=np.int64))
    return out


# --- the plan at the bounds -------------------------------------------------------------------

LARGEST_F32_K = (FLOAT32_EXACT - 1) // (128 * 128)  # 1023: largest K with K * 128 * 128 < 2**24
LARGEST_F64_K = (FLOAT64_EXACT - 1) // (128 * 128)  # 2**39 - 1


def test_plan_int8_bounds():
    assert LARGEST_F32_K == 1023 and LARGEST_F64_K == 2**39 - 1
    assert plan_matmul(LARGEST_F32_K, 128, 128) == MatmulPlan("float32", 1023)
    assert plan_matmul(1024, 128, 128) == MatmulPlan("float64", 1024)
    assert plan_matmul(LARGEST_F64_K, 128, 128) == MatmulPlan("float64", LARGEST_F64_K)
    assert plan_matmul(2**39, 128, 128) == MatmulPlan("float64", LARGEST_F64_K)  # chunked
    assert plan_matmul(1032, 128, 127) == MatmulPlan("float32", 1032)  # 1032 * 16256 < 2**24
    assert plan_matmul(1033, 128, 127).dtype == "float64"


def test_plan_products_and_overflow():
    assert plan_matmul(5, 0, 2**62) == MatmulPlan("float32", 5)  # all products are zero
    assert plan_matmul(5, 2**26, 2**25) == MatmulPlan("float64", 3)  # 3 * 2**51 < 2**53 <= 4 * 2**51
    assert plan_matmul(3, 2**26, 2**26) == MatmulPlan("float64", 1)  # 2 * 2**52 reaches 2**53
    assert plan_matmul(3, 2**26 + 1, 2**26 + 1) == MatmulPlan("float64", 1)
    assert plan_matmul(4, 2**27, 2**26) == MatmulPlan("int64", 4)  # one product is 2**53
    assert plan_matmul(1, 2**31, 2**31) == MatmulPlan("int64", 1)  # 2**62 fits int64
    with pytest.raises(InvalidInput, match="overflow int64"):
        plan_matmul(2, 2**31, 2**31)  # 2 * 2**62 = 2**63 does not


# --- int8 extremes (float32 side) --------------------------------------------------------------

@pytest.mark.parametrize("k", [LARGEST_F32_K, LARGEST_F32_K + 1, 4096, 65536])
@pytest.mark.parametrize("b_value", [-128, 127])
def test_int8_extremes(k, b_value):
    a = np.full((3, k), -128, dtype=np.int8)
    b = np.full((k, 2), b_value, dtype=np.int8)
    out = check(a, b)
    assert np.all(out == k * -128 * b_value)  # the exact sum, also computed in Python ints


def test_int8_extremes_mixed_signs():
    k = LARGEST_F32_K
    a = np.where(np.arange(k) % 2, -128, 127).astype(np.int8)[None, :].repeat(2, axis=0)
    b = np.stack([np.full(k, -128), np.where(np.arange(k) % 3, 127, -128)], axis=1).astype(np.int8)
    check(a, b, python_matmul)


# --- float64 bound, chunks and int64, with larger magnitudes ----------------------------------

BIG = 2**20  # products of 2**40: float64 holds K < 2**13 of them exactly


@pytest.mark.parametrize("signs", [(-1, -1), (-1, 1)])
@pytest.mark.parametrize("k", [2**13 - 1, 2**13, 2**13 + 5, 3 * 2**13])
def test_float64_bound_and_chunks(k, signs):
    assert plan_matmul(k, BIG, BIG).chunk == min(k, 2**13 - 1)
    b_mag = BIG if signs[1] < 0 else BIG - 1
    a = np.full((2, k), signs[0] * BIG, dtype=np.int64)
    b = np.full((k, 3), signs[1] * b_mag, dtype=np.int64)
    out = check(a, b)
    assert np.all(out == k * (signs[0] * BIG) * (signs[1] * b_mag))


def test_chunks_fix_what_plain_float64_gets_wrong():
    a = np.full((1, 3), 2**26 + 1, dtype=np.int64)  # each product 2**52 + 2**27 + 1, the sum is odd above 2**53
    b = np.full((3, 1), 2**26 + 1, dtype=np.int64)
    exact = 3 * (2**26 + 1) ** 2
    assert int((a.astype(np.float64) @ b.astype(np.float64))[0, 0]) != exact  # why the bound matters
    assert int(check(a, b, python_matmul)[0, 0]) == exact


def test_int64_path_for_huge_products():
    rng = np.random.default_rng(3)
    a = rng.integers(-(2**30), 2**30, (4, 7), dtype=np.int64)
    b = rng.integers(-(2**30), 2**30, (7, 5), dtype=np.int64)
    a[0, 0], b[0, 0] = -(2**30), -(2**30)  # one product of exactly 2**60
    assert plan_matmul(7, 2**30, 2**30).dtype == "int64"
    check(a, b, python_matmul)


def test_overflow_refused_and_bad_operands():
    a = np.full((1, 2), -(2**62), dtype=np.int64)
    with pytest.raises(InvalidInput, match="overflow"):
        exact_matmul(a, np.full((2, 1), 2, dtype=np.int64))
    with pytest.raises(InvalidInput, match="integer"):
        exact_matmul(np.ones((2, 2)), np.ones((2, 2), dtype=np.int8))
    with pytest.raises(InvalidInput, match="inner"):
        exact_matmul(np.ones((2, 3), dtype=np.int8), np.ones((2, 2), dtype=np.int8))
    with pytest.raises(InvalidInput, match="2 or more"):
        exact_matmul(np.ones(3, dtype=np.int8), np.ones((3, 2), dtype=np.int8))


def test_int64_minimum_magnitude():
    a = np.array([[np.iinfo(np.int64).min]], dtype=np.int64)
    assert int(check(a, np.array([[0]], dtype=np.int8))[0, 0]) == 0
    with pytest.raises(InvalidInput, match="overflow"):
        exact_matmul(a, np.array([[1]], dtype=np.int8))  # 2**63 itself does not fit


# --- random shapes -----------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(1, 40), st.integers(1, 6), st.sampled_from([8, 16, 32]), st.integers(0, 2**32 - 1))
def test_random_small_against_python(m, k, n, bits, seed):
    rng = np.random.default_rng(seed)
    dtype = {8: np.int8, 16: np.int16, 32: np.int32}[bits]
    info = np.iinfo(dtype)
    a = rng.integers(info.min, info.max, (m, k), dtype=dtype, endpoint=True)
    b = rng.integers(-128, 127, (k, n), dtype=np.int8, endpoint=True)
    check(a, b, python_matmul)


@pytest.mark.parametrize("shape", [(257, 1500, 33), (64, 4096, 130), (1, 784, 1024), (300, 9, 16)])
def test_random_larger_against_int64(shape):
    m, k, n = shape
    rng = np.random.default_rng(k)
    check(rng.integers(-128, 128, (m, k), dtype=np.int8), rng.integers(-128, 128, (k, n), dtype=np.int8))
    check(rng.integers(-(2**20), 2**20, (m, k), dtype=np.int32), rng.integers(-(2**20), 2**20, (k, n), dtype=np.int32))


def test_stacked_and_unsigned():
    rng = np.random.default_rng(5)
    a = rng.integers(0, 256, (3, 5, 11), dtype=np.uint8)
    b = rng.integers(-128, 128, (3, 11, 4), dtype=np.int8)
    check(a, b)
    check(a, b[0])  # broadcast like numpy.matmul


# --- conv2d ------------------------------------------------------------------------------------

def conv_reference(x, w, bias, stride, pads, groups):
    """A direct nested loop over output elements in Python ints (pads: top, left, bottom, right)."""
    n_, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    sh, sw = stride
    top, left, bottom, right = pads
    oh, ow = (h + top + bottom - kh) // sh + 1, (wd + left + right - kw) // sw + 1
    xl, wl = x.tolist(), w.tolist()
    out = np.zeros((n_, o, oh, ow), dtype=object)
    for n, oc, i, j in np.ndindex(n_, o, oh, ow):
        g = oc // (o // groups)
        acc = 0 if bias is None else int(bias[oc])
        for ci, u, v in np.ndindex(cg, kh, kw):
            r, s = i * sh + u - top, j * sw + v - left
            if 0 <= r < h and 0 <= s < wd:
                acc += wl[oc][ci][u][v] * xl[n][g * cg + ci][r][s]
        out[n, oc, i, j] = acc
    return out


CONV_CASES = [
    # (x shape, w shape, stride, padding, groups)
    ((2, 3, 7, 6), (4, 3, 3, 3), 1, 0, 1),
    ((2, 3, 7, 6), (4, 3, 3, 3), 1, 1, 1),
    ((1, 2, 8, 9), (3, 2, 3, 2), (2, 3), (1, 2), 1),  # stride edges: the last window ends short of the border
    ((1, 1, 5, 5), (2, 1, 5, 5), 1, 0, 1),  # kernel the size of the input: one output pixel
    ((1, 1, 4, 4), (1, 1, 3, 3), 2, (0, 1, 1, 0), 1),  # asymmetric ONNX pads
    ((2, 1, 28, 28), (6, 1, 5, 5), 1, 2, 1),  # LeNet conv1
    ((1, 2, 3, 3), (2, 2, 1, 1), 1, 2, 1),  # padding wider than the kernel: border outputs are bias only
    ((2, 4, 6, 6), (4, 1, 3, 3), 1, 1, 4),  # depthwise
    ((1, 3, 7, 7), (6, 1, 3, 3), 2, 1, 3),  # depthwise, channel multiplier 2, stride 2
    ((1, 4, 5, 5), (6, 2, 3, 3), 1, 1, 2),  # two groups
    ((1, 113, 4, 4), (2, 113, 3, 3), 1, 1, 1),  # K = 1017: the float32 plan at its bound (all -128: 2**24 - 112,...)
    ((1, 114, 4, 4), (2, 114, 3, 3), 1, 1, 1),  # K = 1026: past it, float64
]


@pytest.mark.parametrize(("xs", "ws", "stride", "padding", "groups"), CONV_CASES)
@pytest.mark.parametrize("fill", ["random", "min"])
def test_conv2d_against_loop(xs, ws, stride, padding, groups, fill):
    rng = np.random.default_rng(sum(xs) + sum(ws))
    if fill == "min":
        x, w = np.full(xs, -128, dtype=np.int8), np.full(ws, -128, dtype=np.int8)
    else:
        x, w = rng.integers(-128, 128, xs, dtype=np.int8), rng.integers(-128, 128, ws, dtype=np.int8)
    bias = rng.integers(-(2**31), 2**31, ws[0], dtype=np.int64)
    out = exact_conv2d(x, w, bias, stride=stride, padding=padding, groups=groups)
    stride2 = (stride, stride) if isinstance(stride, int) else stride
    pads = (padding,) * 4 if isinstance(padding, int) else (padding * 2 if len(padding) == 2 else padding)
    expected = conv_reference(x, w, bias, stride2, pads, groups)
    assert out.dtype == np.int64 and out.shape == expected.shape
    assert np.array_equal(out, expected.astype(np.int64))


def test_conv2d_blocks_over_the_batch(monkeypatch):
    import vcp_toolkit.model.kernels as kernels

    rng = np.random.default_rng(11)
    x = rng.integers(-128, 128, (5, 2, 6, 6), dtype=np.int8)
    w = rng.integers(-128, 128, (3, 2, 3, 3), dtype=np.int8)
    whole = exact_conv2d(x, w, padding=1)
    monkeypatch.setattr(kernels, "PATCH_BUDGET", 1)  # one sample per im2col block
    assert np.array_equal(exact_conv2d(x, w, padding=1), whole)
    assert np.array_equal(whole, conv_reference(x, w, None, (1, 1), (1, 1, 1, 1), 1).astype(np.int64))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 2), st.integers(1, 3), st.integers(1, 4), st.integers(3, 8), st.integers(1, 3),
       st.integers(1, 3), st.integers(0, 2), st.booleans(), st.integers(0, 2**32 - 1))
def test_conv2d_random(n, c, mult, size, k, stride, pad, depthwise, seed):
    k = min(k, size + 2 * pad)
    groups = c if depthwise else 1
    out_ch = c * mult if depthwise else mult
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (n, c, size, size), dtype=np.int8)
    w = rng.integers(-128, 128, (out_ch, c // groups, k, k), dtype=np.int8)
    out = exact_conv2d(x, w, None, stride=stride, padding=pad, groups=groups)
    assert np.array_equal(out, conv_reference(x, w, None, (stride, stride), (pad,) * 4, groups).astype(np.int64))


@pytest.mark.parametrize(("xs", "ws", "kwargs", "match"), [
    ((1, 3, 5, 5), (2, 2, 3, 3), {}, "do not fit"),
    ((1, 4, 5, 5), (3, 2, 3, 3), {"groups": 2}, "do not fit"),
    ((1, 1, 2, 2), (1, 1, 3, 3), {}, "larger than the padded input"),
    ((1, 1, 5, 5), (1, 1, 3, 3), {"stride": 0}, "stride"),
    ((1, 1, 5, 5), (1, 1, 3, 3), {"padding": (1, 2, 3)}, "padding"),
    ((1, 5, 5), (1, 1, 3, 3), {}, "NCHW"),
])
def test_conv2d_refuses_bad_shapes(xs, ws, kwargs, match):
    with pytest.raises(InvalidInput, match=match):
        exact_conv2d(np.zeros(xs, dtype=np.int8), np.zeros(ws, dtype=np.int8), **kwargs)


def test_conv2d_refuses_floats_and_bad_bias():
    x, w = np.zeros((1, 1, 3, 3), dtype=np.int8), np.zeros((2, 1, 3, 3), dtype=np.int8)
    with pytest.raises(InvalidInput, match="integer"):
        exact_conv2d(x.astype(np.float32), w)
    with pytest.raises(InvalidInput, match="bias"):
        exact_conv2d(x, w, np.zeros(3, dtype=np.int64))
