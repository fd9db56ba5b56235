"""What ``--model`` names when it is an operator graph: a built-in CNN ("lenet", "rescnn"), the
built-in tiny ViT ("vit": vcp_toolkit/model/builtin/vit.onnx, imported at each use), a graph file
(save_graph's .npz, told apart from a dense .q.npz by its content), an ONNX CNN (one with
convolutions or pools: the dense importer refuses those, so dense MLP files resolve as before), or
an ONNX vision transformer (one with LayerNormalization, GELU or a MatMul of two activations:
vit_import reads it). Which importer reads a file is decided by the ops it holds, never its name.

A transformer (a ViT file, "vit", or a graph file holding transformer nodes) resolves only where
the caller says it can run one (``transformers=True``: ``vcp inspect``, ``vcp quantize``, ``vcp
prove`` and ``vcp verify``); elsewhere it is refused in one line before anything runs. The built-in
"vit" is its committed graph file (vit.graph.npz, machine-independent integers) except in inspect
and quantize, which read vit.onnx again (``from_source``).

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
from typing import NoReturn

import numpy as np

from vcp_toolkit.errors import InvalidInput, InvalidModel
from vcp_toolkit.model.builtin.graphs import BUILTIN_GRAPHS, CALIBRATION_IMAGES, builtin_graph, onnx_path
from vcp_toolkit.model.graph.graph import IntGraph

CNN_OPS = frozenset({"Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "BatchNormalization", "ReduceMean"})
TRANSFORMER_OPS = frozenset({"LayerNormalization", "Gelu", "Erf", "Attention", "MultiHeadAttention"})
BUILTIN_TRANSFORMERS = {"vit": "vit.onnx"}  # CLI name -> the ONNX file in vcp_toolkit/model/builtin
TRANSFORMER_FIX = "vcp reads the tiny ViT's patterns (docs/models.md, \"Tiny ViT\")"
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
    float_graph: object | None = None  # the float reading of ``onnx`` (FloatGraph or VitFloatGraph), when made


def is_builtin(spec) -> bool:
    return isinstance(spec, str) and (spec in BUILTIN_GRAPHS or spec in BUILTIN_TRANSFORMERS)


def is_graph_spec(spec) -> bool:
    """True when ``spec`` names an operator graph rather than a dense model."""
    if spec is None:
        return False
    if is_builtin(spec):
        return True
    path = Path(spec)
    if not path.is_file():  # missing, folder, FIFO, device: the dense loader names the fault as before
        return False
    return onnx_kind(path) is not None if path.suffix.lower() == ".onnx" else is_graph_file(path)


def onnx_kind(path: Path) -> str | None:
    """"transformer", "cnn", or None (a dense model, or a file the dense importer reports as before)."""
    from vcp_toolkit.model.onnx_import import _load

    try:
        proto, _digest = _load(path)
    except InvalidModel:
        return None
    if is_transformer_onnx(proto):
        return "transformer"
    return "cnn" if any(node.op_type in CNN_OPS for node in proto.graph.node) else None


def is_transformer_onnx(proto) -> bool:
    """An op only transformers use, or a MatMul of two activations (attention), neither input a constant."""
    nodes = proto.graph.node
    if any(node.op_type in TRANSFORMER_OPS for node in nodes):
        return True
    consts = {t.name for t in proto.graph.initializer} | {o for n in nodes if n.op_type == "Constant" for o in n.output}
    return any(n.op_type == "MatMul" and not consts.intersection(n.input) for n in nodes)


def onnx_is_cnn(path: Path) -> bool:
    return onnx_kind(path) == "cnn"


def is_graph_file(path: Path) -> bool:
    from vcp_toolkit.model.arrays import read_file
    from vcp_toolkit.model.graph.files import MAX_GRAPH_BYTES

    try:
        raw = read_file(path, "model file", MAX_GRAPH_BYTES, InvalidModel)
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            return "manifest.npy" in archive.namelist()
    except (InvalidInput, zipfile.BadZipFile, OSError, ValueError):
        return False


def load_graph_model(spec, calibration: Path | None = None, transformers: bool = False,
                     from_source: bool = False) -> GraphModel:
    """The operator graph ``spec`` names (see the module docstring); a transformer only with
    ``transformers``. A built-in name gives its committed graph file, or with ``from_source`` (inspect,
    quantize) a built-in transformer is read again from its ONNX file."""
    from vcp_toolkit.model.graph.files import load_graph
    from vcp_toolkit.model.graph.vit_shapes import is_transformer

    if spec in BUILTIN_TRANSFORMERS and from_source:
        return import_transformer(builtin_onnx(spec), calibration) if transformers else _refuse(spec)
    if is_builtin(spec):
        if spec in BUILTIN_TRANSFORMERS and not transformers:
            _refuse(spec)
        if calibration is not None:
            raise InvalidInput(f"--calibration does not apply to the built-in {spec!r}: it is already quantized")
        return GraphModel(builtin_graph(spec), onnx_path(spec), None, builtin_graph(spec).metadata["calibration"])
    path = Path(spec)
    if path.suffix.lower() != ".onnx":
        if calibration is not None:
            raise InvalidInput("--calibration applies to .onnx models only (a graph file is already quantized)")
        graph = load_graph(path)
        return GraphModel(graph, None, None, "") if transformers or not is_transformer(graph) else _refuse(spec)
    if onnx_kind(path) == "transformer":
        return import_transformer(path, calibration) if transformers else _refuse(spec)
    return quantize_onnx(path, calibration)


def builtin_onnx(name: str) -> Path:
    from importlib import resources

    return Path(str(resources.files("vcp_toolkit.model.builtin").joinpath(BUILTIN_TRANSFORMERS[name])))


def _refuse(spec) -> NoReturn:
    from vcp_toolkit.attest.files import printable

    raise InvalidInput(f"{printable(str(spec))} is a vision transformer, which only `vcp inspect`, `vcp quantize`, "
                       "`vcp prove` and `vcp verify` run so far (and `vcp demo --model vit`); pass a CNN (lenet, "
                       "rescnn) or a dense model to this command")


def import_transformer(path: Path, calibration: Path | None) -> GraphModel:
    """Read a ViT ONNX file (vit_onnx), calibrate it on ``calibration`` or the first 256 MNIST train
    images (vit_import's default, for 1x28x28 inputs) and quantize it (vit_quantize)."""
    import hashlib

    from vcp_toolkit.model.datasets import INPUT_SCALE
    from vcp_toolkit.model.graph import vit_import
    from vcp_toolkit.model.graph.vit_quantize import quantize_vit

    float_graph = _read_vit(path)
    shape = tuple(float_graph.input_shape)
    if calibration is None and shape == MNIST_SHAPE:
        x, how = vit_import.calibration_images(), f"the first {vit_import.CALIBRATION_IMAGES} MNIST train images"
        scale = INPUT_SCALE
    else:
        x, how = calibration_images(calibration, shape)
        scale = float(np.max(np.abs(x))) / 127
        if not scale > 0:
            raise InvalidInput("calibration images are all zero: cannot choose an input scale")
    graph = quantize_vit(float_graph, x, input_scale=scale)
    meta = {"source": path.name, "source_sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "calibration": how,
            **graph.metadata}
    return GraphModel(dataclasses.replace(graph, name=path.stem, metadata=meta), path, x, how, float_graph)


def _read_vit(path: Path):
    from vcp_toolkit.attest.files import printable
    from vcp_toolkit.model.graph.vit_onnx import read_vit

    try:
        return read_vit(path)
    except InvalidModel as exc:
        text = str(exc) if str(exc).startswith(printable(path)) else f"{printable(path)}: {exc}"
        raise InvalidModel(f"{text}; {TRANSFORMER_FIX}") from None


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
    return GraphModel(graph, path, x, how, float_graph)


def calibration_images(path: Path | None, shape: tuple[int, ...], what: str = "calibration file"):
    """(images as (N, *shape) float64, how they were chosen)."""
    from vcp_toolkit.model.onnx_io import load_calibration

    if path is None:
        if shape != MNIST_SHAPE:
            raise InvalidInput(f"this model reads {'x'.join(map(str, shape))} inputs: pass --calibration with sample "
                               "inputs (.npy, or .npz array 'x'); only 1x28x28 models default to MNIST")
        from vcp_toolkit.model.datasets import load_mnist_split

        return load_mnist_split().x_train[:CALIBRATION_IMAGES], DEFAULT_CALIBRATION
    x, how = load_calibration(path, math.prod(shape), what)
    return x.reshape((-1,) + shape), f"{how['calibration']} ({how['calibration_samples']} samples, sha256 " \
                                      f"{how['calibration_sha256'][:16]}...)"
