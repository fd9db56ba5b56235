"""Library work behind the commands that has no home yet in the packages it belongs to; staged here
so that it is callable from Python with one import and the command modules only parse and print.
No argparse, no printing. Destinations (files this change does not own):

- ``prove_zk_file``: a zk attestation file from ``prover.prove_zk`` -> ``prover/_zk.py``;
  ``require_zk_verifier`` -> a typed ``Registry.zk_verifier(root)`` in ``vcp/chain/registry.py``.
- ``journal_file``, ``prove_range``, ``prove_and_land``: -> ``vcp/ops`` (journal, submitter).
- ``inspect_onnx``: -> ``vcp/model/onnx_io``.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from vcp.errors import InvalidInput

__all__ = ["ZkProven", "inspect_onnx", "journal_file", "prove_and_land", "prove_range", "prove_zk_file",
           "require_zk_verifier"]

ZERO_JOB = b"\x00" * 32


def _add_to_journal(journal, attestation_path: Path):
    from vcp.ops.submitter import load_any

    loaded = load_any(attestation_path)
    return journal.add(loaded.digest, loaded.kind, attestation_path, loaded.chain_id, loaded.registry,
                       loaded.prover, loaded.nonce)


def journal_file(journal_path: Path, attestation_path: Path):
    """Record an attestation file of any kind in the journal at ``journal_path`` (idempotent)."""
    from vcp.ops.journal import Journal

    with Journal(journal_path) as journal:
        return _add_to_journal(journal, attestation_path)


def prove_range(prover, samples: np.ndarray, indices: Sequence[int], out: Path, journal) -> list[Path]:
    """Prove float ``samples[i]`` for each index into ``out/input-{i}.json``, each written and
    journaled before anything is sent. A file already there (proven before a crash) is kept: its
    nonce may be on-chain."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in indices:
        path = out / f"input-{index}.json"
        if not path.exists():
            prover.prove(prover.model.quantize_input(samples[index])).save(path)
        _add_to_journal(journal, path)
        paths.append(path)
    return paths


def prove_and_land(submitter, prover, samples: np.ndarray, indices: Sequence[int], out: Path) -> dict[str, int]:
    """``prove_range``, then land every file through ``submitter``; killed at any point and run
    again, it redoes nothing that was done. Returns the journal's counts by status."""
    for path in prove_range(prover, samples, indices, out, submitter.journal):
        submitter.submit(path)
    return submitter.journal.counts()


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


def inspect_onnx(model: Path, calibration: Path | None = None, validation: Path | None = None,
                 output: str | None = None) -> dict[str, Any]:
    """Import and quantize an ONNX model and measure its agreement with onnxruntime: the report
    ``vcp inspect`` prints."""
    from vcp.commit.commitments import ModelCommitment
    from vcp.model.onnx_import import import_onnx
    from vcp.model.onnx_io import agreement, describe, load_calibration, quantize_imported

    started = time.perf_counter()
    imported = import_onnx(model, output)
    x, how = load_calibration(calibration, imported.model.input_width)
    qmodel = quantize_imported(imported, x, how)
    import_s = time.perf_counter() - started
    check = load_calibration(validation, imported.model.input_width)[0] if validation else x
    agree = agreement(model, imported, qmodel, check)
    return {
        "model": str(model), "head": imported.head, "output": imported.output_name,
        "input_shape": list(imported.input_shape), "params": qmodel.param_count, "widths": qmodel.widths,
        "layers": describe(qmodel), "quantization": how, "identity": imported.identity,
        "model_root": "0x" + ModelCommitment(qmodel).root.hex(), "import_and_quantize_s": import_s,
        "agreement": {"inputs": "validation" if validation else "calibration", "samples": agree.samples,
                      "top1": agree.top1_agreement, "max_abs_diff": agree.max_abs_diff,
                      "float_import_vs_onnxruntime_top1": agree.float_vs_reference_top1},
    }
