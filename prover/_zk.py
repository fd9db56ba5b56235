"""The zk prover: an EZKL proof that a set-up circuit maps an int8 input to its public outputs,
and the vcp Attestation that proof stands for."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vcp_toolkit import zk
from vcp_toolkit.attest.eip712 import Attestation, random_nonce
from vcp_toolkit.attest.files import ZkAttestationFile
from vcp_toolkit.commit.commitments import input_commitment
from vcp_toolkit.commit.encoding import zk_output_commitment
from vcp_toolkit.model.fixedpoint import check_input
from vcp_toolkit.errors import ZkError
from vcp_toolkit.zk import ZkCircuit, ZkProof, require_ezkl
from vcp_toolkit.zk.backend import ezkl_failure, peak_rss_mb, run_isolated, witness_and_proof, write_input


ZERO_JOB = b"\x00" * 32


def prove_zk(circuit: ZkCircuit, x: np.ndarray, isolate: bool = True) -> ZkProof:
    """A proof that the circuit maps the int8 input ``x`` to its public outputs. With ``isolate``
    (the default) EZKL runs in a fresh process, so its peak memory is measured on its own."""
    require_ezkl()
    vector = check_input(np.asarray(x).reshape(1, -1), circuit.in_width)[0]  # a CNN's image flattened (C, H, W)
    work = circuit.directory / f"run-{os.getpid()}-{time.monotonic_ns()}"
    work.mkdir()
    try:
        write_input(work / "input.json", vector)
        files = (str(work / "input.json"), str(circuit.path("model.compiled")), str(circuit.path("pk.key")),
                 str(work / "proof.json"), str(circuit.srs_path), str(work / "witness.json"))
        elapsed, peak = _run_prover(files, isolate)
        proof_json = json.loads((work / "proof.json").read_text())
    except ZkError:
        raise
    except Exception as exc:
        raise ezkl_failure("EZKL proving failed", exc) from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    instances = tuple(int.from_bytes(bytes.fromhex(v), "little") for v in proof_json["instances"][0])
    if list(instances[:circuit.in_width]) != circuit.public_inputs(vector):
        raise ZkError("EZKL's public inputs are not the int8 codes scaled by 2**input_scale (unexpected encoding)")
    proof = bytes.fromhex(proof_json["hex_proof"].removeprefix("0x"))
    return ZkProof(proof, instances, vector, elapsed, peak, proof_json)


def _run_prover(files: tuple[str, ...], isolate: bool) -> tuple[float, float]:
    """EZKL's witness and proof, in a fresh process or this one: (seconds, peak RSS in MB)."""
    if isolate:
        return run_isolated(witness_and_proof, *files)
    before = peak_rss_mb()
    started = time.perf_counter()
    witness_and_proof(*files)
    elapsed = time.perf_counter() - started
    return elapsed, max(peak_rss_mb() - before, 0.0)


def zk_attestation_for(proof: ZkProof, submitter: str, model_root: bytes, input_salt: bytes, output_salt: bytes,
                       nonce: int, job_id: bytes = b"\x00" * 32) -> Attestation:
    """The vcp Attestation a zk proof stands for: same model root and input commitment as a
    signed one; the output commitment covers the proof's public outputs; the trace root is the
    proof's hash; the 'prover' is the account that will submit it (the registry records it under
    that account, so nobody else can use up its nonce or re-bind its job id)."""
    return Attestation(prover=submitter, model_root=model_root,
                       input_commitment=input_commitment(input_salt, proof.input),
                       output_commitment=zk_output_commitment(output_salt, list(proof.outputs)),
                       trace_root=proof.proof_hash, job_id=job_id, nonce=nonce)


@dataclass(frozen=True)
class ZkProven:
    path: Path
    proof_bytes: int
    prove_s: float
    setup_s: float  # 0 when the circuit came from the cache


def prove_zk_file(model, x: np.ndarray, domain, submitter: str, out: Path, job_id: bytes = ZERO_JOB,
                  srs: Path | None = None) -> ZkProven:
    """Prove int8 input ``x`` with EZKL and write a zk attestation file to ``out``. The registry
    records a zk attestation under the account that submits it: ``submitter`` names it."""
    circuit = zk.prepare_circuit(model, srs=srs)
    root = circuit.model_root
    proof = prove_zk(circuit, x)
    in_salt, out_salt = secrets.token_bytes(32), secrets.token_bytes(32)
    att = zk_attestation_for(proof, submitter, root, in_salt, out_salt, random_nonce(), job_id)
    circuit_info = {"ezkl": zk.ezkl_version(), "logrows": circuit.logrows, "input_scale": circuit.input_scale,
                    "srs": "local, UNSAFE for production" if circuit.srs_unsafe else str(circuit.srs_path)}
    ZkAttestationFile(att, domain, model.name, proof.proof, proof.instances, proof.input, in_salt, out_salt,
                      circuit_info).save(out)
    return ZkProven(path=out, proof_bytes=len(proof.proof), prove_s=proof.prove_s, setup_s=circuit.setup_s)
