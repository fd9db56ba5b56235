"""What ``--model`` names when it is an operator graph: a built-in CNN ("lenet", "rescnn"), a graph
file (save_graph's .npz, told apart from a dense .q.npz by its content), or an ONNX CNN (one with
convolutions or pools: the dense importer refuses those, so dense MLP files resolve as before).

An ONNX CNN is quantized here: calibration images from ``--calibration`` (a .npy, or an .npz whose
array ``x`` holds them), by default the first 500 MNIST train images when the input is 1x28x28.
The input scale is max|calibration| / 127 (1/127 for images in [0, 1], as the built-in models).
"""

from __future__ import annotations

import dataclasses
import io
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vcp_toolkit.errors import InvalidInput, InvalidModel
from vcp_toolkit.model.builtin.graphs import BUILTIN_GRAPHS, CALIBRATION_IMAGES, builtin_graph, onnx_path
from vcp_toolkit.model.graph.graph import IntGraph

CNN_OPS = frozenset({"Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "BatchNormalization", "ReduceMean"})
MNIST_SHAPE = (1, 28, 28)
DEFAULT_CALIBRATION = f"the first {CALIBRATION_IMAGES} MNIST train images"


@dataclass(frozen=True, eq=False)
class GraphModel:
    """A resolved graph model: the IntGraph, the float ONNX it came from (None for a graph file),
    and the calibration images and their description (None for a committed graph)."""

    graph: IntGraph
    onnx: Path | None
    calibration: np.ndarray | None
    how: str


def is_builtin(spec) -> bool:
    return isinstance(spec, str) and spec in BUILTIN_GRAPHS


def is_graph_spec(spec) -> bool:
    """True when ``spec`` names an operator graph rather than a dense model."""
    if spec is None:
        return False
    if is_builtin(spec):
        return True
    path = Path(spec)
    if not path.is_file():  # missing, folder, FIFO, device: the dense loader names the fault as before
        return False
    return onnx_is_cnn(path) if path.suffix.lower() == ".onnx" else is_graph_file(path)


def onnx_is_cnn(path: Path) -> bool:
    from vcp_toolkit.model.onnx_import import _load

    try:
        proto, _digest = _load(path)
    except InvalidModel:
        return False  # the dense importer reports it, as before
    return any(node.op_type in CNN_OPS for node in proto.graph.node)


def is_graph_file(path: Path) -> bool:
    from vcp_toolkit.model.arrays import read_file
    from vcp_toolkit.model.graph.files import MAX_GRAPH_BYTES

    try:
        raw = read_file(path, "model file", MAX_GRAPH_BYTES, InvalidModel)
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            return "manifest.npy" in archive.namelist()
    except (InvalidInput, zipfile.BadZipFile, OSError, ValueError):
        return False


def load_graph_model(spec, calibration: Path | None = None) -> GraphModel:
    """The operator graph ``spec`` names (see the module docstring)."""
    from vcp_toolkit.model.graph.files import load_graph

    if is_builtin(spec):
        if calibration is not None:
            raise InvalidInput(f"--calibration does not apply to the built-in {spec!r}: it is already quantized")
        return GraphModel(builtin_graph(spec), onnx_path(spec), None, builtin_graph(spec).metadata["calibration"])
    path = Path(spec)
    if path.suffix.lower() != ".onnx":
        if calibration is not None:
            raise InvalidInput("--calibration applies to .onnx models only (a graph file is already quantized)")
        return GraphModel(load_graph(path), None, None, "")
    return quantize_onnx(path, calibration)


def quantize_onnx(path: Path, calibration: Path | None) -> GraphModel:
    import hashlib

    from vcp_toolkit.model.graph import quantize_graph, read_onnx_graph

    float_graph = read_onnx_graph(path)
    x, how = calibration_images(calibration, tuple(float_graph.input_shape))
    peak = float(np.max(np.abs(x)))
    if not peak > 0:
        raise InvalidInput("calibration images are all zero: cannot choose an input scale")
    graph = quantize_graph(float_graph, x, input_scale=peak / 127)
    meta = {"source": path.name, "source_sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "calibration": how}
    graph = dataclasses.replace(graph, name=path.stem, metadata=meta)
    return GraphModel(graph, path, x, how)


def calibration_images(path: Path | None, shape: tuple[int, ...], what: str = "calibration file"):
    """(images as (N, *shape) float64, how they were chosen)."""
    from vcp_toolkit.model.onnx_io import load_calibration

    if path is None:
        if shape != MNIST_SHAPE:
            raise InvalidInput(f"this CNN reads {'x'.join(map(str, shape))} inputs: pass --calibration with sample "
                               "inputs (.npy, or .npz array 'x'); only 1x28x28 models default to MNIST")
        from vcp_toolkit.model.datasets import load_mnist_split

        return load_mnist_split().x_train[:CALIBRATION_IMAGES], DEFAULT_CALIBRATION
    x, how = load_calibration(path, math.prod(shape), what)
    return x.reshape((-1,) + shape), f"{how['calibration']} ({how['calibration_samples']} samples, sha256 " \
                                      f"{how['calibration_sha256'][:16]}...)"
