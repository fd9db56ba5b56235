"""The end-to-end demo: train-free demo model -> prove -> sign -> deploy -> submit -> verify -> tamper."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from prover import Prover
from vcp.attest.eip712 import hex32, sign_attestation
from vcp.chain.gas import submit_floor
from vcp.chain.nodes import open_chain
from vcp.chain.registry import Registry
from vcp.chain.tx import Sender
from vcp.commit.commitments import ModelCommitment, input_commitment, output_commitment, trace_root
from vcp.model.datasets import load_digits_split
from vcp.errors import ContractReverted
from vcp.attest.files import AttestationFile
from vcp.attest.keys import SigningKey
from vcp.model.builtin import demo_float_model, demo_model
from vcp.bench.timing import measure
from verifier import check_onchain, verify_attestation, verify_files

SAMPLE_INDEX = 0


def run_demo(chain_kind: str = "embedded", rpc_url: str | None = None, out_dir: Path = Path(".vcp/demo"),
             repeats: int = 51) -> dict[str, Any]:
    """Run every step once on a chain (timings are medians over ``repeats``); return the figures."""
    float_model, model = demo_float_model(), demo_model()
    split = load_digits_split()
    x_float = split.x_test[SAMPLE_INDEX]
    x_int8 = model.quantize_input(x_float)
    acc_float = float(np.mean(np.argmax(float_model.forward(split.x_test), axis=1) == split.y_test))
    acc_quant = float(np.mean(model.predict(model.quantize_input(split.x_test)) == split.y_test))
    commitment = ModelCommitment(model)

    with open_chain(chain_kind, rpc_url) as chain:
        chain_id = chain.chain_id
        operator = Sender(chain)
        operator.ensure_funded()
        prover_key = SigningKey.generate()
        registry, deploy_tx = Registry.deploy(operator)
        register_tx = registry.register_model(operator, commitment.root)
        authorize_tx = registry.set_prover(operator, prover_key.address)
        prover = Prover(model, prover_key, registry.domain)

        proven = prover.prove(x_int8)
        att_path, bundle_path = proven.save(Path(out_dir) / f"{chain.kind}-attestation.json")  # on disk first
        submission = registry.submit(operator, proven.attestation, proven.signature)
        signed = AttestationFile.load(att_path)
        report = verify_files(att_path, model)
        onchain = check_onchain(registry, signed)

        # Timings, each a median over repeats of the step alone.
        trace = list(proven.bundle.trace)
        timings = {
            "inference_float": measure(lambda: float_model.forward(x_float[None, :]), repeats).median_s,
            "inference": measure(lambda: model.trace(x_int8), repeats).median_s,
            "commit": measure(lambda: (trace_root(trace), input_commitment(proven.bundle.input_salt, trace[0]),
                                       output_commitment(proven.bundle.output_salt, trace[-1])), repeats).median_s,
            "sign": measure(lambda: sign_attestation(proven.attestation, registry.domain, prover_key.reveal()),
                            repeats).median_s,
            "verify_offchain": measure(lambda: verify_attestation(signed, proven.bundle, model,
                                                                  model_commitment=commitment), repeats).median_s,
        }

        # Tamper: change the output commitment, keep the prover's signature.
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

        # A prover that signs a wrong output: the signature is genuine, so the registry (which
        # checks who signed, not what ran) records it; only re-execution catches it.
        lie = dataclasses.replace(forged, nonce=forged.nonce + 1)
        lie_file = dataclasses.replace(signed, attestation=lie,
                                       signature=sign_attestation(lie, registry.domain, prover_key.reveal()))
        lie_offchain = verify_attestation(lie_file, proven.bundle, model, model_commitment=commitment)
        registry.submit(operator, lie, lie_file.signature)
        lie_recorded = check_onchain(registry, lie_file).recorded

    floor = submit_floor(submission.tx.calldata)
    return {
        "chain": chain.kind,
        "chain_id": chain_id,
        "model": {
            "name": model.name,
            "params": model.param_count,
            "widths": model.widths,
            "root": hex32(commitment.root),
            "accuracy_float": round(acc_float, 4),
            "accuracy_quantized": round(acc_quant, 4),
            "test_samples": int(len(split.y_test)),
        },
        "sample": {"index": SAMPLE_INDEX, "label_true": int(split.y_test[SAMPLE_INDEX]), "label_attested": proven.label},
        "timings_s": timings,
        "gas": {
            "deploy": deploy_tx.gas_used,
            "register_model": register_tx.gas_used,
            "authorize_prover": authorize_tx.gas_used,
            "submit_attestation": submission.tx.gas_used,
        },
        "gas_floor_submit": floor,
        "gas_ratio_submit": round(submission.tx.gas_used / floor, 4),
        "submit_calldata_bytes": len(submission.tx.calldata),
        "latency_to_receipt_s": submission.tx.latency_s,
        "attestation": {"path": str(att_path), "bundle": str(bundle_path), "digest": hex32(submission.digest)},
        "verified_offchain": report.valid,
        "recorded_onchain": onchain.recorded,
        "tamper_rejected_offchain": not tamper_offchain.valid,
        "tamper_reason_offchain": tamper_offchain.reason,
        "tamper_rejected_onchain": tamper_onchain_error is not None,
        "tamper_error_onchain": tamper_onchain_error,
        "signed_wrong_output": {
            "rejected_offchain": not lie_offchain.valid,
            "recorded_by_registry": lie_recorded,
            "why": "the registry checks the signer, not the computation: use re-execution or optimistic mode",
        },
    }
