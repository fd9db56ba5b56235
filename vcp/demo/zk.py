"""`vcp demo --mode zk`: the same model proven with EZKL, verified off-chain and on the same chain,
next to the signed and optimistic modes measured in the same run."""

from __future__ import annotations

import dataclasses
import secrets
import time
from pathlib import Path
from typing import Any

from vcp import zk
from vcp.chain.nodes import open_chain
from vcp.chain.registry import Registry
from vcp.chain.tx import Sender
from vcp.commit.commitments import ModelCommitment, input_commitment
from vcp.model.datasets import load_digits_split
from vcp.demo.signed import run_demo
from vcp.demo.optimistic import run_optimistic_demo
from vcp.commit.encoding import int8_bytes
from vcp.errors import ContractReverted
from vcp.model.builtin import demo_model

TRUST = {
    "signed": ("an authorised key claims this output for this input and model", "the prover's key"),
    "optimistic": ("the result stands unless one re-executed neuron disproves it in the window",
                   "one honest watcher, and the trace being available (forced reveal)"),
    "zk": ("the output follows from the committed model and input", "the proof system and its setup (SRS)"),
}


def run_zk_demo(chain_kind: str = "anvil", rpc_url: str | None = None, out_dir: Path | None = None,
                srs: Path | None = None, compare: bool = True) -> dict[str, Any]:
    model = demo_model()
    root = ModelCommitment(model).root
    x = model.quantize_input(load_digits_split().x_test[0])
    circuit = zk.prepare_circuit(model, calibration=x[None, :], srs=srs)
    proof = zk.prove(circuit, x)
    started = time.perf_counter()
    ok_offchain = zk.verify_offchain(circuit, proof)
    verify_s = time.perf_counter() - started
    with open_chain(chain_kind, rpc_url) as chain:
        chain_id = chain.chain_id
        owner = Sender(chain)
        owner.ensure_funded()
        registry, _ = Registry.deploy(owner)
        registry.register_model(owner, root)
        deployed = registry.deploy_zk_verifier(owner, circuit.verifier_bytecode)
        verifier = deployed.contract_address
        registry.set_zk_verifier(owner, root, verifier, circuit.input_scale, circuit.in_width, circuit.out_width)
        in_salt, out_salt = secrets.token_bytes(32), secrets.token_bytes(32)
        att = zk.attestation_for(proof, owner.address, root, in_salt, out_salt, nonce=1)
        sub = registry.submit_zk(owner, att, proof.proof, list(proof.instances), int8_bytes(x), in_salt, out_salt)
        recorded = registry.recorded_digest(owner.address, 1) == att.digest(registry.domain)

        def rejected(attempt) -> str | None:
            try:
                attempt()
            except ContractReverted as exc:
                return exc.error_name or "reverted"
            return None

        flipped = bytes([proof.proof[0] ^ 1]) + proof.proof[1:]
        flipped_error = rejected(lambda: registry.submit_zk(
            owner, dataclasses.replace(att, nonce=2, trace_root=zk.keccak256(flipped)), flipped,
            list(proof.instances), int8_bytes(x), in_salt, out_salt))
        changed = list(proof.instances)
        changed[-1] = (changed[-1] + 1) % zk.BN254_R
        from vcp.commit.encoding import zk_output_commitment

        changed_error = rejected(lambda: registry.submit_zk(
            owner, dataclasses.replace(att, nonce=3, output_commitment=zk_output_commitment(out_salt, changed[len(x):])),
            proof.proof, changed, int8_bytes(x), in_salt, out_salt))
        other = model.quantize_input(load_digits_split().x_test[1])
        other_error = rejected(lambda: registry.submit_zk(
            owner, dataclasses.replace(att, nonce=4, input_commitment=input_commitment(in_salt, other)),
            proof.proof, list(proof.instances), int8_bytes(other), in_salt, out_salt))
    result: dict[str, Any] = {
        "chain": chain_kind if not rpc_url else "rpc", "chain_id": chain_id, "mode": "zk",
        "model": {"name": model.name, "params": model.param_count, "widths": model.widths},
        "ezkl": zk.ezkl_version(), "logrows": circuit.logrows, "srs": "local, UNSAFE for production" if
        circuit.srs_unsafe else str(circuit.srs_path),
        "setup_s": circuit.setup_s, "setup_cached": circuit.setup_s == 0.0, "prove_s": proof.prove_s,
        "prove_peak_rss_mb": proof.peak_rss_mb, "proof_bytes": len(proof.proof),
        "proving_key_bytes": circuit.pk_bytes, "verify_offchain_s": verify_s, "verified_offchain": ok_offchain,
        "gas": {"deploy_verifier": deployed.gas_used, "submit_zk_attestation": sub.tx.gas_used},
        "recorded_onchain": recorded,
        "rejected": {"flipped_proof_bit": flipped_error, "changed_public_output": changed_error,
                     "proof_for_another_input": other_error},
    }
    if compare:
        signed = run_demo(chain_kind, rpc_url, Path(out_dir or ".vcp/demo"), repeats=11)
        optimistic = run_optimistic_demo(chain_kind, rpc_url, out_dir)
        t = signed["timings_s"]
        neuron_disputes = [c["gas_fraud_proof"] for c in optimistic["cheats"] if c["name"] in
                           ("wrong_output", "wrong_hidden_layer", "other_weights")]
        result["comparison"] = [
            {"mode": "signed", "prover_s": t["inference"] + t["commit"] + t["sign"], "proof_bytes": 65,
             "verify_offchain_s": t["verify_offchain"], "verify_gas": signed["gas"]["submit_attestation"],
             "deploy_gas": signed["gas"]["deploy"], "finality": "the receipt",
             "guarantees": TRUST["signed"][0], "trust": TRUST["signed"][1]},
            {"mode": "optimistic", "prover_s": t["inference"] + t["commit"], "proof_bytes": 0,
             "verify_offchain_s": t["verify_offchain"],
             "verify_gas": sum(optimistic["gas"][k] for k in ("open_job", "submit_result", "finalize")),
             "dispute_gas": max(neuron_disputes), "deploy_gas": optimistic["gas"]["deploy"],
             "finality": f"{optimistic['dispute']['blocks_to_finality']} blocks (challenge window)",
             "guarantees": TRUST["optimistic"][0], "trust": TRUST["optimistic"][1]},
            {"mode": "zk", "prover_s": proof.prove_s, "proof_bytes": len(proof.proof), "verify_offchain_s": verify_s,
             "verify_gas": sub.tx.gas_used, "deploy_gas": deployed.gas_used, "finality": "the receipt (on proof)",
             "guarantees": TRUST["zk"][0], "trust": TRUST["zk"][1]},
        ]
    return result
