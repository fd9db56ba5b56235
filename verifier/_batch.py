"""Off-chain verification of a batch: all records, or one."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np

from vcp.attestation import hex32, recover_signer
from vcp.commitments import ModelCommitment, commit_batch
from vcp.errors import InvalidInput
from vcp.files import BatchBundle, BatchFile
from vcp.merkle import verify_proof
from vcp.quantize import QuantizedModel
from verifier._offchain import VerificationReport


def verify_batch(signed: BatchFile, bundle: BatchBundle, model: QuantizedModel, index: int | None = None,
                 model_commitment: ModelCommitment | None = None) -> VerificationReport:
    """Re-execute every record (or only record ``index``), re-commit, rebuild the records root and
    check the one signature. ``label`` is the predicted class of record ``index`` when given."""
    started = time.perf_counter()
    batch = signed.batch
    passed: list[str] = []

    def fail(reason: str) -> VerificationReport:
        return VerificationReport(False, reason, hex32(batch.digest(signed.domain)), None, None, tuple(passed),
                                  time.perf_counter() - started)

    root = (model_commitment or ModelCommitment(model)).root
    if batch.model_root != root or bundle.model_root != root:
        return fail("model root: the batch, its bundle and the model differ")
    passed.append("model root")
    if bundle.count != batch.count:
        return fail(f"count: batch says {batch.count} records, bundle holds {bundle.count}")
    if len(bundle.traces) != len(model.layers) + 1:
        return fail(f"re-execution: bundle has {len(bundle.traces)} trace arrays, the model makes {len(model.layers) + 1}")
    rows = slice(None) if index is None else slice(index, index + 1)
    if index is not None and not 0 <= index < batch.count:
        raise InvalidInput(f"record {index} outside 0..{batch.count - 1}")
    try:
        recomputed = model.trace(bundle.traces[0][rows])
    except InvalidInput as exc:
        return fail(f"re-execution: {exc}")
    for layer, (got, want) in enumerate(zip(bundle.traces, recomputed)):
        if got[rows].shape != want.shape or not np.array_equal(got[rows], want):
            bad = np.flatnonzero(np.any(got[rows] != want, axis=1)) if got[rows].shape == want.shape else [0]
            first = int(bad[0]) + (index or 0)
            return fail(f"re-execution: record {first}, layer {layer} differs from the model's output")
    passed.append("re-execution")
    if index is None:
        commitments = commit_batch(recomputed, bundle.input_salts, bundle.output_salts)
        if commitments.root != batch.records_root:
            return fail("records root: the records do not hash to the signed root")
    else:
        one = commit_batch(recomputed, bundle.input_salts[32 * index:32 * index + 32],
                           bundle.output_salts[32 * index:32 * index + 32])
        # The other leaves are rebuilt from the bundle to get this record's proof.
        everything = commit_batch(list(bundle.traces), bundle.input_salts, bundle.output_salts)
        if not verify_proof(batch.records_root, one.leaves[0], everything.tree.proof(index)):
            return fail(f"records root: record {index} is not in the signed batch")
    passed.append("records root")
    try:
        signer = recover_signer(batch, signed.domain, signed.signature)
    except InvalidInput as exc:
        return fail(f"signature: {exc}")
    if signer != batch.prover:
        return fail(f"signature: signed by {signer}, not by the attested prover {batch.prover}")
    passed.append("signature")
    label = None if index is None else int(np.argmax(recomputed[-1][0]))
    return VerificationReport(True, None, hex32(batch.digest(signed.domain)), signer, label, tuple(passed),
                              time.perf_counter() - started)


def verify_batch_files(batch_path: Path, model: QuantizedModel, index: int | None = None) -> VerificationReport:
    signed = BatchFile.load(batch_path)
    path = signed.resolve_bundle(batch_path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read batch bundle {path}: {exc.strerror or exc}") from exc
    if hashlib.sha256(raw).hexdigest() != signed.bundle_sha256:
        return VerificationReport(False, f"batch bundle {path} is not the one the batch names (sha256 differs)",
                                  hex32(signed.batch.digest(signed.domain)), None, None, (), 0.0)
    return verify_batch(signed, BatchBundle.load(path), model, index)
