"""Off-chain verification: recompute every commitment from the trace bundle, re-execute the
model, and check the signature of an attestation."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vcp_toolkit.attest.eip712 import Domain, Signable, Signature, domain_error, hex32, recover_signer
from vcp_toolkit.commit.commitments import ModelCommitment, input_commitment, output_commitment, trace_root
from vcp_toolkit.errors import AttestationMismatch, InvalidInput, VerificationFailed
from vcp_toolkit.attest.files import (AttestationFile, BatchFile, TraceBundle, ZkAttestationFile, load_attestation_file,
                              printable, read_bounded)
from vcp_toolkit.model.graph.graph import IntGraph
from vcp_toolkit.model.quantize import QuantizedModel

CHECKS = (
    "domain", "model root", "model section", "trace bundle model", "input commitment", "re-execution", "trace root",
    "output commitment", "signature",
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

    def holds(self, where: str, failure: str | None) -> None:
        if failure is not None:
            raise VerificationFailed(failure)
        self.passed.append(where)


def model_section_error(name: str, params: int | None, model: QuantizedModel) -> str | None:
    """The file's unsigned model section must describe the model its (signed) root names."""
    if name != model.name or (params is not None and params != model.param_count):
        return (f"model section: the file names {printable(name[:60])!r} with {params} params, the model is "
                f"{printable(model.name)!r} with {model.param_count}")
    return None


def reexecute(bundle_trace: tuple[np.ndarray, ...], model: QuantizedModel) -> list[np.ndarray]:
    """The model's own trace for the bundle's input; raises VerificationFailed where they differ."""
    try:
        recomputed = [v[0] for v in model.trace(bundle_trace[0])]
    except InvalidInput as exc:
        raise VerificationFailed(f"re-execution: {exc}") from exc
    if len(recomputed) != len(bundle_trace):
        raise VerificationFailed(f"re-execution: trace has {len(bundle_trace)} vectors, model makes {len(recomputed)}")
    for layer, (got, want) in enumerate(zip(bundle_trace, recomputed)):
        if got.shape != want.shape or not np.array_equal(got, want):
            raise VerificationFailed(f"re-execution: layer {layer} of the trace differs from the model's output")
    return recomputed


def recover(message: Signable, domain: Domain, signature: Signature) -> str:
    try:
        return recover_signer(message, domain, signature)
    except InvalidInput as exc:
        raise VerificationFailed(f"signature: {exc}") from exc


def require_signer(message: Signable, signer: str, expected_prover: str | None) -> None:
    """The signer must be the message's prover (and ``expected_prover`` when given)."""
    if signer != message.prover:
        raise VerificationFailed(f"signature: signed by {signer}, not by the attested prover {message.prover}")
    if expected_prover is not None and signer.lower() != expected_prover.lower():
        raise VerificationFailed(f"signature: prover {signer} is not the expected {printable(expected_prover)}")


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
    signer = label = None
    try:
        checks.holds("domain", domain_error(signed.domain))
        checks.equal("model root", att.model_root, (model_commitment or ModelCommitment(model)).root)
        checks.holds("model section", model_section_error(signed.model_name, signed.model_params, model))
        checks.equal("trace bundle model", att.model_root, bundle.model_root)
        checks.equal("input commitment", att.input_commitment, input_commitment(bundle.input_salt, bundle.input))
        recomputed = reexecute(bundle.trace, model)
        checks.passed.append("re-execution")
        label = int(np.argmax(recomputed[-1]))
        checks.equal("trace root", att.trace_root, trace_root(recomputed))
        checks.equal("output commitment", att.output_commitment, output_commitment(bundle.output_salt, recomputed[-1]))
        signer = recover(att, signed.domain, signed.signature)
        require_signer(att, signer, expected_prover)
        checks.passed.append("signature")
        valid, reason = True, None
    except VerificationFailed as exc:
        valid, reason = False, exc.reason
    return VerificationReport(
        valid=valid, reason=reason, digest=hex32(att.digest(signed.domain)), signer=signer, label=label,
        checks_passed=tuple(checks.passed), seconds=time.perf_counter() - started,
    )


