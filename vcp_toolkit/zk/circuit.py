"""One model's circuit: exported to ONNX on vcp's int8 input codes, EZKL settings calibrated and
compiled, keys set up, the EVM verifier built; or all of it reused from the cache. The model is a
dense QuantizedModel or an operator graph (a CNN): both export to ONNX the same way."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vcp_toolkit.commit.commitments import ModelCommitment
from vcp_toolkit.commit.graph_commitments import GraphModelCommitment
from vcp_toolkit.commit.encoding import field_element
from vcp_toolkit.model.graph.graph import IntGraph
from vcp_toolkit.model.quantize import QuantizedModel
from vcp_toolkit.errors import VcpError, ZkError
from vcp_toolkit.zk.backend import ezkl_failure, ezkl_version, native_output, require_ezkl, write_input
from vcp_toolkit.zk.cache import circuit_directory, load_meta, save_meta
from vcp_toolkit.zk.srs import local_srs
from vcp_toolkit.zk.verifier_contract import compile_verifier, write_verifier_source


@dataclass(frozen=True)
class ZkCircuit:
    """A set-up circuit for one model: where its files are and what its public values mean."""

    model_root: bytes
    directory: Path
    input_scale: int
    output_scale: int
    logrows: int
    in_width: int
    out_width: int
    srs_path: Path
    srs_unsafe: bool
    setup_s: float  # 0 when it came from the cache
    verifier_abi: list
    verifier_bytecode: str
    rows: int = 0  # EZKL's num_rows after calibration (0 for circuits cached before it was recorded)

    def path(self, name: str) -> Path:
        return self.directory / name

    @property
    def pk_bytes(self) -> int:
        return self.path("pk.key").stat().st_size

    def public_inputs(self, x) -> list[int]:
        """The proof's public inputs for the int8 codes ``x``: each one times ``2**input_scale``."""
        return [field_element(int(v) << self.input_scale) for v in x]


@dataclass(frozen=True)
class CircuitModel:
    """What the circuit needs of a model: its root, its widths (the graph's flattened) and its ONNX."""

    model: QuantizedModel | IntGraph
    root: bytes
    in_width: int
    out_width: int

    @classmethod
    def of(cls, model: QuantizedModel | IntGraph) -> "CircuitModel":
        if isinstance(model, IntGraph):
            width = int(np.prod(model.input_shape))
            out = model.run(np.zeros((1,) + tuple(model.input_shape), dtype=np.int8)).output
            return cls(model, GraphModelCommitment(model).root, width, int(out.size))
        return cls(model, ModelCommitment(model).root, model.input_width, model.output_width)

    def export(self, path: Path) -> Path:
        """The ONNX EZKL compiles: batch 1, taking the int8 input codes."""
        if isinstance(self.model, IntGraph):
            from vcp_toolkit.model.graph.onnx_export import export_graph_onnx

            return export_graph_onnx(self.model, path, batch=1, int8_input=True)
        from vcp_toolkit.model.onnx_io import export_onnx

        return export_onnx(self.model, path, batch=1, int8_input=True)


def prepare_circuit(model: QuantizedModel | IntGraph, calibration: np.ndarray | None = None,
                    srs: Path | None = None) -> ZkCircuit:
    """Export, calibrate, compile, set up and build the EVM verifier, or reuse the cached ones."""
    require_ezkl()
    model = CircuitModel.of(model)
    root = model.root
    directory = circuit_directory(root)
    meta = load_meta(directory)
    if meta is not None:
        return _circuit(root, directory, model, meta, 0.0)
    started = time.perf_counter()
    with native_output():  # calibration prints a fidelity table; `vcp -v` shows it
        meta = _set_up(model, directory, calibration, srs)
    save_meta(directory, meta)
    return _circuit(root, directory, model, meta, time.perf_counter() - started)


