"""EZKL on the built-in vision transformer (model/builtin/vit.onnx, float, as exported), in the same
run as the CNNs: settings, compile, setup, proof, verification and the verifier contract's gas, on
the first held-out MNIST image. Every stage runs in its own process under a time limit and a memory
ceiling (zk.guarded); a circuit the CNNs' memory rule says will not fit is refused before its setup.

Each attempt's row holds what EZKL reported (logrows, rows, scales, lookup tables), each stage's time
and peak memory, and either the proof's size and gas or the stage that failed with the reason:
EZKL's own error, vcp's limit, or the memory estimate that made vcp refuse. The public inputs are
the float pixels at EZKL's input scale (not vcp's int8 codes), so only EZKL's verifier contract can
check the proof: the gas is that contract's alone, without the registry's bindings.
"""

from __future__ import annotations

import shutil
from typing import Any, Callable

import numpy as np

from vcp_toolkit.bench.cnn_runs import _memory_needed, available_memory
from vcp_toolkit.errors import VcpError
from vcp_toolkit.zk import onnx_file
from vcp_toolkit.zk.guarded import StageFailed, StageLimits, run_guarded
from vcp_toolkit.zk.onnx_file import SettingsChoice

VIT = "vit"
BATCH_VARIABLE = "N"  # vit.onnx's symbolic batch dimension (TorchScript exporter, dynamic axes)
CHOICES = (
    SettingsChoice("EZKL-calibrated scales, 2 inner columns", batch_variable=BATCH_VARIABLE),
    # the cheaper one: scale 7 shrinks the lookup range, 4 inner columns halve the rows
    SettingsChoice("scales 7, 4 inner columns, at most 2**19 rows", input_scale=7, param_scale=7, num_inner_cols=4,
                   max_logrows=19, batch_variable=BATCH_VARIABLE),
)
SECONDS = {"settings": 600, "compile": 600, "setup": 1800, "prove": 1800, "verify": 300, "evm verifier": 900}
HEADROOM_BYTES = 3 * 2**30 // 2  # left to the rest of the machine: a stage is stopped above available - this
VerifierGas = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]


def vit_image() -> np.ndarray:
    """The first held-out MNIST image, float (784,) in [0, 1]: vit.onnx's own input."""
    from vcp_toolkit.model.datasets import load_mnist_split

    return np.asarray(load_mnist_split().x_test[:1], dtype=np.float64).reshape(-1)


def vit_params() -> int:
    import onnx
    from onnx import numpy_helper

    from vcp_toolkit.model.graph.vit_import import builtin_vit_path

    return sum(numpy_helper.to_array(t).size for t in onnx.load(str(builtin_vit_path())).graph.initializer)


def memory_refusal(logrows: int, available: int | None) -> str | None:
    """Why the CNNs' memory rule refuses a circuit of 2**``logrows`` rows, or None if it fits."""
    needed = _memory_needed(logrows)
    if available is None or available >= needed:
        return None
    return (f"refused by vcp before setup: needs about {needed / 2**30:.0f} GiB to set up and prove "
            f"(2**{logrows} rows), {available / 2**30:.1f} GiB available")


def _ceiling() -> int | None:
    available = available_memory()
    return None if available is None else max(available - HEADROOM_BYTES, 2**30)


class _Attempt:
    """One settings choice through the stages, recording as it goes."""

    def __init__(self, choice: SettingsChoice, directory) -> None:
        self.choice, self.directory = choice, directory
        self.row: dict[str, Any] = {"model": VIT, "setting": choice.name, "params": vit_params(), "stages": {},
                                    "proven": False}

    def stage(self, name: str, fn: Callable, *args: Any) -> Any:
        self.row["failed_stage"] = name
        try:
            run = run_guarded(name, fn, args, StageLimits(SECONDS[name], _ceiling()))
        except StageFailed as exc:  # how long it ran and how much it held before it failed, then why
            self.row["stages"][name] = {"s": exc.seconds, "peak_rss_mb": exc.peak_rss_mb, "failed": True}
            raise
        self.row["stages"][name] = {"s": run.seconds, "peak_rss_mb": run.peak_rss_mb}
        return run.result

    def run(self, onnx: str, verifier_gas: VerifierGas | None) -> dict[str, Any]:
        d = str(self.directory)
        self.row.update(self.stage("settings", onnx_file.make_settings, onnx, d, self.choice))
        self.row["memory_needed_bytes"] = _memory_needed(self.row["logrows"])
        self.row["memory_available_bytes"] = available_memory()
        refusal = memory_refusal(self.row["logrows"], self.row["memory_available_bytes"])
        if refusal is not None:
            return {**self.row, "failed_stage": "setup", "why": refusal}
        self.row["compiled_bytes"] = self.stage("compile", onnx_file.compile_model, onnx, d)
        keys = self.stage("setup", onnx_file.set_up, d, self.row["logrows"])
        self.row.update(pk_bytes=keys["pk_bytes"], vk_bytes=keys["vk_bytes"])
        proof = self.stage("prove", onnx_file.prove, d, keys["srs"])
        self.row.update(proof_bytes=len(bytes.fromhex(proof["proof"].removeprefix("0x"))),
                        instances=len(proof["instances"]))
        self.row["verified"] = self.stage("verify", onnx_file.verify, d, keys["srs"])
        verifier = self.stage("evm verifier", onnx_file.evm_verifier, d, keys["srs"])
        self.row["verifier_bytes"] = len(bytes.fromhex(verifier["bytecode"].removeprefix("0x")))
        if verifier_gas is not None:
            self.row["failed_stage"] = "gas"
            self.row.update(verifier_gas(verifier, proof))
        self.row.pop("failed_stage")
        return {**self.row, "proven": True}


