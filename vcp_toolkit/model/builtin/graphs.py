"""The built-in MNIST models as quantized operator graphs, by name: ``builtin_graph("lenet")``.

The committed graph files ``lenet5.graph.npz``, ``rescnn.graph.npz`` and ``vit.graph.npz`` are the
canonical fixed-point models (as digits_mlp.q.npz is for the MLP): their scales come from float
calibration, which BLAS may round differently on another CPU, and a model root must not depend on
the machine. They were made by ``quantize_builtin`` (the ONNX file beside this one, calibrated on
the first 500 MNIST train images for a CNN, 256 for the ViT, as the tests do); regenerate them with

    .venv/bin/python -m vcp_toolkit.model.builtin.graphs [stem ...]
"""

from __future__ import annotations

import dataclasses
import hashlib
import sys
from functools import lru_cache
from importlib import resources
from pathlib import Path

from vcp_toolkit.errors import InvalidInput

CALIBRATION_IMAGES = 500
BUILTIN_GRAPHS = {"lenet": "lenet5", "lenet5": "lenet5", "rescnn": "rescnn", "vit": "vit"}  # CLI name -> file stem
TRANSFORMERS = frozenset({"vit"})
GRAPH_SUFFIX = ".graph.npz"


def _path(name: str) -> Path:
    return Path(str(resources.files(__package__).joinpath(name)))


def _stem(name: str) -> str:
    if name not in BUILTIN_GRAPHS:
        raise InvalidInput(f"no built-in model named {name!r}: pick one of {', '.join(sorted(set(BUILTIN_GRAPHS)))}")
    return BUILTIN_GRAPHS[name]


def onnx_path(name: str) -> Path:
    """The float ONNX file the built-in graph ``name`` was quantized from."""
    return _path(_stem(name) + ".onnx")


def quantize_builtin(name: str):
    """Read the built-in ONNX and quantize it on the first 500 MNIST train images (float calibration:
    integers equal to the committed file's on this machine, possibly one step off on another)."""
    from vcp_toolkit.model.datasets import load_mnist_split
    from vcp_toolkit.model.graph import quantize_graph, read_onnx_graph

    source = onnx_path(name)
    if name in TRANSFORMERS:
        from vcp_toolkit.model.graph.vit_import import CALIBRATION_IMAGES as images, calibration_images, import_vit

        graph = import_vit(source, calibration_images()).graph
        extra = graph.metadata
    else:
        images, extra = CALIBRATION_IMAGES, {}
        graph = quantize_graph(read_onnx_graph(source), load_mnist_split().x_train[:CALIBRATION_IMAGES])
    meta = {"source": source.name, "source_sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
            "calibration": f"the first {images} MNIST train images (vcp_toolkit.model.datasets)", **extra}
    return dataclasses.replace(graph, name=f"{_stem(name)}-mnist", metadata=meta)


@lru_cache(maxsize=None)
def builtin_graph(name: str):
    """The committed quantized graph of the built-in model ``name`` ("lenet", "rescnn" or "vit")."""
    from vcp_toolkit.model.graph.files import load_graph

    return load_graph(_path(_stem(name) + GRAPH_SUFFIX))


def main(stems: list[str]) -> None:
    from vcp_toolkit.model.graph.files import save_graph

    for stem in stems or sorted(set(BUILTIN_GRAPHS.values())):
        path = save_graph(quantize_builtin(stem), _path(stem + GRAPH_SUFFIX))
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main(sys.argv[1:])