def _circuit(root: bytes, directory: Path, model: CircuitModel, meta: dict[str, Any], setup_s: float) -> ZkCircuit:
    return ZkCircuit(root, directory, meta["input_scale"], meta["output_scale"], meta["logrows"], model.in_width,
                     model.out_width, Path(meta["srs"]), meta["srs_unsafe"], setup_s, meta["abi"], meta["bytecode"],
                     int(meta.get("rows", 0)))


def _set_up(model: CircuitModel, directory: Path, calibration: np.ndarray | None, srs: Path | None) -> dict[str, Any]:
    """Every setup step, in ``directory``; returns the circuit's description (circuit.json)."""
    try:
        onnx_path = _calibrated(model, directory, calibration)
        require_ezkl().compile_circuit(str(onnx_path), str(directory / "model.compiled"),
                                       str(directory / "settings.json"))
        run_args = json.loads((directory / "settings.json").read_text())["run_args"]
        srs_path = srs if srs is not None else local_srs(int(run_args["logrows"]))
        require_ezkl().setup(str(directory / "model.compiled"), str(directory / "vk.key"), str(directory / "pk.key"),
                             str(srs_path))
        sol = write_verifier_source(directory, srs_path)
    except VcpError:  # ZkError, or the model's own refusal to export
        raise
    except Exception as exc:  # EZKL raises RuntimeError/ValueError with its own text
        raise ezkl_failure("EZKL pipeline failed", exc) from exc
    artifact = compile_verifier(sol)
    return {"input_scale": int(run_args["input_scale"]),
            "output_scale": int(run_args.get("output_scale", run_args["input_scale"])),
            "logrows": int(run_args["logrows"]), "srs": str(srs_path), "srs_unsafe": srs is None,
            "abi": artifact["abi"], "bytecode": artifact["bytecode"], "ezkl": ezkl_version(),
            "rows": int(json.loads((directory / "settings.json").read_text()).get("num_rows", 0)),
            "settings_sha256": hashlib.sha256((directory / "settings.json").read_bytes()).hexdigest()}


@dataclass(frozen=True)
class CircuitSize:
    """What EZKL's calibrated settings say of a circuit before any key exists."""

    logrows: int
    rows: int
    input_scale: int
    param_scale: int


def circuit_size(model: QuantizedModel | IntGraph, calibration: np.ndarray | None = None) -> CircuitSize:
    """The circuit's size from EZKL's settings, calibrated as prepare_circuit calibrates them
    (seconds; no setup, no keys), in a scratch folder."""
    import tempfile

    require_ezkl()
    with tempfile.TemporaryDirectory() as tmp, native_output():
        try:
            _calibrated(CircuitModel.of(model), Path(tmp), calibration)
        except Exception as exc:
            raise ezkl_failure("EZKL calibration failed", exc) from exc
        settings = json.loads((Path(tmp) / "settings.json").read_text())
    run_args = settings["run_args"]
    return CircuitSize(int(run_args["logrows"]), int(settings.get("num_rows", 0)), int(run_args["input_scale"]),
                       int(run_args["param_scale"]))


def _calibrated(model: CircuitModel, directory: Path, calibration: np.ndarray | None) -> Path:
    """The ONNX export, its calibration input and EZKL's settings (public inputs and outputs, fixed
    parameters) calibrated for resources, in ``directory``; returns the ONNX path."""
    ezkl = require_ezkl()
    onnx_path = model.export(directory / "model.onnx")
    calib = calibration if calibration is not None else \
        np.random.default_rng(0).integers(-128, 128, (1, model.in_width))
    write_input(directory / "calibration.json", np.asarray(calib).reshape(-1, model.in_width)[:1])
    args = ezkl.PyRunArgs()
    args.input_visibility = "public"
    args.output_visibility = "public"
    args.param_visibility = "fixed"
    settings = directory / "settings.json"
    ezkl.gen_settings(str(onnx_path), str(settings), py_run_args=args)
    ezkl.calibrate_settings(str(directory / "calibration.json"), str(onnx_path), str(settings), "resources")
    return onnx_path
