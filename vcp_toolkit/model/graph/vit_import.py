"""The integer vision transformer from an ONNX file: read (vit_onnx), calibrate and quantize
(vit_quantize), run in exact int8/int64 arithmetic (IntGraph).

    vit = import_vit("vcp_toolkit/model/builtin/vit.onnx", calibration_images())
    logits, trace = vit.run(x_int8)          # x_int8 = vit.quantize_input(pixels / 255)

The forward pass has no float: every node is an integer kernel (conv, token_dense, layernorm,
matmul, softmax, gelu, add) or data movement, so the same input gives the same bits on any machine.
Floats appear only at import, when the scales and integer parameters are chosen.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from vcp_toolkit.model.datasets import load_mnist_split
from vcp_toolkit.model.graph.graph import IntGraph
from vcp_toolkit.model.graph.vit_float import VitFloatGraph
from vcp_toolkit.model.graph.vit_onnx import read_vit
from vcp_toolkit.model.graph.vit_quantize import quantize_vit

CALIBRATION_IMAGES = 256  # the first train images; the held-out test images never set a scale


def builtin_vit_path() -> Path:
    return Path(str(resources.files("vcp_toolkit.model.builtin").joinpath("vit.onnx")))


def calibration_images(count: int = CALIBRATION_IMAGES) -> np.ndarray:
    """The first ``count`` MNIST train images, float (N, 1, 28, 28) in [0, 1]."""
    return np.asarray(load_mnist_split().x_train[:count], dtype=np.float64)


@dataclass(frozen=True, eq=False)
class IntegerViT:
    graph: IntGraph  # the integer nodes, as an operator graph holds them
    float_graph: VitFloatGraph  # what was read from the file (calibration and reporting only)

    def quantize_input(self, x: np.ndarray) -> np.ndarray:
        return self.graph.quantize_input(x)

    def run(self, x_int8: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """(int8 logits (N, 10), every node's int8 tensor, input first, in node order)."""
        result = self.graph.run(x_int8)
        return result.output, result.trace

    def predict(self, x_float: np.ndarray) -> np.ndarray:
        return self.graph.predict(x_float)


def import_vit(path: Path | str, calibration: np.ndarray) -> IntegerViT:
    """Read, calibrate on float ``calibration`` images and quantize the ViT ONNX file at ``path``."""
    float_graph = read_vit(Path(path))
    return IntegerViT(quantize_vit(float_graph, calibration), float_graph)
