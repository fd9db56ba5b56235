"""From a float model to a fixed-point one, and the fixed-point model's file format.

Quantization (float arithmetic, done once by the model owner; its result is committed):

* activations: symmetric int8 with one scale per trace vector, ``scale = max|a| / 127`` over the
  calibration inputs (the input scale is given: the range of the input encoding);
* weights: symmetric int8 per output row, ``scale_w[j] = max|W[j]| / 127``;
* bias: ``round(b / (scale_in * scale_w[j]))`` as int32;
* the real rescale ``scale_in * scale_w[j] / scale_out`` becomes ``M * 2**-s`` with
  ``2**30 <= M < 2**31`` where the shift range allows.

Everything after this runs on integers only (vcp.model.fixedpoint).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vcp_toolkit.errors import InvalidInput, InvalidModel
from vcp_toolkit.model.fixedpoint import (
    INT8_MAX,
    INT8_MIN,
    INT32_MAX,
    INT32_MIN,
    MAX_LAYERS,
    MAX_WIDTH,
    MULTIPLIER_MAX,
    SHIFT_MAX,
    SHIFT_MIN,
    Activation,
    QuantizedDense,
    check_input,
    run_layers,
)
from vcp_toolkit.model.float_model import Dense, Model, ReLU

FORMAT = "vcp.quantized-model"
VERSION = 1


@dataclass(frozen=True, eq=False)
class QuantizedModel:
    """A fixed-point network: the object that is committed to, run, and verified."""

    name: str
    layers: tuple[QuantizedDense, ...]
    input_scale: float
    output_scale: float
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 1 <= len(self.layers) <= MAX_LAYERS:
            raise InvalidModel(f"a model needs 1..{MAX_LAYERS} layers, got {len(self.layers)}")
        for prev, layer in zip(self.layers, self.layers[1:]):
            if layer.in_width != prev.out_width:
                raise InvalidModel(f"layer widths do not chain: {prev.out_width} -> {layer.in_width}")
        for scale in (self.input_scale, self.output_scale):
            if not (math.isfinite(scale) and scale > 0):
                raise InvalidModel(f"scales must be positive and finite, got {scale}")

    @property
    def input_width(self) -> int:
        return self.layers[0].in_width

    @property
    def output_width(self) -> int:
        return self.layers[-1].out_width

    @property
    def widths(self) -> list[int]:
        return [self.input_width] + [layer.out_width for layer in self.layers]

    @property
    def param_count(self) -> int:
        return sum(layer.weight.size + layer.bias.size for layer in self.layers)

    @property
    def neuron_count(self) -> int:
        return sum(layer.out_width for layer in self.layers)

    def quantize_input(self, x: np.ndarray) -> np.ndarray:
        """Float inputs to int8: ``clamp(floor(x / scale + 0.5))`` (round half up)."""
        arr = np.asarray(x, dtype=np.float64)
        if not np.all(np.isfinite(arr)):
            raise InvalidInput("input holds NaN or infinite values")
        with np.errstate(over="ignore"):  # huge finite values saturate like any out-of-range value
            return np.clip(np.floor(arr / self.input_scale + 0.5), INT8_MIN, INT8_MAX).astype(np.int8)

    def dequantize_output(self, y: np.ndarray) -> np.ndarray:
        return np.asarray(y, dtype=np.float64) * self.output_scale

    def trace(self, x: np.ndarray) -> list[np.ndarray]:
        """Every layer's int8 activations for a batch (or one vector), input first."""
        return run_layers(self.layers, check_input(x, self.input_width))

    def infer(self, x: np.ndarray) -> np.ndarray:
        return self.trace(x)[-1]

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Class labels (argmax, lowest index on ties) for int8 inputs."""
        return np.argmax(self.infer(x), axis=1)

    def save(self, path: Path) -> None:
        arrays = {}
        for i, layer in enumerate(self.layers):
            arrays[f"layer{i}.weight"] = layer.weight
            arrays[f"layer{i}.bias"] = layer.bias
            arrays[f"layer{i}.multiplier"] = layer.multiplier
            arrays[f"layer{i}.shift"] = layer.shift
        meta = {
            "format": FORMAT,
            "version": VERSION,
            "name": self.name,
            "activations": [layer.activation.name.lower() for layer in self.layers],
            "input_scale": self.input_scale,
            "output_scale": self.output_scale,
            "metadata": self.metadata,
        }
        with open(path, "wb") as fh:
            np.savez(fh, meta=np.array(json.dumps(meta, sort_keys=True)), **arrays)

    @classmethod
    def load(cls, path: Path) -> "QuantizedModel":
        """A model ``save`` wrote; anything else raises InvalidModel naming the file (FileUnreadable
        when it cannot be opened), never a pickle, never more memory than the file's size."""
        from vcp_toolkit.attest.files import printable
        from vcp_toolkit.model.arrays import load_npz, read_file

        what = f"model file {printable(path)}"
        raw = read_file(path, "model file", MAX_MODEL_BYTES, InvalidModel, MODEL_FIX)
        # Float arrays are let through so that QuantizedDense names the wrong dtype and the layer.
        arrays = load_npz(raw, what, MAX_MODEL_BYTES, InvalidModel, MODEL_FIX, kinds="iufU")
        meta = _read_meta(arrays, what)
        try:
            return cls(name=meta["name"], layers=tuple(_read_layer(arrays, i, act) for i, act in
                                                       enumerate(meta["activations"])),
                       input_scale=float(meta["input_scale"]), output_scale=float(meta["output_scale"]),
                       metadata=dict(meta.get("metadata", {})))
        except InvalidModel as exc:
            raise InvalidModel(f"{what}: {exc}; {MODEL_FIX}") from None