def vit_attempt(choice: SettingsChoice, verifier_gas: VerifierGas | None) -> dict[str, Any]:
    """One attempt's row: its figures if it was proven, else the stage that failed and why."""
    from vcp_toolkit.model.graph.vit_import import builtin_vit_path
    from vcp_toolkit.zk.cache import cache_root

    directory = cache_root() / "vit" / "".join(c if c.isalnum() else "-" for c in choice.name)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    attempt = _Attempt(choice, directory)
    try:
        onnx_file.write_float_input(directory / "input.json", vit_image())
        return attempt.run(str(builtin_vit_path()), verifier_gas)
    except VcpError as exc:  # a stage's StageFailed, or the chain's refusal of the verifier
        return {**attempt.row, "why": str(exc)}
    finally:
        shutil.rmtree(directory, ignore_errors=True)  # the proving key runs to GBs


def vit_zk_attempts(verifier_gas: VerifierGas | None,
                    choices: tuple[SettingsChoice, ...] = CHOICES) -> list[dict[str, Any]]:
    """EZKL's default settings first, then cheaper ones until one is proven, one at a time."""
    attempts = []
    for choice in choices:
        attempts.append(vit_attempt(choice, verifier_gas))
        if attempts[-1]["proven"]:
            break
    return attempts


def verifier_gas_on(sender) -> VerifierGas:
    """The gas of EZKL's verifier contract on ``sender``'s chain (a funded chain.tx.Sender): its
    deployment, and one transaction calling verifyProof with the proof alone."""
    from vcp_toolkit.chain.tx import calldata

    def measure(verifier: dict[str, Any], proof: dict[str, Any]) -> dict[str, Any]:
        deployed = sender.transact(to=None, data=bytes.fromhex(verifier["bytecode"].removeprefix("0x")),
                                   action="deploying the ViT's zk verifier")
        contract = sender.chain.w3.eth.contract(abi=verifier["abi"])
        call = contract.functions.verifyProof(bytes.fromhex(proof["proof"].removeprefix("0x")), proof["instances"])
        alone = sender.transact(to=deployed.contract_address, data=calldata(call),
                                action="calling the ViT's zk verifier")
        return {"verifier_deploy_gas": deployed.gas_used, "verifier_only_gas": alone.gas_used}

    return measure


HEADERS = ["setting", "logrows", "rows", "scales (in/param)", "settings", "setup", "prove", "peak memory",
           "proof bytes", "verifier gas (alone)", "outcome"]


def _seconds(row: dict[str, Any], stage: str) -> str:
    run = row["stages"].get(stage, {})
    if "s" not in run:
        return ""
    return f"{run['s']:.1f} s" + (" (did not finish)" if run.get("failed") else "")


def row_cells(row: dict[str, Any]) -> list[Any]:
    """One attempt as the report's table shows it: the figures measured, then the outcome (proven
    and verified, or the stage that failed and why)."""
    peak = max((s["peak_rss_mb"] for s in row["stages"].values()), default=None)
    scales = f"{row['input_scale']}/{row['param_scale']}" if "input_scale" in row else ""
    outcome = "proven, verified" if row["proven"] else f"failed at {row['failed_stage']}: {row['why']}"
    return [row["setting"], row.get("logrows", ""), row.get("rows", ""), scales, _seconds(row, "settings"),
            _seconds(row, "setup"), _seconds(row, "prove"), "" if peak is None else f"{peak / 1024:.1f} GB",
            row.get("proof_bytes", ""), row.get("verifier_only_gas", ""), outcome]
