"""From a VitFloatGraph to an IntGraph of int8 tensors: calibration sets the scales, then every
parameter becomes an integer (docs/models.md, "Tiny ViT", "Fixed point").

Scales, one per tensor, symmetric: the input's is 1/127; a node that computes (conv, dense, matmul,
add, layernorm, gelu) gets ``peak / 127`` with ``peak`` its largest |value| over the calibration
images (max-abs: nothing clips on data like the calibration's, and with 256 images the peak is
stable), rounded up to 8 significant bits so that a float sum that differs in its last bit on
another CPU (BLAS order) cannot move a scale, except when the exact peak sits within an ulp of one of
the grid points. Softmax outputs have the fixed scale 1/127; data movement keeps its input's scale;
the class token joins the patch tokens' scale (the conv's peak is widened to cover it).

Parameters: dense and conv weights int8 per output row/channel with int32 biases and per-row M, s
(quantizer._weights, as for the CNNs); the attention scale folds into MatMul's M; LayerNorm gamma
per channel (``scale_gamma[i] = |gamma[i]| / 127``, so gamma is +-127 and its value lives in M) with
beta in units of ``scale_gamma * 2**-10``; epsilon ``max(1, round(eps * n**2 / S**2))``; GELU the
256-entry table of its input and output scales; positional embeddings an int8 constant of their own
scale added by the graph's Add.
"""

from __future__ import annotations

import math

import numpy as np

from vcp_toolkit.errors import InvalidInput, InvalidModel
from vcp_toolkit.model.datasets import INPUT_SCALE
from vcp_toolkit.model.fixedpoint import INT32_MAX
from vcp_toolkit.model.graph.add import Add, shared_rescale
from vcp_toolkit.model.graph.common import INT8_MAX, INT8_MIN
from vcp_toolkit.model.graph.conv import Conv2D
from vcp_toolkit.model.graph.dense import Dense
from vcp_toolkit.model.graph.float_graph import FloatNode
from vcp_toolkit.model.graph.gelu import Gelu
from vcp_toolkit.model.graph.graph import INPUT, IntGraph, IntNode
from vcp_toolkit.model.graph.layernorm import LN_FRAC, LayerNorm
from vcp_toolkit.model.graph.matmul import MatMul
from vcp_toolkit.model.graph.quantizer import _weights
from vcp_toolkit.model.graph.softmax import PROB_ONE, Softmax
from vcp_toolkit.model.graph.vit_float import VitFloatGraph, VitNode
from vcp_toolkit.model.graph.vit_layout import BatchConst, PrependToken, Reshape, TakeToken, TokenDense, Transpose
from vcp_toolkit.model.quantize import multiplier_and_shift

PEAK_BITS = 8  # significant bits a calibrated peak is rounded up to
COMPUTING = ("conv", "dense", "matmul", "add", "add_const", "layernorm", "gelu")
MOVING = ("reshape", "transpose", "take", "prepend")
CALIBRATION_CHUNK = 64


def snap_peak(peak: float) -> float:
    """``peak`` rounded up to PEAK_BITS significant bits (at most 0.4% larger); 0 becomes 1."""
    if not peak > 0:
        return 1.0
    frac, exp = math.frexp(peak)
    return math.ldexp(math.ceil(frac * 2**PEAK_BITS) / 2**PEAK_BITS, exp)


def _half_up(x) -> np.ndarray:
    return np.floor(np.asarray(x, dtype=np.float64) + 0.5)


def _int8(x) -> np.ndarray:
    return np.clip(_half_up(x), INT8_MIN, INT8_MAX).astype(np.int8)


def calibration_peaks(graph: VitFloatGraph, calibration: np.ndarray) -> dict[str, float]:
    """Largest |value| of every node over float ``calibration`` images (N, *input_shape)."""
    calib = np.asarray(calibration, dtype=np.float64)
    if calib.ndim < 2 or tuple(calib.shape[1:]) != tuple(graph.input_shape) or not len(calib):
        raise InvalidInput(f"calibration data must have shape (N, {', '.join(map(str, graph.input_shape))})")
    if not np.all(np.isfinite(calib)):
        raise InvalidInput("calibration data holds NaN or infinite values")
    peaks: dict[str, float] = {}
    for start in range(0, len(calib), CALIBRATION_CHUNK):
        for name, value in graph.run(calib[start:start + CALIBRATION_CHUNK]).items():
            peaks[name] = max(peaks.get(name, 0.0), float(np.max(np.abs(value))))
    by_name = {n.name: n for n in graph.nodes}
    for node in graph.nodes:  # the class token joins its tokens' scale: widen their producer's peak
        if node.kind == "prepend":
            src = node.inputs[0]
            while src in by_name and by_name[src].kind in MOVING:
                src = by_name[src].inputs[0]
            peaks[src] = max(peaks[src], float(np.max(np.abs(node.params["token"]))))
    return peaks


