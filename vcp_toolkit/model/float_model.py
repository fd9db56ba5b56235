"""Float models as a sequence of layers: what training or an ONNX import produces."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Union

import numpy as np

from vcp_toolkit.errors import InvalidModel


@dataclass(frozen=True, eq=False)
class Dense:
    """``y = W x + b`` with ``W`` of shape (out, in)."""

    weight: np.ndarray
    bias: np.ndarray

    def __post_init__(self) -> None:
        if self.weight.ndim != 2 or self.bias.shape != (self.weight.shape[0],):
            raise InvalidModel(f"dense layer with weight {self.weight.shape} and bias {self.bias.shape}")
        if not (np.all(np.isfinite(self.weight)) and np.all(np.isfinite(self.bias))):
            raise InvalidModel("dense layer holds NaN or infinite values")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return x @ self.weight.T + self.bias


@dataclass(frozen=True)
class ReLU:
    """``y = max(x, 0)``."""

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(x, 0.0)


Layer = Union[Dense, ReLU]


@dataclass(frozen=True, eq=False)
class Model:
    """A float network: ``layers`` applied in order to inputs of width ``input_width``."""

    name: str
    layers: tuple[Layer, ...]

    def __post_init__(self) -> None:
        if not self.layers or not isinstance(self.layers[0], Dense):
            raise InvalidModel("a model must start with a dense layer")
        width = self.layers[0].weight.shape[1]
        for layer in self.layers:
            if isinstance(layer, Dense):
                if layer.weight.shape[1] != width:
                    raise InvalidModel(f"dense layer expects width {layer.weight.shape[1]}, gets {width}")
                width = layer.weight.shape[0]

    @property
    def input_width(self) -> int:
        return int(self.layers[0].weight.shape[1])

    @property
    def param_count(self) -> int:
        return sum(layer.weight.size + layer.bias.size for layer in self.layers if isinstance(layer, Dense))

    def forward(self, x: np.ndarray) -> np.ndarray:
        out = np.asarray(x, dtype=np.float64)
        for layer in self.layers:
            out = layer(out)
        return out

    def save(self, path: Path) -> None:
        arrays: dict[str, np.ndarray] = {}
        kinds = []
        for i, layer in enumerate(self.layers):
            kinds.append(type(layer).__name__.lower())
            if isinstance(layer, Dense):
                arrays[f"layer{i}.weight"] = layer.weight
                arrays[f"layer{i}.bias"] = layer.bias
        meta = json.dumps({"format": "vcp.float-model", "version": 1, "name": self.name, "layers": kinds})
        np.savez(path, meta=np.array(meta), **arrays)

    @classmethod
    def load(cls, path: Path) -> "Model":
        """A model ``save`` wrote; anything else raises InvalidModel naming the file."""
        from vcp_toolkit.attest.files import printable
        from vcp_toolkit.model.arrays import load_json, load_npz, read_file

        what = f"float model file {printable(path)}"
        raw = read_file(path, "float model file", MAX_FLOAT_MODEL_BYTES, InvalidModel, FLOAT_FIX)
        arrays = load_npz(raw, what, MAX_FLOAT_MODEL_BYTES, InvalidModel, FLOAT_FIX, kinds="fU")
        meta_array = arrays.get("meta")
        if meta_array is None or meta_array.dtype.kind != "U" or meta_array.ndim != 0:
            raise InvalidModel(f"{what} is not a vcp float model (no 'meta' text array); {FLOAT_FIX}")
        meta = load_json(str(meta_array).encode(), f"{what} (its meta)", InvalidModel, FLOAT_FIX)
        if not isinstance(meta, dict) or not isinstance(meta.get("layers"), list) or \
                not isinstance(meta.get("name"), str):
            raise InvalidModel(f"{what}: its meta needs a name and a list of layers; {FLOAT_FIX}")
        try:
            return cls(name=meta["name"], layers=tuple(_read_layer(arrays, i, kind)
                                                       for i, kind in enumerate(meta["layers"])))
        except InvalidModel as exc:
            raise InvalidModel(f"{what}: {exc}; {FLOAT_FIX}") from None


FLOAT_FIX = "pass a .npz written by Model.save"
MAX_FLOAT_MODEL_BYTES = 2 * 2**30


def _read_layer(arrays: dict[str, np.ndarray], i: int, kind: object) -> Layer:
    if kind == "relu":
        return ReLU()
    if kind != "dense":
        raise InvalidModel(f"unsupported layer kind {str(kind)[:40]!r} (supported: dense, relu)")
    names = (f"layer{i}.weight", f"layer{i}.bias")
    missing = [name for name in names if name not in arrays]
    if missing:
        raise InvalidModel(f"array {missing[0]} is missing")
    return Dense(arrays[names[0]].astype(np.float64), arrays[names[1]].astype(np.float64))


def file_digest(path: Path) -> str:
    """sha256 of a file, hex: identifies the source a model was made from."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
