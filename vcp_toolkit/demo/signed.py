"""The end-to-end demo: train-free demo model -> prove -> sign -> deploy -> submit -> verify -> tamper."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vcp_toolkit.prover import ProvenInference, Prover
from vcp_toolkit.attest.eip712 import hex32, sign_attestation
from vcp_toolkit.chain.gas import submit_floor
from vcp_toolkit.chain.nodes import Chain, open_chain
from vcp_toolkit.chain.registry import Registry, Submission
from vcp_toolkit.chain.tx import Sender, TxOutcome
from vcp_toolkit.commit.commitments import ModelCommitment, input_commitment, output_commitment, trace_root
from vcp_toolkit.model.datasets import Split, load_digits_split
from vcp_toolkit.errors import ContractReverted
from vcp_toolkit.attest.files import AttestationFile
from vcp_toolkit.attest.keys import SigningKey
from vcp_toolkit.model.builtin import demo_float_model, demo_model
from vcp_toolkit.model.quantize import QuantizedModel
from vcp_toolkit.bench.timing import measure
from vcp_toolkit.verifier import OnchainStatus, VerificationReport, check_onchain, verify_attestation, verify_files

SAMPLE_INDEX = 0


@dataclass(frozen=True)
class _Setup:
    """A registry deployed, the demo model registered and one prover key authorised."""

    operator: Sender
    registry: Registry
    prover_key: SigningKey
    deploy_tx: TxOutcome
    register_tx: TxOutcome
    authorize_tx: TxOutcome


@dataclass(frozen=True)
class _Tampering:
    """A forged output under the prover's signature, and a wrong output the prover signs itself."""

    offchain: VerificationReport
    onchain_error: str | None
    lie_offchain: VerificationReport
    lie_recorded: bool


@dataclass(frozen=True)
class _Run:
    """Everything the demo did on the chain, for the figures."""

    chain_kind: str
    chain_id: int
    setup: _Setup
    proven: ProvenInference
    att_path: Path
    bundle_path: Path
    submission: Submission
    report: VerificationReport
    onchain: OnchainStatus
    timings: dict[str, float]
    tampering: _Tampering


def run_demo(chain_kind: str = "embedded", rpc_url: str | None = None, out_dir: Path = Path(".vcp/demo"),
             repeats: int = 51, hardfork: str | None = None) -> dict[str, Any]:
    """Run every step once on a chain (timings are medians over ``repeats``); return the figures."""
    float_model, model = demo_float_model(), demo_model()
    split = load_digits_split()
    x_int8 = model.quantize_input(split.x_test[SAMPLE_INDEX])
    commitment = ModelCommitment(model)
    with open_chain(chain_kind, rpc_url, hardfork) as chain:
        setup = _set_up(chain, commitment)
        proven = Prover(model, setup.prover_key, setup.registry.domain).prove(x_int8)
        att_path, bundle_path = proven.save(Path(out_dir) / f"{chain.kind}-attestation.json")  # on disk first
        submission = setup.registry.submit(setup.operator, proven.attestation, proven.signature)
        signed = AttestationFile.load(att_path)
        report = verify_files(att_path, model)
        onchain = check_onchain(setup.registry, signed)
        timings = _timings(float_model, model, commitment, split.x_test[SAMPLE_INDEX], proven, signed, setup,
                           repeats)
        tampering = _tamper(model, commitment, proven, signed, setup)
        run = _Run(chain.kind, chain.chain_id, setup, proven, att_path, bundle_path, submission, report, onchain,
                   timings, tampering)
    return _figures(run, float_model, model, commitment, split)


def _set_up(chain: Chain, commitment: ModelCommitment) -> _Setup:
    operator = Sender(chain)
    operator.ensure_funded()
    prover_key = SigningKey.generate()
    registry, deploy_tx = Registry.deploy(operator)
    register_tx = registry.register_model(operator, commitment.root)
    authorize_tx = registry.set_prover(operator, prover_key.address)
    return _Setup(operator, registry, prover_key, deploy_tx, register_tx, authorize_tx)


def _timings(float_model, model: QuantizedModel, commitment: ModelCommitment, x_float: np.ndarray,
             proven: ProvenInference, signed: AttestationFile, setup: _Setup, repeats: int) -> dict[str, float]:
    """Each step alone, a median over ``repeats``."""
    x_int8 = model.quantize_input(x_float)
    trace = list(proven.bundle.trace)
    domain, key = setup.registry.domain, setup.prover_key
    return {
        "inference_float": measure(lambda: float_model.forward(x_float[None, :]), repeats).median_s,
        "inference": measure(lambda: model.trace(x_int8), repeats).median_s,
        "commit": measure(lambda: (trace_root(trace), input_commitment(proven.bundle.input_salt, trace[0]),
                                   output_commitment(proven.bundle.output_salt, trace[-1])), repeats).median_s,
        "sign": measure(lambda: sign_attestation(proven.attestation, domain, key.reveal()), repeats).median_s,
        "verify_offchain": measure(lambda: verify_attestation(signed, proven.bundle, model,
                                                              model_commitment=commitment), repeats).median_s,
    }


