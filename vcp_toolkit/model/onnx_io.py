"""ONNX in and out: quantize an imported network with calibration data, measure how far the
fixed-point model drifts from the float one (onnxruntime), and export the quantized model back."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vcp_toolkit.attest.files import printable
from vcp_toolkit.errors import InvalidInput, InvalidModel
from vcp_toolkit.model.arrays import NPY_MAGIC, ZIP_MAGICS, load_npy, load_npz, read_file
from vcp_toolkit.model.fixedpoint import INT8_MAX, Activation
from vcp_toolkit.model.onnx_import import ImportedModel, import_onnx
from vcp_toolkit.model.quantize import QuantizedModel, quantize

DEFAULT_CALIBRATION_SAMPLES = 512
DEFAULT_CALIBRATION = f"{DEFAULT_CALIBRATION_SAMPLES} standard-normal samples (numpy seed 0)"
MAX_CALIBRATION_BYTES = 1 * 2**30
CALIBRATION_FIX = "pass sample inputs saved with numpy.save (.npy) or numpy.savez (.npz, array 'x')"


def load_calibration(path: Path | None, input_width: int,
                     what: str = "calibration file") -> tuple[np.ndarray, dict[str, Any]]:
    """Calibration inputs as (N, input_width) float64 and how they were chosen (committed).

    ``path``: a .npy array, or a .npz whose array ``x`` (or its only array) is used; any shape
    whose trailing axes flatten to ``input_width``. Without it, the stated default."""
    if path is None:
        x = np.random.default_rng(0).standard_normal((DEFAULT_CALIBRATION_SAMPLES, input_width))
        return x, {"calibration": DEFAULT_CALIBRATION}
    path = Path(path)
    raw = read_file(path, what, MAX_CALIBRATION_BYTES, InvalidInput, CALIBRATION_FIX)
    shown = f"{what} {printable(path)}"
    x = _calibration_array(raw, shown)
    if x.ndim < 1 or x.size == 0:
        raise InvalidInput(f"{shown} holds no samples (an empty or 0-d array); {CALIBRATION_FIX}")
    if x.size % input_width:
        raise InvalidInput(f"{shown}: shape {x.shape} does not flatten to rows of {input_width}; {CALIBRATION_FIX}")
    x = x.reshape(-1, input_width).astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise InvalidInput(f"{shown} holds NaN or infinite values; {CALIBRATION_FIX}")
    return x, {"calibration": path.name, "calibration_sha256": hashlib.sha256(raw).hexdigest(),
               "calibration_samples": int(len(x))}


def _calibration_array(raw: bytes, what: str) -> np.ndarray:
    """The array of a .npy, or of an .npz's ``x`` (or its only array); told apart by content."""
    if raw.startswith(NPY_MAGIC):
        return load_npy(raw, what, InvalidInput, CALIBRATION_FIX)
    if not raw.startswith(ZIP_MAGICS):
        raise InvalidInput(f"{what} is not a .npy or .npz file; {CALIBRATION_FIX}")
    arrays = load_npz(raw, what, MAX_CALIBRATION_BYTES, InvalidInput, CALIBRATION_FIX)
    if "x" in arrays or len(arrays) == 1:
        return arrays.get("x", next(iter(arrays.values())))
    names = ", ".join(printable(name)[:40] for name in list(arrays)[:8])
    raise InvalidInput(f"{what} holds several arrays ({names}); name the samples 'x' (numpy.savez(path, x=...))")


def quantize_imported(imported: ImportedModel, calibration: np.ndarray, how: dict[str, Any]) -> QuantizedModel:
    peak = float(np.max(np.abs(calibration)))
    if not peak > 0:
        raise InvalidInput("calibration inputs are all zero: cannot choose an input scale")
    return quantize(imported.model, calibration, peak / INT8_MAX, metadata={**imported.identity, **how})


def load_onnx_model(path: Path, calibration: Path | None = None, output: str | None = None) -> QuantizedModel:
    """Import + quantize in one step (what every CLI command taking a model does for .onnx)."""
    imported = import_onnx(path, output)
    x, how = load_calibration(calibration, imported.model.input_width)
    return quantize_imported(imported, x, how)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def apply_head(logits: np.ndarray, head: str) -> np.ndarray:
    if head == "softmax":
        return _softmax(logits)
    if head == "logsoftmax":
        return np.log(_softmax(logits))
    if head == "argmax":
        return np.argmax(logits, axis=1)
    return logits