def read_named_bundle(signed: AttestationFile | BatchFile, file_path: Path, bundle_path: Path | None,
                      what: str) -> tuple[Path, bytes, bool]:
    """(path, bytes, sha256 matches) of the bundle a file names: ``bundle_path`` when the user gave
    one, else the file's own path, resolved inside the file's folder. Read once, bounded."""
    path = Path(bundle_path) if bundle_path is not None else signed.resolve_bundle(file_path)
    raw = read_bounded(path, what)
    return path, raw, hashlib.sha256(raw).hexdigest() == signed.bundle_sha256


def verify_signed_file(signed: AttestationFile, attestation_path: Path, model: QuantizedModel,
                       bundle_path: Path | None = None, expected_prover: str | None = None) -> VerificationReport:
    path, raw, same = read_named_bundle(signed, attestation_path, bundle_path, "trace bundle")
    if not same:
        return VerificationReport(False, f"trace bundle {printable(path)} is not the one the attestation names "
                                  "(sha256 differs)", hex32(signed.attestation.digest(signed.domain)), None, None, (),
                                  0.0)
    bundle = TraceBundle.from_bytes(raw, f"trace bundle {printable(path)}")  # the bytes just hashed, not a re-read
    if isinstance(model, IntGraph):
        from vcp_toolkit.verifier._graph_offchain import verify_graph_attestation

        return verify_graph_attestation(signed, bundle, model, expected_prover)
    return verify_attestation(signed, bundle, model, expected_prover)


def verify_files(attestation_path: Path, model: QuantizedModel, bundle_path: Path | None = None,
                 expected_prover: str | None = None) -> VerificationReport:
    """Load an attestation file and its bundle (checking the bundle's sha256) and verify them."""
    signed = AttestationFile.load(attestation_path)
    return verify_signed_file(signed, attestation_path, model, bundle_path, expected_prover)


def verify_zk(signed: ZkAttestationFile, model: QuantizedModel, circuit=None) -> VerificationReport:
    """A zk attestation off-chain: the registry's domain, the model section, then check_zk_attestation's
    check (bindings and EZKL's verifier). EZKL missing raises ToolMissing: not checked."""
    from vcp_toolkit import verifier  # looked up on the package: the CLI tests stub verifier.check_zk_attestation

    started = time.perf_counter()
    checks = _Checks()
    try:
        checks.holds("domain", domain_error(signed.domain))
        checks.holds("model section", model_section_error(signed.model_name, None, model))
        valid, reason = verifier.check_zk_attestation(signed, model, circuit)
        checks.holds("zk proof", None if valid else (reason or "zk proof: invalid"))
        valid, reason = True, None
    except VerificationFailed as exc:
        valid, reason = False, exc.reason
    return VerificationReport(valid, reason, hex32(signed.attestation.digest(signed.domain)), None, None,
                              tuple(checks.passed), time.perf_counter() - started)


load_any = load_attestation_file  # the one loader: vcp.attest.files


def verify_loaded(signed: AttestationFile | BatchFile | ZkAttestationFile, path: Path, model: QuantizedModel,
                  bundle_path: Path | None = None, expected_prover: str | None = None) -> VerificationReport:
    """Every off-chain check of a parsed file of any kind (``path`` is where it was read from)."""
    from vcp_toolkit.verifier._batch import verify_batch_signed

    if isinstance(signed, ZkAttestationFile):
        if bundle_path is not None or expected_prover is not None:
            raise InvalidInput("a zk attestation has no bundle and no signer: drop --bundle / --prover")
        return verify_zk(signed, model)
    if isinstance(signed, BatchFile):
        if isinstance(model, IntGraph):
            raise InvalidInput("batch files of a CNN are checked by vcp_toolkit.verifier.verify_batch in Python; "
                               "the command line checks their single and zk files")
        return verify_batch_signed(signed, path, model, bundle_path, expected_prover)
    return verify_signed_file(signed, path, model, bundle_path, expected_prover)


def verify_any(path: Path, model: QuantizedModel, bundle_path: Path | None = None,
               expected_prover: str | None = None) -> VerificationReport:
    """Whatever the file is (single, batch or zk, by its format header), every off-chain check."""
    return verify_loaded(load_any(path), path, model, bundle_path, expected_prover)