def _tamper(model: QuantizedModel, commitment: ModelCommitment, proven: ProvenInference, signed: AttestationFile,
            setup: _Setup) -> _Tampering:
    """Change the output commitment and keep the prover's signature; then have the prover sign a
    wrong output: the signature is genuine, so the registry (which checks who signed, not what
    ran) records it; only re-execution catches it."""
    registry, operator = setup.registry, setup.operator
    wrong = np.array(proven.bundle.output, dtype=np.int16)
    wrong[(proven.label + 1) % len(wrong)] = 127
    forged = dataclasses.replace(
        proven.attestation,
        output_commitment=output_commitment(proven.bundle.output_salt, wrong.clip(-128, 127).astype(np.int8)),
        nonce=proven.attestation.nonce + 1,
    )
    forged_file = dataclasses.replace(signed, attestation=forged)
    tamper_offchain = verify_attestation(forged_file, proven.bundle, model, model_commitment=commitment)
    try:
        registry.submit(operator, forged, proven.signature)
        tamper_onchain_error = None
    except ContractReverted as exc:
        tamper_onchain_error = exc.error_name
    lie = dataclasses.replace(forged, nonce=forged.nonce + 1)
    lie_file = dataclasses.replace(signed, attestation=lie,
                                   signature=sign_attestation(lie, registry.domain, setup.prover_key.reveal()))
    lie_offchain = verify_attestation(lie_file, proven.bundle, model, model_commitment=commitment)
    registry.submit(operator, lie, lie_file.signature)
    return _Tampering(tamper_offchain, tamper_onchain_error, lie_offchain, check_onchain(registry, lie_file).recorded)


def _accuracy(float_model, model: QuantizedModel, split: Split) -> tuple[float, float]:
    """Test accuracy of the float model and of the fixed-point one."""
    acc_float = float(np.mean(np.argmax(float_model.forward(split.x_test), axis=1) == split.y_test))
    acc_quant = float(np.mean(model.predict(model.quantize_input(split.x_test)) == split.y_test))
    return acc_float, acc_quant


def _figures(run: _Run, float_model, model: QuantizedModel, commitment: ModelCommitment,
             split: Split) -> dict[str, Any]:
    acc_float, acc_quant = _accuracy(float_model, model, split)
    submission, setup, tampering = run.submission, run.setup, run.tampering
    floor = submit_floor(submission.tx.calldata)
    return {
        "chain": run.chain_kind,
        "chain_id": run.chain_id,
        "model": {
            "name": model.name,
            "params": model.param_count,
            "widths": model.widths,
            "root": hex32(commitment.root),
            "accuracy_float": round(acc_float, 4),
            "accuracy_quantized": round(acc_quant, 4),
            "test_samples": int(len(split.y_test)),
        },
        "sample": {"index": SAMPLE_INDEX, "label_true": int(split.y_test[SAMPLE_INDEX]),
                   "label_attested": run.proven.label},
        "timings_s": run.timings,
        "gas": {
            "deploy": setup.deploy_tx.gas_used,
            "register_model": setup.register_tx.gas_used,
            "authorize_prover": setup.authorize_tx.gas_used,
            "submit_attestation": submission.tx.gas_used,
        },
        "gas_floor_submit": floor,
        "gas_ratio_submit": round(submission.tx.gas_used / floor, 4),
        "submit_calldata_bytes": len(submission.tx.calldata),
        "latency_to_receipt_s": submission.tx.latency_s,
        "attestation": {"path": str(run.att_path), "bundle": str(run.bundle_path),
                        "digest": hex32(submission.digest)},
        "verified_offchain": run.report.valid,
        "recorded_onchain": run.onchain.recorded,
        "tamper_rejected_offchain": not tampering.offchain.valid,
        "tamper_reason_offchain": tampering.offchain.reason,
        "tamper_rejected_onchain": tampering.onchain_error is not None,
        "tamper_error_onchain": tampering.onchain_error,
        "signed_wrong_output": {
            "rejected_offchain": not tampering.lie_offchain.valid,
            "recorded_by_registry": tampering.lie_recorded,
            "why": "the registry checks the signer, not the computation: use re-execution or optimistic mode",
        },
    }
