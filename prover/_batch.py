"""Batched attestation: N inferences, one records root, one signature."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vcp_toolkit.prover._prover import Prover, ProverTimings
from vcp_toolkit.attest.eip712 import BatchAttestation, Domain, Signature, random_nonce, sign_attestation
from vcp_toolkit.commit.commitments import BatchCommitments, commit_batch
from vcp_toolkit.attest.files import BatchBundle, BatchFile
from vcp_toolkit.errors import InvalidInput
from vcp_toolkit.model.fixedpoint import check_input


@dataclass(frozen=True, eq=False)
class ProvenBatch:
    batch: BatchAttestation
    domain: Domain
    signature: Signature
    bundle: BatchBundle
    commitments: BatchCommitments
    model_name: str
    timings: ProverTimings

    @property
    def digest(self) -> bytes:
        return self.batch.digest(self.domain)

    def save(self, batch_path: Path) -> tuple[Path, Path]:
        """Bundle first (npz), then the batch file that names it; both atomic."""
        batch_path = Path(batch_path)
        bundle_path = batch_path.with_name(batch_path.name.removesuffix(".json") + ".bundle.npz")
        sha = self.bundle.save(bundle_path)
        BatchFile(self.batch, self.domain, self.signature, self.model_name, bundle_path.name, sha).save(batch_path)
        return batch_path, bundle_path

    def record_proof(self, index: int) -> tuple[tuple[bytes, bytes, bytes], list[bytes]]:
        """(record, sibling hashes) for the registry's ``verifyRecord``."""
        c = self.commitments
        record = (c.input_commitments[index], c.output_commitments[index], c.trace_roots[index])
        return record, list(c.tree.proof(index).siblings)


def prove_batch(prover: Prover, x: np.ndarray, nonce: int | None = None) -> ProvenBatch:
    """Run the model on every row of ``x`` (int8, shape (N, width)), commit to each record and
    sign the records root once."""
    batch_x = check_input(x, prover.model.input_width)
    count = batch_x.shape[0]
    if count == 0:
        raise InvalidInput("a batch needs at least one input")
    t0 = time.perf_counter()
    traces = prover.model.trace(batch_x)
    t1 = time.perf_counter()
    salts = os.urandom(64 * count)
    input_salts, output_salts = salts[:32 * count], salts[32 * count:]
    commitments = commit_batch(traces, input_salts, output_salts)
    batch = BatchAttestation(prover=prover.address, model_root=prover.model_root, records_root=commitments.root,
                             count=count, nonce=random_nonce() if nonce is None else nonce)
    t2 = time.perf_counter()
    signature = sign_attestation(batch, prover.domain, prover.key.reveal())
    t3 = time.perf_counter()
    return ProvenBatch(
        batch=batch, domain=prover.domain, signature=signature,
        bundle=BatchBundle(prover.model_root, tuple(traces), input_salts, output_salts),
        commitments=commitments, model_name=prover.model.name,
        timings=ProverTimings(inference_s=t1 - t0, commit_s=t2 - t1, sign_s=t3 - t2),
    )
