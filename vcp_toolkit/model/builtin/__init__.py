"""The built-in demo model: a 64 -> 32 -> 10 digits classifier, trained by ``train_digits``."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from vcp_toolkit.model.float_model import Model
from vcp_toolkit.model.quantize import QuantizedModel

DEMO_MODEL_NAME = "digits-mlp-64-32-10"


def _path(name: str) -> Path:
    return Path(str(resources.files(__name__).joinpath(name)))


FLOAT_WEIGHTS = _path("digits_mlp.npz")
QUANTIZED_WEIGHTS = _path("digits_mlp.q.npz")


def demo_float_model() -> Model:
    return Model.load(FLOAT_WEIGHTS)


@lru_cache(maxsize=1)
def demo_model() -> QuantizedModel:
    """The committed fixed-point demo model (the canonical artifact; see train_digits)."""
    return QuantizedModel.load(QUANTIZED_WEIGHTS)