MODEL_FIX = "pass an .onnx file, or a .q.npz written by QuantizedModel.save"
# The largest model vcp runs: MAX_LAYERS layers of MAX_WIDTH x MAX_WIDTH int8 weights and three
# int64 vectors each, plus the metadata.
MAX_MODEL_BYTES = MAX_LAYERS * MAX_WIDTH * (MAX_WIDTH + 3 * 8) + 2**20
_META_TYPES = {"name": str, "activations": list, "input_scale": (int, float), "output_scale": (int, float),
               "metadata": dict}


def _read_meta(arrays: dict[str, np.ndarray], what: str) -> dict:
    from vcp_toolkit.attest.files import printable
    from vcp_toolkit.model.arrays import load_json

    meta_array = arrays.get("meta")
    if meta_array is None or meta_array.dtype.kind != "U" or meta_array.ndim != 0:
        raise InvalidModel(f"{what} is not a vcp quantized model (no 'meta' text array); {MODEL_FIX}")
    meta = load_json(str(meta_array).encode(), f"{what} (its meta)", InvalidModel, MODEL_FIX)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("version") != VERSION:
        found = meta.get("format") if isinstance(meta, dict) and isinstance(meta.get("format"), str) else "unknown"
        raise InvalidModel(f"{what} is a {printable(found)[:40]} file, not {FORMAT} v{VERSION}; {MODEL_FIX}")
    for key, kind in _META_TYPES.items():
        if not isinstance(meta.get(key, {}), kind) or isinstance(meta.get(key), bool):
            raise InvalidModel(f"{what}: meta.{key} is missing or of the wrong type; {MODEL_FIX}")
    if not all(isinstance(act, str) and act.upper() in Activation.__members__ for act in meta["activations"]):
        names = ", ".join(a.name.lower() for a in Activation)
        raise InvalidModel(f"{what}: meta.activations must name activations ({names}); {MODEL_FIX}")
    expected = {"meta"} | {f"layer{i}.{part}" for i in range(len(meta["activations"]))
                           for part in ("weight", "bias", "multiplier", "shift")}
    extra = sorted(set(arrays) - expected)
    if extra:
        raise InvalidModel(f"{what} holds arrays a vcp quantized model does not ({printable(extra[0])[:40]}, ...); "
                           f"{MODEL_FIX}")
    return meta


