"""Random models of any shape, for benchmarks and tests (the demo model is the real one)."""

from __future__ import annotations

import numpy as np

from vcp_toolkit.model.datasets import INPUT_SCALE
from vcp_toolkit.model.float_model import Dense, Model, ReLU
from vcp_toolkit.model.quantize import QuantizedModel, quantize


def random_float_model(widths: list[int], seed: int = 0) -> Model:
    """He-initialised dense layers with ReLU between them: ``widths = [in, hidden..., out]``."""
    rng = np.random.default_rng(seed)
    layers: list = []
    for i, (n_in, n_out) in enumerate(zip(widths, widths[1:])):
        layers.append(Dense(rng.normal(0.0, np.sqrt(2.0 / n_in), (n_out, n_in)), rng.normal(0.0, 0.1, n_out)))
        if i < len(widths) - 2:
            layers.append(ReLU())
    return Model(name="random-" + "-".join(map(str, widths)), layers=tuple(layers))


def random_model(widths: list[int], seed: int = 0, calibration_samples: int = 64) -> QuantizedModel:
    """A quantized random model, calibrated on uniform inputs in [0, 1]."""
    float_model = random_float_model(widths, seed)
    calib = np.random.default_rng(seed + 1).random((calibration_samples, widths[0]))
    return quantize(float_model, calib, INPUT_SCALE, metadata={"synthetic": True, "seed": seed})


def random_inputs(model: QuantizedModel, count: int, seed: int = 0) -> np.ndarray:
    return model.quantize_input(np.random.default_rng(seed).random((count, model.input_width)))
