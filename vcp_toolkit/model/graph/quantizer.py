"""From a FloatGraph to an IntGraph: calibration sets the scales, then weights become integers.

Scales: the input's is 1/127 (code 127 means 1.0); a conv, dense or add node's is
``max|a| / 127`` over the calibration images (after its fused activation); pools, flatten and a
standalone clamp keep their input's scale. Weights: int8 per output channel/row
``round(w / (max|w_o| / 127))``; bias ``round(b / (s_in * s_w[o]))`` as int32; rescale
``s_in * s_w[o] / s_out`` as M/s (quantize.multiplier_and_shift). Fused interval (a, b):
``lo = max(-128, round(a / s_out))``, ``hi = min(127, round(b / s_out))``.
"""

from __future__ import annotations

import numpy as np

from vcp_toolkit.errors import InvalidInput
from vcp_toolkit.model.datasets import INPUT_SCALE
from vcp_toolkit.model.fixedpoint import INT32_MAX, INT32_MIN
from vcp_toolkit.model.graph.add import Add, shared_rescale
from vcp_toolkit.model.graph.common import INT8_MAX, INT8_MIN
from vcp_toolkit.model.graph.conv import Conv2D
from vcp_toolkit.model.graph.dense import Dense
from vcp_toolkit.model.graph.float_graph import FloatGraph, FloatNode
from vcp_toolkit.model.graph.graph import INPUT, IntGraph, IntNode
from vcp_toolkit.model.graph.layout import Clamp, Flatten
from vcp_toolkit.model.graph.pool import AvgPool, GlobalAvgPool, MaxPool
from vcp_toolkit.model.quantize import multiplier_and_shift

RESCALING = ("conv", "dense", "add")


def _half_up(x):
    return np.floor(np.asarray(x, dtype=np.float64) + 0.5)


def _interval(act, scale: float) -> tuple[int, int]:
    lo, hi = act
    lo_i = INT8_MIN if lo is None else int(max(INT8_MIN, min(INT8_MAX, _half_up(lo / scale))))
    hi_i = INT8_MAX if hi is None else int(max(lo_i, min(INT8_MAX, _half_up(hi / scale))))
    return lo_i, hi_i


def _weights(node: FloatNode, s_in: float, s_out: float) -> dict:
    w, b = node.params["weight"], node.params["bias"]
    peak = np.abs(w.reshape(len(w), -1)).max(axis=1)
    s_w = np.where(peak > 0, peak / INT8_MAX, 1.0)
    shape = (-1,) + (1,) * (w.ndim - 1)
    weight = np.clip(_half_up(w / s_w.reshape(shape)), INT8_MIN, INT8_MAX).astype(np.int8)
    bias = np.clip(_half_up(b / (s_in * s_w)), INT32_MIN, INT32_MAX).astype(np.int64)
    pairs = [multiplier_and_shift(s_in * sw / s_out) for sw in s_w]
    lo, hi = _interval(node.act, s_out)
    return dict(weight=weight, bias=bias, multiplier=np.array([m for m, _ in pairs], dtype=np.int64),
                shift=np.array([s for _, s in pairs], dtype=np.int64), lo=lo, hi=hi)


def _int_op(node: FloatNode, scales: dict, s_out: float):
    p, s_in = node.params, scales[node.inputs[0]]
    if node.kind == "conv":
        return Conv2D(**_weights(node, s_in, s_out), stride=p["stride"], pads=p["pads"], groups=p["groups"])
    if node.kind == "dense":
        return Dense(**_weights(node, s_in, s_out))
    if node.kind == "add":
        ma, mb, shift = shared_rescale(s_in / s_out, scales[node.inputs[1]] / s_out)
        return Add(ma, mb, shift, *_interval(node.act, s_out))
    if node.kind == "maxpool":
        return MaxPool(p["kernel"], p["stride"], p["pads"])
    if node.kind == "avgpool":
        return AvgPool(p["kernel"], p["stride"], p["pads"], p["count_include_pad"])
    if node.kind == "gap":
        return GlobalAvgPool()
    if node.kind == "flatten":
        return Flatten()
    return Clamp(*_interval(node.act, s_in))


def calibration_peaks(graph: FloatGraph, calibration: np.ndarray) -> dict[str, float]:
    calib = np.asarray(calibration, dtype=np.float64)
    if calib.ndim < 2 or tuple(calib.shape[1:]) != tuple(graph.input_shape) or not len(calib):
        raise InvalidInput(f"calibration data must have shape (N, {', '.join(map(str, graph.input_shape))})")
    if not np.all(np.isfinite(calib)):
        raise InvalidInput("calibration data holds NaN or infinite values")
    peaks: dict[str, float] = {}
    for start in range(0, len(calib), 256):  # bounded memory for the float im2col
        for name, value in graph.run(calib[start:start + 256]).items():
            peaks[name] = max(peaks.get(name, 0.0), float(np.max(np.abs(value))))
    return peaks


def quantize_graph(graph: FloatGraph, calibration: np.ndarray, input_scale: float = INPUT_SCALE) -> IntGraph:
    """The integer graph of ``graph``, with scales from float ``calibration`` inputs (N, *input_shape)."""
    peaks = calibration_peaks(graph, calibration)
    scales = {INPUT: float(input_scale)}
    nodes = []
    for node in graph.nodes:
        if node.kind in RESCALING:
            s_out = peaks[node.name] / INT8_MAX if peaks[node.name] > 0 else 1.0
        else:
            s_out = scales[node.inputs[0]]
        nodes.append(IntNode(node.name, _int_op(node, scales, s_out), node.inputs, s_out))
        scales[node.name] = s_out
    return IntGraph(tuple(graph.input_shape), float(input_scale), tuple(nodes))
