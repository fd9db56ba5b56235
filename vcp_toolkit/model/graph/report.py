"""``vcp inspect`` for operator graphs: nodes, shapes, scales and parameters, and how the integer
graph agrees with onnxruntime's float inference of the source ONNX on held-out inputs (``--eval``),
with accuracy when the inputs come with labels."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from vcp_toolkit.attest.files import printable
from vcp_toolkit.errors import InvalidInput
from vcp_toolkit.model.arrays import NPY_MAGIC, ZIP_MAGICS, load_npy, load_npz, read_file
from vcp_toolkit.model.graph.resolve import GraphModel, calibration_images, load_graph_model
from vcp_toolkit.model.graph.shapes import node_shapes

MAX_EVAL_BYTES = 1 * 2**30
EVAL_FIX = "pass float images saved with numpy.save (.npy), or numpy.savez(path, x=images, y=labels) (.npz)"


def load_eval(path: Path, shape: tuple[int, ...], classes: int) -> tuple[np.ndarray, np.ndarray | None]:
    """``--eval``: (images as (N, *shape) float64, int64 labels or None)."""
    raw = read_file(Path(path), "--eval file", MAX_EVAL_BYTES, InvalidInput, EVAL_FIX)
    what = f"--eval file {printable(path)}"
    if raw.startswith(NPY_MAGIC):
        x, y = load_npy(raw, what, InvalidInput, EVAL_FIX), None
    elif raw.startswith(ZIP_MAGICS):
        arrays = load_npz(raw, what, MAX_EVAL_BYTES, InvalidInput, EVAL_FIX)
        extra = sorted(set(arrays) - {"x", "y"})
        if "x" not in arrays or extra:
            raise InvalidInput(f"{what} must hold array 'x' (images) and optionally 'y' (labels), "
                               f"found {', '.join(printable(k)[:30] for k in sorted(arrays))}; {EVAL_FIX}")
        x, y = arrays["x"], arrays.get("y")
    else:
        raise InvalidInput(f"{what} is not a .npy or .npz file; {EVAL_FIX}")
    width = int(np.prod(shape))
    if x.ndim < 1 or x.size == 0 or x.size % width:
        raise InvalidInput(f"{what}: images of shape {x.shape} do not split into inputs of {'x'.join(map(str, shape))}")
    x = x.reshape((-1,) + tuple(shape)).astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise InvalidInput(f"{what} holds NaN or infinite values; {EVAL_FIX}")
    return x, None if y is None else _labels(y, len(x), classes, what)


def _labels(y: np.ndarray, n: int, classes: int, what: str) -> np.ndarray:
    if y.dtype.kind not in "iu" or y.shape != (n,):
        raise InvalidInput(f"{what}: labels 'y' must be {n} integers (one per image), got {y.dtype} {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= classes):
        raise InvalidInput(f"{what}: labels 'y' must be class indices in 0..{classes - 1}")
    return y.astype(np.int64)


def node_rows(model: GraphModel) -> list[dict[str, Any]]:
    shapes = node_shapes(model.graph)
    rows = []
    for node in model.graph.nodes:
        op = node.op
        row = {"name": node.name, "kind": op.kind, "inputs": list(node.inputs), "shape": list(shapes[node.name]),
               "scale": node.scale, "params": sum(int(getattr(op, k).size) for k in ("weight", "bias") if hasattr(op, k))}
        if hasattr(op, "shift") and np.ndim(op.shift):
            row["shift"] = [int(op.shift.min()), int(op.shift.max())]
        for key in ("stride", "pads", "kernel", "groups", "lo", "hi", "count_include_pad"):
            if hasattr(op, key):
                value = getattr(op, key)
                row[key] = list(value) if isinstance(value, tuple) else value
        rows.append(row)
    return rows


def _onnxruntime(path: Path, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    out = session.run(None, {session.get_inputs()[0].name: x.astype(np.float32)})[0]
    return np.asarray(out).reshape(len(x), -1)


def agreement(model: GraphModel, x: np.ndarray, y: np.ndarray | None, inputs: str) -> dict[str, Any]:
    from vcp_toolkit.model.graph import read_onnx_graph

    fixed = model.graph.predict(x)
    result: dict[str, Any] = {"inputs": inputs, "samples": int(len(x)), "top1": None,
                              "float_import_vs_onnxruntime_top1": None, "accuracy": None}
    reference = None
    if model.onnx is not None:
        reference = _onnxruntime(model.onnx, x)
        ours = read_onnx_graph(model.onnx).output(x).reshape(len(x), -1)
        result["top1"] = float(np.mean(fixed == reference.argmax(axis=1)))
        result["float_import_vs_onnxruntime_top1"] = float(np.mean(ours.argmax(axis=1) == reference.argmax(axis=1)))
    if y is not None:
        result["accuracy"] = {"fixed_point": float(np.mean(fixed == y)),
                              "onnxruntime": None if reference is None else float(np.mean(reference.argmax(axis=1) == y))}
    return result


def inspect_graph(spec, calibration: Path | None = None, eval_path: Path | None = None) -> dict[str, Any]:
    """The report ``vcp inspect`` prints for an operator-graph model."""
    started = time.perf_counter()
    model = load_graph_model(spec, calibration)
    load_s = time.perf_counter() - started
    graph = model.graph
    classes = int(np.prod(node_shapes(graph)[graph.nodes[-1].name]))
    if eval_path is not None:
        x, y = load_eval(eval_path, graph.input_shape, classes)
        inputs = "eval"
    elif model.calibration is not None or model.onnx is not None:
        x = model.calibration if model.calibration is not None else calibration_images(None, graph.input_shape)[0]
        y, inputs = None, "calibration"
    else:
        x = None
    return {
        "model": str(spec), "name": graph.name, "kind": "operator-graph", "input_shape": list(graph.input_shape),
        "input_scale": graph.input_scale, "params": graph.param_count, "ops": dict(Counter(n.op.kind for n in graph.nodes)),
        "nodes": node_rows(model), "source_onnx": None if model.onnx is None else str(model.onnx),
        "quantization": {"calibration": model.how or graph.metadata.get("calibration", "unknown")},
        "metadata": graph.metadata, "import_and_quantize_s": load_s,
        "agreement": None if x is None else agreement(model, x, y, inputs),
    }