def _read_layer(arrays: dict[str, np.ndarray], i: int, activation: str) -> QuantizedDense:
    names = [f"layer{i}.{part}" for part in ("weight", "bias", "multiplier", "shift")]
    missing = [name for name in names if name not in arrays]
    if missing:
        raise InvalidModel(f"array {missing[0]} is missing")
    weight, bias, multiplier, shift = (arrays[name] for name in names)
    try:
        return QuantizedDense(weight=weight, bias=bias, multiplier=multiplier, shift=shift,
                              activation=Activation[activation.upper()])
    except InvalidModel as exc:
        raise InvalidModel(f"layer {i}: {exc}") from None


def multiplier_and_shift(real: float) -> tuple[int, int]:
    """``real ~= M * 2**-s`` with M in [1, 2**31) and s in [1, 62]; M is normalised to 31 bits."""
    if not (math.isfinite(real) and real > 0):
        raise InvalidModel(f"rescale factor must be positive and finite, got {real}")
    frac, exp = math.frexp(real)  # real = frac * 2**exp, 0.5 <= frac < 1
    multiplier = round(frac * 2**31)
    shift = 31 - exp
    if multiplier > MULTIPLIER_MAX:  # frac rounded up to 1.0
        if shift - 1 >= SHIFT_MIN:
            multiplier //= 2
            shift -= 1
        else:
            multiplier = MULTIPLIER_MAX  # the closest representable value at the smallest shift
    if shift > SHIFT_MAX:
        multiplier >>= shift - SHIFT_MAX
        shift = SHIFT_MAX
    if shift < SHIFT_MIN or multiplier < 1:
        raise InvalidModel(f"rescale factor {real} cannot be represented (shift {shift})")
    return int(multiplier), int(shift)


def _fuse(model: Model) -> list[tuple[Dense, Activation]]:
    fused: list[tuple[Dense, Activation]] = []
    for layer in model.layers:
        if isinstance(layer, Dense):
            fused.append((layer, Activation.NONE))
        elif isinstance(layer, ReLU):
            if not fused or fused[-1][1] != Activation.NONE:
                raise InvalidModel("a ReLU must follow a dense layer")
            fused[-1] = (fused[-1][0], Activation.RELU)
        else:  # pragma: no cover - Layer is a closed union
            raise InvalidModel(f"unsupported layer {type(layer).__name__}")
    return fused


def quantize(model: Model, calibration: np.ndarray, input_scale: float, metadata: dict | None = None) -> QuantizedModel:
    """Quantize ``model`` using float ``calibration`` inputs to pick activation scales."""
    calib = np.asarray(calibration, dtype=np.float64)
    if calib.ndim != 2 or calib.shape[1] != model.input_width or len(calib) == 0:
        raise InvalidInput(f"calibration data must have shape (N, {model.input_width})")
    if not np.all(np.isfinite(calib)):
        raise InvalidInput("calibration data holds NaN or infinite values")
    layers = []
    scale_in = float(input_scale)
    scales = [scale_in]
    activations = calib
    for dense, act in _fuse(model):
        activations = dense(activations)
        if act == Activation.RELU:
            activations = np.maximum(activations, 0.0)
        peak = float(np.max(np.abs(activations)))
        scale_out = peak / INT8_MAX if peak > 0 else 1.0
        w_peak = np.max(np.abs(dense.weight), axis=1)
        scale_w = np.where(w_peak > 0, w_peak / INT8_MAX, 1.0)
        weight = np.clip(np.floor(dense.weight / scale_w[:, None] + 0.5), INT8_MIN, INT8_MAX).astype(np.int8)
        bias = np.clip(np.floor(dense.bias / (scale_in * scale_w) + 0.5), INT32_MIN, INT32_MAX).astype(np.int64)
        pairs = [multiplier_and_shift(scale_in * sw / scale_out) for sw in scale_w]
        layers.append(
            QuantizedDense(
                weight=weight,
                bias=bias,
                multiplier=np.array([m for m, _ in pairs], dtype=np.int64),
                shift=np.array([s for _, s in pairs], dtype=np.int64),
                activation=act,
            )
        )
        scale_in = scale_out
        scales.append(scale_out)
    # The activation scales let the model be exported back to float (vcp.model.onnx_io.export_onnx).
    return QuantizedModel(
        name=model.name, layers=tuple(layers), input_scale=float(input_scale), output_scale=scale_in,
        metadata={**(metadata or {}), "activation_scales": scales},
    )
