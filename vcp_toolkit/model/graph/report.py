"""``vcp inspect`` for operator graphs (CNNs and the vision transformer): nodes, shapes, scales and
parameters, and how the integer graph agrees with onnxruntime's float inference of the source ONNX on
held-out inputs (``--eval``: a file, or N for the first N held-out MNIST test images), with accuracy
when the inputs come with labels."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from vcp_toolkit.attest.files import printable
from vcp_toolkit.errors import InvalidInput
from vcp_toolkit.model.arrays import NPY_MAGIC, ZIP_MAGICS, load_npy, load_npz, read_file
from vcp_toolkit.model.graph.resolve import MNIST_SHAPE, GraphModel, calibration_images, load_graph_model
from vcp_toolkit.model.graph.vit_shapes import graph_shapes, is_transformer

MAX_EVAL_BYTES = 1 * 2**30
EVAL_FIX = "pass float images saved with numpy.save (.npy), or numpy.savez(path, x=images, y=labels) (.npz)"
PARAM_ARRAYS = ("weight", "bias", "gamma", "beta", "token", "value")  # a node's learned values, as integers


def param_count(graph) -> int:
    """Integer parameters: conv and dense weights and biases, and a transformer's LayerNorm gains and
    biases, class token and positional embeddings (as many as the float model's values)."""
    return sum(_node_params(node.op) for node in graph.nodes)


def _node_params(op) -> int:
    return sum(int(getattr(op, key).size) for key in PARAM_ARRAYS if hasattr(op, key))


def is_count(spec) -> bool:
    """``--eval N``: a count of held-out MNIST test images rather than a file."""
    return isinstance(spec, str) and spec.isascii() and spec.isdigit()


def eval_inputs(spec, shape: tuple[int, ...], classes: int) -> tuple[np.ndarray, np.ndarray | None, str]:
    """``--eval``: (images, labels or None, what they are) from a count or a file."""
    if not is_count(spec):
        return (*load_eval(Path(spec), shape, classes), "eval")
    from vcp_toolkit.model.datasets import load_mnist_split

    split = load_mnist_split()
    n = int(spec)
    if tuple(shape) != MNIST_SHAPE:
        raise InvalidInput(f"--eval {n} takes held-out MNIST images, for 1x28x28 models; this one reads "
                           f"{'x'.join(map(str, shape))}: {EVAL_FIX}")
    if not 1 <= n <= len(split.x_test):
        raise InvalidInput(f"--eval {n}: pick 1 to {len(split.x_test):,} held-out MNIST test images")
    return np.asarray(split.x_test[:n], dtype=np.float64), split.y_test[:n].astype(np.int64), "held-out MNIST"


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
    shapes = graph_shapes(model.graph)
    rows = []
    for node in model.graph.nodes:
        op = node.op
        row = {"name": node.name, "kind": op.kind, "inputs": list(node.inputs), "shape": list(shapes[node.name]),
               "scale": node.scale, "params": _node_params(op)}
        op = getattr(op, "dense", op)  # a TokenDense shows its Dense's fields
        if hasattr(op, "shift") and np.ndim(op.shift):
            row["shift"] = [int(op.shift.min()), int(op.shift.max())]
        for key in ("stride", "pads", "kernel", "groups", "lo", "hi", "count_include_pad", "perm", "index"):
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
        float_graph = model.float_graph if model.float_graph is not None else read_onnx_graph(model.onnx)
        ours = float_graph.output(x).reshape(len(x), -1)
        result["top1"] = float(np.mean(fixed == reference.argmax(axis=1)))
        result["float_import_vs_onnxruntime_top1"] = float(np.mean(ours.argmax(axis=1) == reference.argmax(axis=1)))
    if y is not None:
        result["accuracy"] = {"fixed_point": float(np.mean(fixed == y)),
                              "onnxruntime": None if reference is None else float(np.mean(reference.argmax(axis=1) == y))}
    return result


def inspect_graph(spec, calibration: Path | None = None, eval_spec: Path | str | None = None) -> dict[str, Any]:
    """The report ``vcp inspect`` prints for an operator-graph model (a CNN or a vision transformer)."""
    started = time.perf_counter()
    model = load_graph_model(spec, calibration, transformers=True, from_source=True)
    load_s = time.perf_counter() - started
    graph = model.graph
    classes = int(np.prod(graph_shapes(graph)[graph.nodes[-1].name]))
    if eval_spec is not None:
        x, y, inputs = eval_inputs(eval_spec, graph.input_shape, classes)
    elif model.calibration is not None or model.onnx is not None:
        x = model.calibration if model.calibration is not None else calibration_images(None, graph.input_shape)[0]
        y, inputs = None, "calibration"
    else:
        x = None
    return {
        "model": str(spec), "name": graph.name, "kind": "operator-graph", "transformer": is_transformer(graph),
        "input_shape": list(graph.input_shape),
        "input_scale": graph.input_scale, "params": param_count(graph),
        "ops": dict(Counter(n.op.kind for n in graph.nodes)),
        "nodes": node_rows(model), "source_onnx": None if model.onnx is None else str(model.onnx),
        "quantization": {"calibration": model.how or graph.metadata.get("calibration", "unknown")},
        "metadata": graph.metadata, "import_and_quantize_s": load_s,
        "agreement": None if x is None else agreement(model, x, y, inputs),
    }
