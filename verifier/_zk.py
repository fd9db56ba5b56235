"""The zk verifier: EZKL's own verification of a proof, and every binding a zk attestation claims
(the same ones the registry checks), off-chain."""

from __future__ import annotations

import json
import os
import shutil
import time

from vcp_toolkit.commit.commitments import input_commitment
from vcp_toolkit.commit.encoding import BN254_R, keccak256, zk_output_commitment
from vcp_toolkit.model.graph.graph import IntGraph
from vcp_toolkit.model.quantize import QuantizedModel
from vcp_toolkit.zk import ZkCircuit, ZkProof, ezkl_version, prepare_circuit, require_ezkl
from vcp_toolkit.zk.circuit import CircuitModel


def verify_zk_proof(circuit: ZkCircuit, proof: ZkProof) -> bool:
    """EZKL's own verifier on a proof (rebuilt from its bytes and public values)."""
    ezkl = require_ezkl()
    work = circuit.directory / f"verify-{os.getpid()}-{time.monotonic_ns()}"
    work.mkdir()
    try:
        # EZKL's own file, with the proof bytes and public values as this object holds them now.
        instances = [(v % BN254_R).to_bytes(32, "little").hex() for v in proof.instances]
        data = {**proof.proof_file, "instances": [instances],
                "proof": list(proof.proof), "hex_proof": "0x" + proof.proof.hex()}
        (work / "proof.json").write_text(json.dumps(data))
        try:
            return bool(ezkl.verify(str(work / "proof.json"), str(circuit.path("settings.json")),
                                    str(circuit.path("vk.key")), str(circuit.srs_path)))
        except Exception:  # EZKL raises on an invalid proof rather than returning False
            return False
    finally:
        shutil.rmtree(work, ignore_errors=True)


def check_zk_attestation(signed, model: QuantizedModel | IntGraph,
                         circuit: ZkCircuit | None = None) -> tuple[bool, str | None]:
    """Everything a zk attestation claims, off-chain: the same bindings the registry checks, and
    EZKL's own verification of the proof. Returns (valid, reason)."""
    att = signed.attestation
    if att.model_root != CircuitModel.of(model).root:
        return False, "model root: the attestation names another model"
    circuit = circuit or prepare_circuit(model)
    reason = _binding_error(signed, circuit)
    if reason is not None:
        return False, reason
    proof = ZkProof(signed.proof, tuple(signed.instances), signed.input, 0.0, 0.0,
                    {"protocol": None, "split": None, "pretty_public_inputs": None, "timestamp": 0,
                     "version": ezkl_version()})
    if not verify_zk_proof(circuit, proof):
        return False, "proof: EZKL's verifier rejects it"
    return True, None


def _binding_error(signed, circuit: ZkCircuit) -> str | None:
    """The first of the attestation's bindings (public values, commitments, proof hash) that does not hold."""
    att = signed.attestation
    n_in, n_out = circuit.in_width, circuit.out_width
    if len(signed.instances) != n_in + n_out or len(signed.input) != n_in:
        return "public values: wrong count for this model"
    if input_commitment(signed.input_salt, signed.input) != att.input_commitment:
        return "input commitment: the input does not open it"
    if list(signed.instances[:n_in]) != circuit.public_inputs(signed.input):
        return "public inputs: the proof was made for another input"
    if zk_output_commitment(signed.output_salt, list(signed.instances[n_in:])) != att.output_commitment:
        return "output commitment: not the proof's public outputs"
    if keccak256(signed.proof) != att.trace_root:
        return "trace root: not the hash of the proof"
    return None
