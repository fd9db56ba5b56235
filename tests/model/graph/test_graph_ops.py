"""Every operator of the integer graph against its plain-Python reference, bit for bit, on random
cases with saturation, negative rounding, padding borders, stride edges and depthwise groups."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vcp_toolkit.errors import InvalidInput, InvalidModel
from vcp_toolkit.model.graph import (Add, AvgPool, Clamp, Conv2D, Dense, Flatten, GlobalAvgPool, IntGraph, IntNode,
                                     MaxPool, add_reference, conv_reference, dense_reference, layout_reference,
                                     pool_reference)
from vcp_toolkit.model.graph.add import shared_rescale
from vcp_toolkit.model.graph.common import half_up_div, requantize_range


def int8(rng, shape, extreme: bool = False) -> np.ndarray:
    if extreme:  # saturating inputs: only the int8 extremes
        return rng.choice(np.array([-128, 127], dtype=np.int8), size=shape)
    return rng.integers(-128, 128, size=shape, dtype=np.int64).astype(np.int8)


def rescale(rng, n: int, fan_in: int) -> tuple[np.ndarray, np.ndarray]:
    """Multipliers over the whole range, shifts around the typical |acc| * M / 64 (|acc| ~ sqrt(fan_in)
    * 6000 + 2**13): some outputs saturate, most are rounded, negative or not."""
    m = rng.integers(1, 2**31, size=n, dtype=np.int64)
    base = np.log2((np.sqrt(max(fan_in, 1)) * 6000 + 2**13) * m.astype(np.float64) / 64)
    s = np.clip(base.astype(np.int64) + rng.integers(-2, 4, size=n), 1, 62)
    return m, s.astype(np.int64)


def activation(rng) -> tuple[int, int]:
    lo = int(rng.choice([-128, 0, -5]))
    return lo, int(rng.choice([127, 6, max(lo, 30)]))


def random_conv(rng) -> tuple[Conv2D, np.ndarray]:
    c = int(rng.integers(1, 4))
    depthwise = bool(rng.integers(0, 2))
    o, per_group, groups = (c * int(rng.integers(1, 3)), 1, c) if depthwise else (int(rng.integers(1, 4)), c, 1)
    kh, kw = (int(k) for k in rng.integers(1, 4, size=2))
    pads = tuple(int(p) for p in rng.integers(0, 3, size=4))
    h, w = max(1, kh - pads[0] - pads[2]) + int(rng.integers(0, 5)), max(1, kw - pads[1] - pads[3]) + int(rng.integers(0, 5))
    bias = rng.integers(-(2**14), 2**14, size=o, dtype=np.int64)
    m, s = rescale(rng, o, per_group * kh * kw)
    lo, hi = activation(rng)
    op = Conv2D(int8(rng, (o, per_group, kh, kw), bool(rng.integers(0, 4) == 0)), bias, m, s,
                tuple(int(v) for v in rng.integers(1, 4, size=2)), pads, groups, lo, hi)
    return op, int8(rng, (int(rng.integers(1, 3)), c, h, w), bool(rng.integers(0, 4) == 0))


def test_conv_matches_reference_on_random_cases():
    rng = np.random.default_rng(12)
    for _ in range(300):
        op, x = random_conv(rng)
        out = op(x)
        assert out.dtype == np.int8
        assert np.array_equal(out, conv_reference(op, x)), (op, x.shape)


def test_conv_rounding_is_half_up_and_saturates():
    w = np.array([[[[1]]]], dtype=np.int8)
    op = Conv2D(w, np.zeros(1, np.int64), np.ones(1, np.int64), np.ones(1, np.int64))
    x = np.array([-3, -1, 1, 3, 127, -128], dtype=np.int8).reshape(1, 1, 1, 6)
    assert op(x).ravel().tolist() == [-1, 0, 1, 2, 64, -64]  # x/2 rounded half up
    big = Conv2D(w, np.zeros(1, np.int64), np.array([2**30], np.int64), np.array([20], np.int64), lo=0, hi=6)
    assert big(x).ravel().tolist() == [0, 0, 6, 6, 6, 0]


def random_pool(rng):
    kh, kw = (int(k) for k in rng.integers(1, 4, size=2))
    pads = (int(rng.integers(0, kh)), int(rng.integers(0, kw)), int(rng.integers(0, kh)), int(rng.integers(0, kw)))
    stride = tuple(int(v) for v in rng.integers(1, 4, size=2))
    kind = rng.integers(0, 3)
    op = (MaxPool((kh, kw), stride, pads) if kind == 0 else AvgPool((kh, kw), stride, pads, bool(rng.integers(0, 2)))
          if kind == 1 else GlobalAvgPool())
    h, w = kh + int(rng.integers(0, 5)), kw + int(rng.integers(0, 5))
    return op, int8(rng, (int(rng.integers(1, 3)), int(rng.integers(1, 4)), h, w), bool(rng.integers(0, 4) == 0))


def test_pools_match_reference_on_random_cases():
    rng = np.random.default_rng(1212)
    kinds = set()
    for _ in range(400):
        op, x = random_pool(rng)
        kinds.add(op.kind)
        assert np.array_equal(op(x), pool_reference(op, x)), (op, x.shape)
    assert kinds == {"maxpool", "avgpool", "gap"}


def test_average_rounds_half_up_with_floor_division():
    assert [half_up_div(t, 2) for t in (-3, -1, 1, 3)] == [-1, 0, 1, 2]
    x = np.array([[-128, -127], [-128, -128]], dtype=np.int8).reshape(1, 1, 2, 2)  # mean -127.75
    assert GlobalAvgPool()(x).item() == -128
    edge = AvgPool((2, 2), (2, 2), (1, 1, 0, 0), count_include_pad=False)
    single = np.array([[-3]], dtype=np.int8).reshape(1, 1, 1, 1)
    assert edge(single).item() == -3  # one real cell: n = 1
    assert AvgPool((2, 2), (2, 2), (1, 1, 0, 0), count_include_pad=True)(single).item() == -1  # -3/4 -> -1


def test_maxpool_padding_reads_minus_128():
    x = np.full((1, 1, 1, 1), -128, dtype=np.int8)
    assert MaxPool((2, 2), (1, 1), (1, 1, 1, 1))(x).ravel().tolist() == [-128] * 4
    with pytest.raises(InvalidModel, match="smaller than the kernel"):
        MaxPool((2, 2), (1, 1), (2, 0, 0, 0))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 2**31 - 1), st.integers(1, 2**31 - 1), st.integers(1, 62), st.integers(-128, 0),
       st.integers(0, 127), st.integers(0, 2**32 - 1))
def test_add_matches_reference(ma, mb, shift, lo, hi, seed):
    rng = np.random.default_rng(seed)
    op = Add(ma, mb, shift, lo, hi)
    a, b = int8(rng, (2, 3, 4, 4), seed % 3 == 0), int8(rng, (2, 3, 4, 4))
    assert np.array_equal(op(a, b), add_reference(op, a, b))


def test_add_rescales_two_scales():
    ma, mb, s = shared_rescale(0.5, 0.125)
    assert abs(ma * 2.0**-s - 0.5) < 1e-9 and abs(mb * 2.0**-s - 0.125) < 1e-9
    op = Add(ma, mb, s)
    out = op(np.array([[100, -100, 127]], np.int8), np.array([[8, -8, 127]], np.int8))
    assert out.tolist() == [[51, -51, 79]]  # 50 + 1, -50 - 1, 63.5 + 15.875 = 79.375
    with pytest.raises(InvalidInput, match="one shape"):
        op(np.zeros((1, 2), np.int8), np.zeros((1, 3), np.int8))


def test_dense_matches_reference_and_fixedpoint():
    rng = np.random.default_rng(7)
    for _ in range(100):
        n_in, n_out = (int(v) for v in rng.integers(1, 40, size=2))
        m, s = rescale(rng, n_out, n_in)
        lo, hi = activation(rng)
        op = Dense(int8(rng, (n_out, n_in)), rng.integers(-(2**14), 2**14, n_out, dtype=np.int64), m, s, lo, hi)
        x = int8(rng, (3, n_in), bool(rng.integers(0, 3) == 0))
        assert np.array_equal(op(x), dense_reference(op, x))
        if hi == 127 and lo in (0, -128):
            assert np.array_equal(op(x), op.layer(x))  # the fixedpoint.QuantizedDense arithmetic


def test_requantize_at_int64_extremes():
    """The largest conv accumulator times the largest multiplier stays inside int64."""
    acc = np.array([4096 * 128 * 128 + 2**31 - 1, -(4096 * 128 * 128) - 2**31], dtype=np.int64)
    out = requantize_range(acc, 2**31 - 1, 62, -128, 127)
    expected = [max(-128, min(127, (int(a) * (2**31 - 1) + 2**61) >> 62)) for a in acc]
    assert out.tolist() == expected


def test_layout_ops_and_graph_trace():
    rng = np.random.default_rng(3)
    x = int8(rng, (2, 2, 3, 3))
    for op in (Flatten(), Clamp(0, 6), Clamp(-5, 127)):
        assert np.array_equal(op(x), layout_reference(op, x))
    one = np.ones(2, np.int64)
    conv = Conv2D(int8(rng, (2, 2, 3, 3)), np.zeros(2, np.int64), one * 2**30, one * 36, pads=(1, 1, 1, 1))
    graph = IntGraph((2, 3, 3), 1 / 127, (
        IntNode("c", conv, ("input",), 0.1), IntNode("r", Add(2**30, 2**30, 31, 0, 127), ("c", "input"), 0.1),
        IntNode("p", GlobalAvgPool(), ("r",), 0.1), IntNode("f", Flatten(), ("p",), 0.1)))
    run = graph.run(x)
    assert list(run.trace) == ["input", "c", "r", "p", "f"]
    assert run.output.shape == (2, 2) and run.trace["r"].min() >= 0
    assert np.array_equal(run.trace["r"], add_reference(graph.nodes[1].op, conv_reference(conv, x), x))
    with pytest.raises(InvalidModel, match="earlier node"):
        IntGraph((2, 3, 3), 1 / 127, (IntNode("r", Add(1, 1, 1), ("input", "later"), 0.1),))
    with pytest.raises(InvalidInput, match="graph input"):
        graph.run(x.astype(np.int16))


def test_conv_at_the_largest_fan_in_and_extremes():
    """Fan-in 4096 (256 channels x 4x4), every input and weight -128, int32 bias extremes, the largest
    multiplier: numpy and the Python reference agree, and the accumulator is the exact integer."""
    w = np.full((2, 256, 4, 4), -128, dtype=np.int8)
    bias = np.array([2**31 - 1, -(2**31)], dtype=np.int64)
    for m, s in ((2**31 - 1, 62), (2**31 - 1, 40), (1, 1)):
        op = Conv2D(w, bias, np.full(2, m, np.int64), np.full(2, s, np.int64), pads=(1, 0, 0, 1))
        x = np.full((1, 256, 4, 4), -128, dtype=np.int8)
        assert np.array_equal(op(x), conv_reference(op, x))
    assert op.accumulate(x)[0, 0, 1, 0] == 2**31 - 1 + 4096 * 2**14  # the one window with no padding
    with pytest.raises(InvalidModel, match="fan-in 4097"):
        Conv2D(np.zeros((1, 4097, 1, 1), np.int8), bias[:1], np.ones(1, np.int64), np.ones(1, np.int64))


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_conv_and_pools_match_reference_hypothesis(seed):
    rng = np.random.default_rng(seed)
    for op, x in (random_conv(rng), random_pool(rng)):
        assert np.array_equal(op(x), conv_reference(op, x) if op.kind == "conv" else pool_reference(op, x))


def test_conv_refuses_grouped_not_depthwise():
    with pytest.raises(InvalidModel, match="depthwise"):
        Conv2D(np.zeros((4, 2, 1, 1), np.int8), np.zeros(4, np.int64), np.ones(4, np.int64), np.ones(4, np.int64),
               groups=2)


@pytest.mark.parametrize("channels", [113, 114])  # K = 1017 (float32 plan) and 1026 (float64)
def test_conv_node_requantizes_like_its_accumulators_at_the_extremes(channels):
    """Conv2D requantizes channel-major with the bias folded into a constant: the same integers as
    requantizing accumulate()'s NCHW accumulators, at the largest bias, multiplier and accumulators."""
    rng = np.random.default_rng(channels)
    w = np.full((3, channels, 3, 3), -128, dtype=np.int8)
    w[1] = 127
    bias = np.array([2**31 - 1, -(2**31), 12345], dtype=np.int64)
    conv = Conv2D(w, bias, np.array([2**31 - 1, 2**31 - 1, 2**30], dtype=np.int64), np.array([62, 40, 47]),
                  pads=(1, 1, 1, 1), lo=-128, hi=127)
    x = np.full((2, channels, 4, 4), -128, dtype=np.int8)
    x[1] = rng.integers(-128, 128, (channels, 4, 4), dtype=np.int8)
    acc = conv.accumulate(x)
    expected = requantize_range(acc, conv.multiplier[None, :, None, None], conv.shift[None, :, None, None], -128, 127)
    assert np.array_equal(conv(x), expected)
    assert np.array_equal(conv(x), conv_reference(conv, x))


def test_add_over_several_chunks_matches_the_reference():
    """Add works through its tensors a chunk at a time: a tensor of a few chunks and a ragged tail."""
    from vcp_toolkit.model.graph.add import CHUNK

    rng = np.random.default_rng(77)
    shape = (3, 5, CHUNK // 7 + 3, 7)
    a, b = (rng.integers(-128, 128, shape).astype(np.int8) for _ in range(2))
    op = Add(2**31 - 1, 3 * 2**28, 31, -100, 127)
    assert a.size > 2 * CHUNK and a.size % CHUNK
    assert np.array_equal(op(a, b), add_reference(op, a, b))
