"""Off-chain verification of a batch: all records, or one."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from vcp_toolkit.attest.eip712 import domain_error, hex32
from vcp_toolkit.commit.commitments import ModelCommitment, commit_batch
from vcp_toolkit.errors import InvalidInput, VerificationFailed
from vcp_toolkit.attest.files import BatchBundle, BatchFile, printable
from vcp_toolkit.commit.merkle import verify_proof
from vcp_toolkit.model.quantize import QuantizedModel
from vcp_toolkit.verifier._offchain import VerificationReport, model_section_error, read_named_bundle, recover, require_signer


def _reexecute_rows(bundle: BatchBundle, model: QuantizedModel, index: int | None) -> list[np.ndarray]:
    rows = slice(None) if index is None else slice(index, index + 1)
    try:
        recomputed = model.trace(bundle.traces[0][rows])
    except InvalidInput as exc:
        raise VerificationFailed(f"re-execution: {exc}") from exc
    for layer, (got, want) in enumerate(zip(bundle.traces, recomputed)):
        if got[rows].shape != want.shape or not np.array_equal(got[rows], want):
            bad = np.flatnonzero(np.any(got[rows] != want, axis=1)) if got[rows].shape == want.shape else [0]
            raise VerificationFailed(f"re-execution: record {int(bad[0]) + (index or 0)}, layer {layer} differs "
                                     "from the model's output")
    return recomputed


def _check_records_root(signed: BatchFile, bundle: BatchBundle, recomputed: list[np.ndarray],
                        index: int | None) -> None:
    batch = signed.batch
    if index is None:
        if commit_batch(recomputed, bundle.input_salts, bundle.output_salts).root != batch.records_root:
            raise VerificationFailed("records root: the records do not hash to the signed root")
        return
    one = commit_batch(recomputed, bundle.input_salts[32 * index:32 * index + 32],
                       bundle.output_salts[32 * index:32 * index + 32])
    # The other leaves are rebuilt from the bundle to get this record's proof, of exactly the
    # depth the signed count implies.
    everything = commit_batch(list(bundle.traces), bundle.input_salts, bundle.output_salts)
    if not verify_proof(batch.records_root, one.leaves[0], everything.tree.proof(index), batch.count):
        raise VerificationFailed(f"records root: record {index} is not in the signed batch")


def _check_shape(signed: BatchFile, bundle: BatchBundle, model: QuantizedModel, root: bytes) -> None:
    batch = signed.batch
    if batch.model_root != root or bundle.model_root != root:
        raise VerificationFailed("model root: the batch, its bundle and the model differ")
    failure = model_section_error(signed.model_name, None, model)
    if failure:
        raise VerificationFailed(failure)
    if bundle.count != batch.count:
        raise VerificationFailed(f"count: batch says {batch.count} records, bundle holds {bundle.count}")
    if len(bundle.traces) != len(model.layers) + 1:
        raise VerificationFailed(f"re-execution: bundle has {len(bundle.traces)} trace arrays, the model makes "
                                 f"{len(model.layers) + 1}")


def verify_batch(signed: BatchFile, bundle: BatchBundle, model: QuantizedModel, index: int | None = None,
                 model_commitment: ModelCommitment | None = None,
                 expected_prover: str | None = None) -> VerificationReport:
    """Re-execute every record (or only record ``index``), re-commit, rebuild the records root and
    check the one signature. ``label`` is the predicted class of record ``index`` when given."""
    started = time.perf_counter()
    batch = signed.batch
    if index is not None and not 0 <= index < batch.count:
        raise InvalidInput(f"record {index} outside 0..{batch.count - 1}")
    passed: list[str] = []
    signer = label = None
    try:
        _fail_if(domain_error(signed.domain))
        passed.append("domain")
        _check_shape(signed, bundle, model, (model_commitment or ModelCommitment(model)).root)
        passed.append("model root")
        recomputed = _reexecute_rows(bundle, model, index)
        passed.append("re-execution")
        _check_records_root(signed, bundle, recomputed, index)
        passed.append("records root")
        signer = recover(batch, signed.domain, signed.signature)
        require_signer(batch, signer, expected_prover)
        passed.append("signature")
        label = None if index is None else int(np.argmax(recomputed[-1][0]))
        valid, reason = True, None
    except VerificationFailed as exc:
        valid, reason = False, exc.reason
    return VerificationReport(valid, reason, hex32(batch.digest(signed.domain)), signer, label, tuple(passed),
                              time.perf_counter() - started)


def _fail_if(reason: str | None) -> None:
    if reason is not None:
        raise VerificationFailed(reason)


def verify_batch_signed(signed: BatchFile, batch_path: Path, model: QuantizedModel, bundle_path: Path | None = None,
                        expected_prover: str | None = None, index: int | None = None) -> VerificationReport:
    """A parsed batch file: its bundle (``bundle_path`` or the one it names, inside its folder),
    read once and bounded, must hash to the sha256 it names; then verify_batch."""
    path, raw, same = read_named_bundle(signed, batch_path, bundle_path, "batch bundle")
    if not same:
        return VerificationReport(False, f"batch bundle {printable(path)} is not the one the batch names (sha256 "
                                  "differs)", hex32(signed.batch.digest(signed.domain)), None, None, (), 0.0)
    bundle = BatchBundle.from_bytes(raw, f"batch bundle {printable(path)}")
    return verify_batch(signed, bundle, model, index, expected_prover=expected_prover)


def verify_batch_files(batch_path: Path, model: QuantizedModel, index: int | None = None,
                       bundle_path: Path | None = None, expected_prover: str | None = None) -> VerificationReport:
    return verify_batch_signed(BatchFile.load(batch_path), batch_path, model, bundle_path, expected_prover, index)