def _layernorm(p: dict, s_in: float, s_out: float) -> LayerNorm:
    gamma, beta = p["gamma"], p["beta"]
    n = len(gamma)
    # |beta| / unit <= 2**30 keeps beta inside int32 even for a gamma near 0.
    s_g = np.maximum(np.abs(gamma) / INT8_MAX, np.abs(beta) * 2.0**LN_FRAC / 2.0**30)
    s_g = np.where(s_g > 0, s_g, 1.0)
    unit = s_g * 2.0**-LN_FRAC  # the real value of one step of gamma * h + beta
    pairs = [multiplier_and_shift(float(u / s_out)) for u in unit]
    epsilon = max(1, int(_half_up(p["epsilon"] * n * n / (s_in * s_in))))
    if epsilon > INT32_MAX:
        raise InvalidModel(f"layernorm epsilon {p['epsilon']} is {epsilon} input steps squared, above int32")
    return LayerNorm(_int8(gamma / s_g), _half_up(beta / unit).astype(np.int64),
                     np.array([m for m, _ in pairs], dtype=np.int64), np.array([s for _, s in pairs], dtype=np.int64),
                     epsilon)


def _int_nodes(node: VitNode, scales: dict, s_out: float) -> list[IntNode]:
    """The integer node(s) of ``node`` (an add_const becomes its constant and an Add)."""
    p, s_in = node.params, scales[node.inputs[0]]
    kind = node.kind
    if kind in ("conv", "dense"):
        ints = _weights(FloatNode(node.name, kind, node.inputs, dict(weight=p["weight"], bias=p["bias"])), s_in, s_out)
        op = Conv2D(**ints, stride=p["stride"], pads=p["pads"]) if kind == "conv" else TokenDense(Dense(**ints))
    elif kind == "matmul":
        op = MatMul(*multiplier_and_shift(s_in * scales[node.inputs[1]] * p["scale"] / s_out))
    elif kind == "softmax":
        op = Softmax.for_scale(s_in)
    elif kind == "layernorm":
        op = _layernorm(p, s_in, s_out)
    elif kind == "gelu":
        op = Gelu.for_scales(s_in, s_out)
    elif kind == "add":
        op = Add(*shared_rescale(s_in / s_out, scales[node.inputs[1]] / s_out))
    elif kind == "add_const":
        s_c = snap_peak(float(np.max(np.abs(p["value"])))) / INT8_MAX
        const = IntNode(f"{node.name}.value", BatchConst(_int8(p["value"] / s_c)), (INPUT,), s_c)
        add = Add(*shared_rescale(s_in / s_out, s_c / s_out))
        return [const, IntNode(node.name, add, (node.inputs[0], const.name), s_out)]
    elif kind == "prepend":
        op = PrependToken(_int8(p["token"] / s_in))
    elif kind == "reshape":
        op = Reshape(p["shape"])
    elif kind == "transpose":
        op = Transpose(p["perm"])
    else:
        op = TakeToken(p["index"])
    return [IntNode(node.name, op, node.inputs, s_out)]


def quantize_vit(graph: VitFloatGraph, calibration: np.ndarray, input_scale: float = INPUT_SCALE) -> IntGraph:
    """The integer graph of ``graph`` with scales from float ``calibration`` images (N, *input_shape)."""
    peaks = calibration_peaks(graph, calibration)
    scales = {INPUT: float(input_scale)}
    nodes: list[IntNode] = []
    for node in graph.nodes:
        if node.kind == "softmax":
            s_out = 1.0 / PROB_ONE
        elif node.kind in COMPUTING:
            s_out = snap_peak(peaks[node.name]) / INT8_MAX
        else:
            s_out = scales[node.inputs[0]]
        nodes.extend(_int_nodes(node, scales, s_out))
        scales[node.name] = s_out
    return IntGraph(tuple(graph.input_shape), float(input_scale), tuple(nodes), name="vit",
                    metadata={"onnx_nodes": {k: list(v) for k, v in graph.onnx_names.items()}})
