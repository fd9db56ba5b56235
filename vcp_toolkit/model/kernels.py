"""Exact integer matmul and convolution that run on floating-point BLAS.

Integer matmul in numpy has no BLAS (a plain loop, tens of times slower than ``dgemm``). These
kernels hand integer operands to float BLAS only where every value the BLAS can form is an integer
that the float format represents exactly, so the result is bit-identical to a Python-int reference.

The bound (proved in :func:`exact_matmul`; docs/arithmetic.md, "Exact integer kernels"): with
inner dimension ``K``, ``A = max|a|`` and ``B = max|b|``, a float format with a ``p``-bit
significand computes ``a @ b`` exactly when ``K * A * B < 2**p`` (``p = 24`` for float32,
``53`` for float64). int8 x int8 reaches it at ``K = 1024`` in float32 and ``K = 2**39`` in float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vcp_toolkit.errors import InvalidInput

FLOAT32_EXACT = 2**24  # float32 represents every integer of magnitude <= 2**24 exactly
FLOAT64_EXACT = 2**53  # float64 represents every integer of magnitude <= 2**53 exactly
INT64_LIMIT = 2**63  # results (and every partial sum) must stay below this to fit int64
PATCH_BUDGET = 2**22  # patch elements formed at once by conv_accumulators (32 MiB in float64)


@dataclass(frozen=True)
class MatmulPlan:
    """How :func:`exact_matmul` computes a product: in which dtype, over inner chunks of which length."""

    dtype: str  # "float32", "float64" or "int64"
    chunk: int  # inner-dimension length per BLAS call (the whole K unless the bound forces chunks)


def plan_matmul(k: int, max_a: int, max_b: int) -> MatmulPlan:
    """The cheapest exact way to multiply with inner dimension ``k`` and magnitudes ``max_a``, ``max_b``.

    float32 when the whole sum stays below 2**24; else float64, split into chunks of at most
    ``(2**53 - 1) // (max_a * max_b)`` products when the whole sum would reach 2**53; int64 when
    even one product reaches 2**53. Raises InvalidInput when the result itself may not fit int64.
    """
    product = max_a * max_b  # Python ints: no overflow while planning
    k = max(int(k), 1)
    if k * product >= INT64_LIMIT:
        raise InvalidInput(f"integer matmul may overflow int64: K={k} x max|a|={max_a} x max|b|={max_b} >= 2**63")
    if k * product < FLOAT32_EXACT:
        return MatmulPlan("float32", k)
    if product < FLOAT64_EXACT:
        return MatmulPlan("float64", min(k, (FLOAT64_EXACT - 1) // product))
    return MatmulPlan("int64", k)


def _magnitude(arr: np.ndarray) -> int:
    """max|arr| as a Python int (``abs`` of int64's minimum would overflow in numpy)."""
    if arr.size == 0:
        return 0
    return max(-int(arr.min()), int(arr.max()), 0)


def _check_operands(a: np.ndarray, b: np.ndarray) -> None:
    for name, arr in (("a", a), ("b", b)):
        if not np.issubdtype(arr.dtype, np.integer):
            raise InvalidInput(f"exact_matmul needs integer arrays, {name} is {arr.dtype}")
        if arr.ndim < 2:
            raise InvalidInput(f"exact_matmul needs arrays of 2 or more dimensions, {name} has shape {arr.shape}")
    if a.shape[-1] != b.shape[-2]:
        raise InvalidInput(f"exact_matmul: inner dimensions differ, a {a.shape} and b {b.shape}")


def exact_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for integer arrays, as int64, bit-identical to a Python-int reference.

    Shapes follow ``numpy.matmul`` for arrays of 2 or more dimensions (stacks broadcast).

    Why float BLAS is exact here. Let ``K`` be the inner dimension (or the chunk length), ``A``
    and ``B`` the largest magnitudes in ``a`` and ``b``, and ``p`` the significand bits of the
    float type (24 or 53). (1) If ``A * B = 0`` every product is 0 and so is every sum. Else every
    input is an integer of magnitude at most ``max(A, B) <= K * A * B``, so converting it is exact. (2) Any sum of
    ``j <= K`` products ``a[i, t] * b[t, n]`` (taken in any order and grouped in any way) is an
    integer of magnitude at most ``j * A * B <= K * A * B < 2**p``. (3) The float format
    represents every integer of magnitude ``<= 2**p`` exactly, and IEEE 754 rounds an exactly
    representable result to itself. So by induction over the operations, each product, each
    addition and each fused multiply-add the BLAS performs has an exact operand and an exactly
    representable true result, hence is exact: the output equals the integer sum whatever the
    summation order, blocking, vectorisation or threading. This assumes the BLAS forms classical
    inner products (as OpenBLAS, MKL, Accelerate and numpy's own loop do), not a Strassen-like
    scheme whose intermediate sums of inputs are not such partial sums.

    When ``K * A * B >= 2**p`` for float64 but one product is still below ``2**53``, the inner
    dimension is cut into chunks of ``c = (2**53 - 1) // (A * B)`` products: each chunk is exact
    by the argument above, and the chunk results (integers below 2**53) are summed in int64,
    which is exact because the total is at most ``K * A * B < 2**63`` (checked). If one product
    alone can reach ``2**53`` the product is computed in int64 (numpy's integer loop).
    """
    a, b = np.asarray(a), np.asarray(b)
    _check_operands(a, b)
    k = a.shape[-1]
    plan = plan_matmul(k, _magnitude(a), _magnitude(b))
    if plan.dtype == "int64":
        return np.matmul(a.astype(np.int64), b.astype(np.int64))
    dtype = np.float32 if plan.dtype == "float32" else np.float64
    af, bf = a.astype(dtype), b.astype(dtype)
    if plan.chunk >= k:
        return np.matmul(af, bf).astype(np.int64)
    total = None
    for start in range(0, k, plan.chunk):
        part = np.matmul(af[..., start:start + plan.chunk], bf[..., start:start + plan.chunk, :]).astype(np.int64)
        total = part if total is None else total + part
    return total


def _pair(value: int | tuple[int, ...], name: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or min(pair) < 1:
        raise InvalidInput(f"{name} must be a positive int or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def _pads(padding: int | tuple[int, ...]) -> tuple[int, int, int, int]:
    """``(top, left, bottom, right)`` from an int, ``(ph, pw)`` or ONNX's ``(top, left, bottom, right)``."""
    if isinstance(padding, (int, np.integer)):
        pads = (int(padding),) * 4
    else:
        pads = tuple(int(p) for p in padding)
        pads = pads * 2 if len(pads) == 2 else pads
    if len(pads) != 4 or min(pads) < 0:
        raise InvalidInput(f"padding must be an int >= 0, (ph, pw) or (top, left, bottom, right), got {padding!r}")
    return pads  # type: ignore[return-value]


@dataclass(frozen=True)
class ConvGeometry:
    """The shapes of one convolution: input (N, C, H, W), weights (O, C/groups, KH, KW)."""

    channels: int
    out_channels: int
    kernel: tuple[int, int]
    stride: tuple[int, int]
    pads: tuple[int, int, int, int]  # top, left, bottom, right
    groups: int
    out_size: tuple[int, int]


def conv_geometry(x_shape: tuple[int, ...], w_shape: tuple[int, ...], stride, padding, groups: int) -> ConvGeometry:
    """Validate the shapes of a convolution and compute its output size."""
    if len(x_shape) != 4 or len(w_shape) != 4:
        raise InvalidInput(f"conv2d needs NCHW input and OIHW weights, got {x_shape} and {w_shape}")
    _, c, h, w = x_shape
    o, cg, kh, kw = w_shape
    if groups < 1 or c % groups or o % groups or cg * groups != c:
        raise InvalidInput(f"conv2d: {c} input channels, weights {w_shape} and groups={groups} do not fit")
    if kh < 1 or kw < 1:
        raise InvalidInput(f"conv2d: empty kernel {w_shape}")
    (sh, sw), pads = _pair(stride, "stride"), _pads(padding)
    oh = (h + pads[0] + pads[2] - kh) // sh + 1
    ow = (w + pads[1] + pads[3] - kw) // sw + 1
    if oh < 1 or ow < 1:
        raise InvalidInput(f"conv2d: kernel {kh}x{kw} larger than the padded input {x_shape}")
    return ConvGeometry(c, o, (kh, kw), (sh, sw), pads, groups, (oh, ow))


def _patches(x: np.ndarray, g: ConvGeometry, dtype) -> np.ndarray:
    """im2col transposed: shape (groups, C/groups*KH*KW, N*OH*OW), zero-padded, one column per output
    pixel. Filled one kernel offset at a time, each a strided slice of the padded input written as
    one contiguous block: far fewer cache misses than gathering every window's KH x KW cells."""
    top, left, bottom, right = g.pads
    xp = np.pad(x.astype(dtype, copy=False), ((0, 0), (0, 0), (top, bottom), (left, right)))
    (kh, kw), (sh, sw), (oh, ow) = g.kernel, g.stride, g.out_size
    n = x.shape[0]
    out = np.empty((g.channels, kh, kw, n, oh, ow), dtype=dtype)
    for u in range(kh):
        for v in range(kw):
            window = xp[:, :, u:u + sh * (oh - 1) + 1:sh, v:v + sw * (ow - 1) + 1:sw]
            out[:, u, v] = window.transpose(1, 0, 2, 3)
    return out.reshape(g.groups, g.channels // g.groups * kh * kw, n * oh * ow)


def exact_conv2d(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None = None, stride=1, padding=0,
                 groups: int = 1) -> np.ndarray:
    """int64 accumulators of a 2-D convolution (cross-correlation, as ONNX Conv), before requantization.

    ``x`` is NCHW, ``w`` is OIHW with I = C / groups (groups=1: a full convolution; groups=C:
    depthwise, each input channel with its O/C own filters). Output channel ``o`` of group
    ``o // (O/groups)`` reads input channels ``g*C/groups .. (g+1)*C/groups - 1``. ``stride`` is
    an int or (sh, sw); ``padding`` zero-pads: an int, (ph, pw) or ONNX's (top, left, bottom, right).
    ``out[n, o, i, j] = bias[o] + sum_{c, u, v} w[o, c, u, v] * xpad[n, g*C/groups + c, i*sh + u, j*sw + v]``,
    computed by :func:`conv_accumulators`, so exact. Returns shape (N, O, OH, OW).
    """
    x, w = np.asarray(x), np.asarray(w)
    g = conv_geometry(x.shape, w.shape, stride, padding, groups)
    out = conv_accumulators(x, w, g).transpose(1, 0, 2, 3)  # (O, N, OH, OW) -> NCHW
    if bias is not None:
        bias = np.asarray(bias)
        if not np.issubdtype(bias.dtype, np.integer) or bias.shape != (g.out_channels,):
            raise InvalidInput(f"conv2d bias must be integers of shape ({g.out_channels},), got {bias.dtype} {bias.shape}")
        out = out + bias.astype(np.int64)[None, :, None, None]
    return np.ascontiguousarray(out)


def conv_accumulators(x: np.ndarray, w: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """int64 ``sum w * x`` (no bias), channel-major: shape (O, N, OH, OW), exact (see conv_blocks)."""
    n, (oh, ow) = x.shape[0], g.out_size
    out = np.empty((g.out_channels, n, oh, ow), dtype=np.int64)
    for start, block in conv_blocks(x, w, g):
        out[:, start:start + block.shape[1]] = block
    return out


def conv_blocks(x: np.ndarray, w: np.ndarray, g: ConvGeometry, budget: int | None = None):
    """Yields ``(first sample, int64 accumulators of a block of samples, shape (O, n, OH, OW))``.

    ``W (O/groups x K) @ patches (K x n*OH*OW)`` per group, K = C/groups*KH*KW. The patches are
    formed directly in the float type :func:`plan_matmul` picks from max|x| and max|w| (the bound of
    :func:`exact_matmul` holds, since every patch entry is an entry of x or 0); an int64 or chunked
    plan goes through exact_matmul. Blocks keep the patches under ``budget`` elements (PATCH_BUDGET
    by default): a caller that finishes each block while it is in cache (Conv2D's requantization)
    passes a smaller one."""
    for name, arr in (("input", x), ("weights", w)):
        if not np.issubdtype(arr.dtype, np.integer):
            raise InvalidInput(f"exact_conv2d needs integer arrays, {name} is {arr.dtype}")
    og = g.out_channels // g.groups
    wmat = w.reshape(g.groups, og, -1)  # (groups, O/groups, C/groups*KH*KW)
    k = wmat.shape[2]
    plan = plan_matmul(k, _magnitude(x), _magnitude(w))
    direct = plan.dtype != "int64" and plan.chunk >= k
    dtype = (np.float32 if plan.dtype == "float32" else np.float64) if direct else np.int64
    wf = wmat.astype(dtype)
    oh, ow = g.out_size
    step = max(1, (budget or PATCH_BUDGET) // max(oh * ow * k * g.groups, 1))
    for start in range(0, x.shape[0], step):
        part = x[start:start + step]
        patches = _patches(part, g, dtype)
        block = np.matmul(wf, patches) if direct else exact_matmul(wmat, patches)
        yield start, block.reshape(g.out_channels, len(part), oh, ow).astype(np.int64)
