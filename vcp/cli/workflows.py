"""Library work behind the commands that has no home yet in the packages it belongs to; staged here
so that it is callable from Python with one import and the command modules only parse and print.
No argparse, no printing. Destinations (files this change does not own):

- ``prove_zk_file``: a zk attestation file from ``prover.prove_zk`` -> ``prover/_zk.py``;
  ``require_zk_verifier`` -> a typed ``Registry.zk_verifier(root)`` in ``vcp/chain/registry.py``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vcp.errors import InvalidInput

__all__ = ["ZkProven", "prove_zk_file", "require_zk_verifier"]

ZERO_JOB = b"\x00" * 32


def require_zk_verifier(registry, model_root: bytes) -> str:
    """The zk verifier the registry holds for ``model_root``; InvalidInput when there is none."""
    info = registry.contract.functions.zkVerifier(model_root).call()
    if int(info[0], 16) == 0:
        raise InvalidInput("no zk verifier is registered for this model: run `vcp deploy --zk` first")
    return info[0]


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
    from prover import prove_zk, zk_attestation_for
    from vcp import zk
    from vcp.attest.eip712 import random_nonce
    from vcp.attest.files import ZkAttestationFile
    from vcp.commit.commitments import ModelCommitment

    root = ModelCommitment(model).root
    circuit = zk.prepare_circuit(model, srs=srs)
    proof = prove_zk(circuit, x)
    in_salt, out_salt = secrets.token_bytes(32), secrets.token_bytes(32)
    att = zk_attestation_for(proof, submitter, root, in_salt, out_salt, random_nonce(), job_id)
    circuit_info = {"ezkl": zk.ezkl_version(), "logrows": circuit.logrows, "input_scale": circuit.input_scale,
                    "srs": "local, UNSAFE for production" if circuit.srs_unsafe else str(circuit.srs_path)}
    ZkAttestationFile(att, domain, model.name, proof.proof, proof.instances, proof.input, in_salt, out_salt,
                      circuit_info).save(out)
    return ZkProven(path=out, proof_bytes=len(proof.proof), prove_s=proof.prove_s, setup_s=circuit.setup_s)