def run_onnxruntime(path: Path, imported: ImportedModel, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    shape = (len(x), *[d for d in imported.input_shape[1:]])
    return np.asarray(session.run([imported.output_name], {imported.input_name: x.reshape(shape).astype(np.float32)})[0])


@dataclass(frozen=True)
class Agreement:
    """How the fixed-point model compares with the float ONNX model on the same inputs."""

    samples: int
    top1_agreement: float
    max_abs_diff: float | None  # of the dequantized outputs (after the head), None for an ArgMax head
    float_vs_reference_top1: float  # vcp's float import against onnxruntime: the import itself


def agreement(path: Path, imported: ImportedModel, qmodel: QuantizedModel, x: np.ndarray) -> Agreement:
    reference = run_onnxruntime(path, imported, x)
    fixed = apply_head(qmodel.dequantize_output(qmodel.infer(qmodel.quantize_input(x))), imported.head)
    ours_float = apply_head(imported.model.forward(x), imported.head)
    if imported.head == "argmax":
        ref_labels = reference.reshape(-1)
        return Agreement(len(x), float(np.mean(fixed == ref_labels)), None, float(np.mean(ours_float == ref_labels)))
    reference = reference.reshape(len(x), -1)
    return Agreement(
        samples=len(x),
        top1_agreement=float(np.mean(np.argmax(fixed, axis=1) == np.argmax(reference, axis=1))),
        max_abs_diff=float(np.max(np.abs(fixed - reference))),
        float_vs_reference_top1=float(np.mean(np.argmax(ours_float, axis=1) == np.argmax(reference, axis=1))),
    )


def describe(qmodel: QuantizedModel) -> list[dict[str, Any]]:
    """One line per layer: shape, activation, scales and the range of the integer rescale."""
    scales = qmodel.metadata.get("activation_scales") or []
    rows = []
    for i, layer in enumerate(qmodel.layers):
        real = layer.multiplier / np.power(2.0, layer.shift)
        rows.append({
            "layer": i, "in": layer.in_width, "out": layer.out_width, "activation": layer.activation.name.lower(),
            "params": int(layer.weight.size + layer.bias.size),
            "input_scale": scales[i] if i < len(scales) else None,
            "output_scale": scales[i + 1] if i + 1 < len(scales) else None,
            "rescale_min": float(real.min()), "rescale_max": float(real.max()),
            "shift_min": int(layer.shift.min()), "shift_max": int(layer.shift.max()),
        })
    return rows


def export_onnx(qmodel: QuantizedModel, path: Path, batch: int | None = None, int8_input: bool = False) -> Path:
    """Write the fixed-point model as a float ONNX graph: per layer a Gemm with the dequantized
    weights and bias, and Relu where the layer has it. It leaves out the integer rounding and the
    int8 saturation, so it tracks the integer model to within about one output step per layer
    (measured in tests/test_onnx.py), and vcp can import it again. ``batch`` fixes the batch
    axis (tools such as EZKL need a static shape); by default it is symbolic. With ``int8_input``
    the graph takes the int8 input codes themselves (as floats), so a zk proof's public inputs are
    exactly vcp's committed input times a power of two."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    scales = qmodel.metadata.get("activation_scales")
    if not scales or len(scales) != len(qmodel.layers) + 1:
        raise InvalidModel("this model was quantized without recorded activation scales; re-quantize it to export")
    nodes, inits = [], []
    current = "x"
    for i, layer in enumerate(qmodel.layers):
        s_in, s_out = scales[i], scales[i + 1]
        real = layer.multiplier.astype(np.float64) / np.power(2.0, layer.shift.astype(np.float64))
        weight = (s_out * real / s_in)[:, None] * layer.weight.astype(np.float64)
        if i == 0 and int8_input:
            weight = weight * s_in  # x = code * input_scale, folded into the first layer
        bias = s_out * real * layer.bias.astype(np.float64)
        for name, value in ((f"w{i}", weight), (f"b{i}", bias)):
            inits.append(numpy_helper.from_array(np.asarray(value, dtype=np.float32), name))
        nodes.append(helper.make_node("Gemm", [current, f"w{i}", f"b{i}"], [f"g{i}"], transB=1, name=f"dense{i}"))
        current = f"g{i}"
        if layer.activation == Activation.RELU:
            nodes.append(helper.make_node("Relu", [current], [f"a{i}"], name=f"relu{i}"))
            current = f"a{i}"
    nodes.append(helper.make_node("Identity", [current], ["y"], name="output"))
    graph = helper.make_graph(
        nodes, qmodel.name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch or "N", qmodel.input_width])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch or "N", qmodel.output_width])], inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="vcp")
    proto.ir_version = 8
    onnx.checker.check_model(proto)
    from vcp_toolkit.attest.files import write_atomic

    write_atomic(Path(path), proto.SerializeToString())
    return Path(path)


def inspect_onnx(model: Path, calibration: Path | None = None, validation: Path | None = None,
                 output: str | None = None) -> dict[str, Any]:
    """Import and quantize an ONNX model and measure its agreement with onnxruntime: the report
    ``vcp inspect`` prints."""
    from vcp_toolkit.commit.commitments import ModelCommitment
    from vcp_toolkit.model.onnx_import import import_onnx

    started = time.perf_counter()
    imported = import_onnx(model, output)
    x, how = load_calibration(calibration, imported.model.input_width)
    qmodel = quantize_imported(imported, x, how)
    import_s = time.perf_counter() - started
    check = load_calibration(validation, imported.model.input_width, "validation file")[0] if validation else x
    agree = agreement(model, imported, qmodel, check)
    return {
        "model": str(model), "head": imported.head, "output": imported.output_name,
        "input_shape": list(imported.input_shape), "params": qmodel.param_count, "widths": qmodel.widths,
        "layers": describe(qmodel), "quantization": how, "identity": imported.identity,
        "model_root": "0x" + ModelCommitment(qmodel).root.hex(), "import_and_quantize_s": import_s,
        "agreement": {"inputs": "validation" if validation else "calibration", "samples": agree.samples,
                      "top1": agree.top1_agreement, "max_abs_diff": agree.max_abs_diff,
                      "float_import_vs_onnxruntime_top1": agree.float_vs_reference_top1},
    }
