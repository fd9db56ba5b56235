"""Off-chain verification: re-execute, re-commit, and check the signature of an attestation."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vcp.attestation import hex32, recover_signer
from vcp.commitments import ModelCommitment, input_commitment, output_commitment, trace_root
from vcp.errors import AttestationMismatch, InvalidInput, VerificationFailed
from vcp.files import AttestationFile, TraceBundle
from vcp.quantize import QuantizedModel

CHECKS = (
    "model root", "trace bundle model", "input commitment", "re-execution", "trace root", "output commitment",
    "signature",
)


@dataclass(frozen=True)
class VerificationReport:
    """The outcome of verifying one attestation; ``reason`` is set when ``valid`` is False."""

    valid: bool
    reason: str | None
    digest: str
    signer: str | None
    label: int | None
    checks_passed: tuple[str, ...]
    seconds: float


class _Checks:
    def __init__(self) -> None:
        self.passed: list[str] = []

    def equal(self, where: str, attested: bytes, recomputed: bytes) -> None:
        if attested != recomputed:
            raise AttestationMismatch(where, hex32(attested), hex32(recomputed))
        self.passed.append(where)


def verify_attestation(
    signed: AttestationFile,
    bundle: TraceBundle,
    model: QuantizedModel,
    expected_prover: str | None = None,
    model_commitment: ModelCommitment | None = None,
) -> VerificationReport:
    """Check everything an attestation claims. Never raises for an invalid attestation: the
    report says which check failed first."""
    started = time.perf_counter()
    checks = _Checks()
    att = signed.attestation
    signer = None
    label = None
    try:
        commitment = model_commitment or ModelCommitment(model)
        checks.equal("model root", att.model_root, commitment.root)
        checks.equal("trace bundle model", att.model_root, bundle.model_root)
        checks.equal("input commitment", att.input_commitment, input_commitment(bundle.input_salt, bundle.input))
        try:
            recomputed = [v[0] for v in model.trace(bundle.input)]
        except InvalidInput as exc:
            raise VerificationFailed(f"re-execution: {exc}") from exc
        if len(recomputed) != len(bundle.trace):
            raise VerificationFailed(f"re-execution: trace has {len(bundle.trace)} vectors, model makes {len(recomputed)}")
        for layer, (got, want) in enumerate(zip(bundle.trace, recomputed)):
            if got.shape != want.shape or not np.array_equal(got, want):
                raise VerificationFailed(f"re-execution: layer {layer} of the trace differs from the model's output")
        checks.passed.append("re-execution")
        label = int(np.argmax(recomputed[-1]))
        checks.equal("trace root", att.trace_root, trace_root(recomputed))
        checks.equal("output commitment", att.output_commitment, output_commitment(bundle.output_salt, recomputed[-1]))
        try:
            signer = recover_signer(att, signed.domain, signed.signature)
        except InvalidInput as exc:
            raise VerificationFailed(f"signature: {exc}") from exc
        if signer != att.prover:
            raise VerificationFailed(f"signature: signed by {signer}, not by the attested prover {att.prover}")
        if expected_prover is not None and signer.lower() != expected_prover.lower():
            raise VerificationFailed(f"signature: prover {signer} is not the expected {expected_prover}")
        checks.passed.append("signature")
        valid, reason = True, None
    except VerificationFailed as exc:
        valid, reason = False, exc.reason
    return VerificationReport(
        valid=valid, reason=reason, digest=hex32(att.digest(signed.domain)), signer=signer, label=label,
        checks_passed=tuple(checks.passed), seconds=time.perf_counter() - started,
    )


def verify_files(attestation_path: Path, model: QuantizedModel, bundle_path: Path | None = None,
                 expected_prover: str | None = None) -> VerificationReport:
    """Load an attestation file and its bundle (checking the bundle's sha256) and verify them."""
    signed = AttestationFile.load(attestation_path)
    path = bundle_path or signed.resolve_bundle(attestation_path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read trace bundle {path}: {exc.strerror or exc}") from exc
    if hashlib.sha256(raw).hexdigest() != signed.bundle_sha256:
        return VerificationReport(False, f"trace bundle {path} is not the one the attestation names (sha256 differs)",
                                  hex32(signed.attestation.digest(signed.domain)), None, None, (), 0.0)
    return verify_attestation(signed, TraceBundle.load(path), model, expected_prover)
