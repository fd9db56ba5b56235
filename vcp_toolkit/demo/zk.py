"""`vcp demo --mode zk`: the same model proven with EZKL, verified off-chain and on the same chain,
next to the signed and optimistic modes measured in the same run."""

from __future__ import annotations

import dataclasses
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vcp_toolkit.prover import prove_zk, zk_attestation_for
from vcp_toolkit import zk
from vcp_toolkit.attest.eip712 import Attestation
from vcp_toolkit.chain.nodes import Chain, open_chain
from vcp_toolkit.chain.registry import Registry
from vcp_toolkit.chain.tx import Sender
from vcp_toolkit.commit.commitments import ModelCommitment, input_commitment
from vcp_toolkit.model.datasets import load_digits_split
from vcp_toolkit.demo.signed import run_demo
from vcp_toolkit.demo.optimistic import run_optimistic_demo
from vcp_toolkit.commit.encoding import BN254_R, int8_bytes, keccak256, zk_output_commitment
from vcp_toolkit.errors import ContractReverted
from vcp_toolkit.model.builtin import demo_model
from vcp_toolkit.model.quantize import QuantizedModel
from vcp_toolkit.zk import ZkCircuit, ZkProof
from vcp_toolkit.verifier import verify_zk_proof

TRUST = {
    "signed": ("an authorised key claims this output for this input and model", "the prover's key"),
    "optimistic": ("the result stands unless one re-executed neuron disproves it in the window",
                   "one honest watcher, and the trace being available (forced reveal)"),
    "zk": ("the output follows from the committed model and input", "the proof system and its setup (SRS)"),
}


@dataclass(frozen=True)
class _Proven:
    """The demo input proven and checked off-chain."""

    circuit: ZkCircuit
    proof: ZkProof
    verified: bool
    verify_s: float


@dataclass(frozen=True)
class _Onchain:
    """What the chain did with the proof and with three forgeries of it."""

    chain_id: int
    deploy_gas: int
    submit_gas: int
    recorded: bool
    rejected: dict[str, str | None]


@dataclass(frozen=True)
class _Submission:
    """One zk attestation as submitted: what a forgery changes one part of."""

    registry: Registry
    owner: Sender
    att: Attestation
    proof: ZkProof
    x: np.ndarray
    in_salt: bytes
    out_salt: bytes

    def rejected(self, att: Attestation, proof: bytes, instances: list[int], x: np.ndarray) -> str | None:
        """The custom error a submission is rejected with, None if it was accepted."""
        try:
            self.registry.submit_zk(self.owner, att, proof, instances, int8_bytes(x), self.in_salt, self.out_salt)
        except ContractReverted as exc:
            return exc.error_name or "reverted"
        return None


def run_zk_demo(chain_kind: str = "anvil", rpc_url: str | None = None, out_dir: Path | None = None,
                srs: Path | None = None, compare: bool = True, hardfork: str | None = None) -> dict[str, Any]:
    model = demo_model()
    x = model.quantize_input(load_digits_split().x_test[0])
    proven = _prove(model, x, srs)
    with open_chain(chain_kind, rpc_url, hardfork) as chain:
        onchain = _run_onchain(chain, model, x, proven)
    result = _result(chain_kind, rpc_url, model, proven, onchain)
    if compare:
        result["comparison"] = _comparison(chain_kind, rpc_url, out_dir, proven, onchain, hardfork)
    return result


def _prove(model: QuantizedModel, x: np.ndarray, srs: Path | None) -> _Proven:
    circuit = zk.prepare_circuit(model, calibration=x[None, :], srs=srs)
    proof = prove_zk(circuit, x)
    started = time.perf_counter()
    ok_offchain = verify_zk_proof(circuit, proof)
    return _Proven(circuit, proof, ok_offchain, time.perf_counter() - started)


