"""EZKL's pipeline on an ONNX file as it is: float input, EZKL's own quantization of every operator.
One function per stage, each run by ``zk.guarded`` in its own process: settings (generated and
calibrated), compile, setup (with the local SRS), witness and proof, verify, and the EVM verifier.

Unlike ``zk.circuit`` nothing here is bound to a vcp model root: the public inputs are the float
input at EZKL's input scale, not vcp's int8 codes, so the registry cannot record such a proof; only
EZKL's verifier contract checks it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vcp_toolkit.zk.backend import require_ezkl


@dataclass(frozen=True)
class SettingsChoice:
    """The EZKL run arguments one attempt tries; None leaves the choice to EZKL's calibration."""

    name: str
    input_scale: int | None = None
    param_scale: int | None = None
    num_inner_cols: int = 2  # EZKL's default; more columns, fewer rows
    max_logrows: int | None = None
    batch_variable: str = "batch_size"  # the name of the ONNX input's symbolic batch dimension

    def run_args(self):
        args = require_ezkl().PyRunArgs()
        args.input_visibility, args.output_visibility, args.param_visibility = "public", "public", "fixed"
        args.variables = [(self.batch_variable, 1)]
        args.num_inner_cols = self.num_inner_cols
        if self.input_scale is not None:
            args.input_scale = self.input_scale
        if self.param_scale is not None:
            args.param_scale = self.param_scale
        return args


def write_float_input(path: Path, values) -> None:
    """EZKL's input file for one float sample."""
    path.write_text(json.dumps({"input_data": [[float(v) for v in values]]}))


def settings_summary(settings: dict[str, Any]) -> dict[str, Any]:
    """What EZKL's settings.json says of a circuit's size and of the tables it needs."""
    run_args = settings["run_args"]
    return {"logrows": int(run_args["logrows"]), "rows": int(settings.get("num_rows", 0)),
            "assignments": int(settings.get("total_assignments", 0)), "input_scale": int(run_args["input_scale"]),
            "param_scale": int(run_args["param_scale"]), "num_inner_cols": int(run_args["num_inner_cols"]),
            "lookup_range": list(run_args["lookup_range"]),
            "lookups": sorted(name for table in settings.get("required_lookups", []) for name in table),
            "range_checks": settings.get("required_range_checks", [])}


def make_settings(onnx: str, directory: str, choice: SettingsChoice) -> dict[str, Any]:
    """gen_settings then calibrate_settings ("resources") on ``directory``/input.json."""
    ezkl, settings = require_ezkl(), str(Path(directory) / "settings.json")
    ezkl.gen_settings(onnx, settings, py_run_args=choice.run_args())
    scales = None if choice.input_scale is None else [choice.input_scale]
    ezkl.calibrate_settings(str(Path(directory) / "input.json"), onnx, settings, "resources", scales=scales,
                            max_logrows=choice.max_logrows)
    return settings_summary(json.loads(Path(settings).read_text()))


def compile_model(onnx: str, directory: str) -> int:
    """The compiled circuit; returns its size in bytes."""
    d = Path(directory)
    require_ezkl().compile_circuit(onnx, str(d / "model.compiled"), str(d / "settings.json"))
    return (d / "model.compiled").stat().st_size


def set_up(directory: str, logrows: int) -> dict[str, Any]:
    """The (local, UNSAFE) SRS for ``logrows`` and the circuit's keys."""
    from vcp_toolkit.zk.srs import local_srs

    d, srs = Path(directory), local_srs(logrows)
    require_ezkl().setup(str(d / "model.compiled"), str(d / "vk.key"), str(d / "pk.key"), str(srs))
    return {"srs": str(srs), "pk_bytes": (d / "pk.key").stat().st_size, "vk_bytes": (d / "vk.key").stat().st_size}


def prove(directory: str, srs: str) -> dict[str, Any]:
    """Witness and proof of ``directory``/input.json: the proof's bytes and public values."""
    d, ezkl = Path(directory), require_ezkl()
    ezkl.gen_witness(str(d / "input.json"), str(d / "model.compiled"), str(d / "witness.json"))
    ezkl.prove(str(d / "witness.json"), str(d / "model.compiled"), str(d / "pk.key"), str(d / "proof.json"), srs)
    proof = json.loads((d / "proof.json").read_text())
    return {"proof": proof["hex_proof"],
            "instances": [int.from_bytes(bytes.fromhex(v), "little") for v in proof["instances"][0]]}


def verify(directory: str, srs: str) -> bool:
    d = Path(directory)
    return bool(require_ezkl().verify(str(d / "proof.json"), str(d / "settings.json"), str(d / "vk.key"), srs))


def evm_verifier(directory: str, srs: str) -> dict[str, Any]:
    """EZKL's Solidity verifier, compiled by the project's solcjs: its ABI and bytecode."""
    from vcp_toolkit.zk.verifier_contract import compile_verifier, write_verifier_source

    artifact = compile_verifier(write_verifier_source(Path(directory), Path(srs)))
    return {"abi": artifact["abi"], "bytecode": artifact["bytecode"]}