def _run_onchain(chain: Chain, model: QuantizedModel, x: np.ndarray, proven: _Proven) -> _Onchain:
    """Deploy the registry and the verifier, submit the proof, then try three forgeries."""
    circuit, proof = proven.circuit, proven.proof
    root = ModelCommitment(model).root
    owner = Sender(chain)
    owner.ensure_funded()
    registry, _ = Registry.deploy(owner)
    registry.register_model(owner, root)
    deployed = registry.deploy_zk_verifier(owner, circuit.verifier_bytecode)
    registry.set_zk_verifier(owner, root, deployed.contract_address, circuit.input_scale, circuit.in_width,
                             circuit.out_width)
    in_salt, out_salt = secrets.token_bytes(32), secrets.token_bytes(32)
    att = zk_attestation_for(proof, owner.address, root, in_salt, out_salt, nonce=1)
    sub = registry.submit_zk(owner, att, proof.proof, list(proof.instances), int8_bytes(x), in_salt, out_salt)
    recorded = registry.recorded_digest(owner.address, 1) == att.digest(registry.domain)
    submission = _Submission(registry, owner, att, proof, x, in_salt, out_salt)
    return _Onchain(chain.chain_id, deployed.gas_used, sub.tx.gas_used, recorded, _forgeries(submission, model))


def _forgeries(s: _Submission, model: QuantizedModel) -> dict[str, str | None]:
    """A flipped proof bit, a changed public output, a proof for another input: each one's revert."""
    proof, instances = s.proof.proof, list(s.proof.instances)
    flipped = bytes([proof[0] ^ 1]) + proof[1:]
    flipped_error = s.rejected(dataclasses.replace(s.att, nonce=2, trace_root=keccak256(flipped)), flipped,
                               instances, s.x)
    changed = list(instances)
    changed[-1] = (changed[-1] + 1) % BN254_R
    changed_error = s.rejected(dataclasses.replace(s.att, nonce=3, output_commitment=zk_output_commitment(
        s.out_salt, changed[len(s.x):])), proof, changed, s.x)
    other = model.quantize_input(load_digits_split().x_test[1])
    other_error = s.rejected(dataclasses.replace(s.att, nonce=4, input_commitment=input_commitment(s.in_salt, other)),
                             proof, instances, other)
    return {"flipped_proof_bit": flipped_error, "changed_public_output": changed_error,
            "proof_for_another_input": other_error}


def _result(chain_kind: str, rpc_url: str | None, model: QuantizedModel, proven: _Proven,
            onchain: _Onchain) -> dict[str, Any]:
    circuit, proof = proven.circuit, proven.proof
    return {
        "chain": chain_kind if not rpc_url else "rpc", "chain_id": onchain.chain_id, "mode": "zk",
        "model": {"name": model.name, "params": model.param_count, "widths": model.widths},
        "ezkl": zk.ezkl_version(), "logrows": circuit.logrows, "srs": "local, UNSAFE for production" if
        circuit.srs_unsafe else str(circuit.srs_path),
        "setup_s": circuit.setup_s, "setup_cached": circuit.setup_s == 0.0, "prove_s": proof.prove_s,
        "prove_peak_rss_mb": proof.peak_rss_mb, "proof_bytes": len(proof.proof),
        "proving_key_bytes": circuit.pk_bytes, "verify_offchain_s": proven.verify_s,
        "verified_offchain": proven.verified,
        "gas": {"deploy_verifier": onchain.deploy_gas, "submit_zk_attestation": onchain.submit_gas},
        "recorded_onchain": onchain.recorded,
        "rejected": onchain.rejected,
    }


def _comparison(chain_kind: str, rpc_url: str | None, out_dir: Path | None, proven: _Proven,
                onchain: _Onchain, hardfork: str | None = None) -> list[dict[str, Any]]:
    """The three modes side by side: the signed and optimistic demos run on the same chain."""
    signed = run_demo(chain_kind, rpc_url, Path(out_dir or ".vcp/demo"), repeats=11, hardfork=hardfork)
    optimistic = run_optimistic_demo(chain_kind, rpc_url, out_dir, hardfork=hardfork)
    t = signed["timings_s"]
    neuron_disputes = [c["gas_fraud_proof"] for c in optimistic["cheats"] if c["name"] in
                       ("wrong_output", "wrong_hidden_layer", "other_weights")]
    return [
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
        {"mode": "zk", "prover_s": proven.proof.prove_s, "proof_bytes": len(proven.proof.proof),
         "verify_offchain_s": proven.verify_s, "verify_gas": onchain.submit_gas, "deploy_gas": onchain.deploy_gas,
         "finality": "the receipt (on proof)", "guarantees": TRUST["zk"][0], "trust": TRUST["zk"][1]},
    ]
