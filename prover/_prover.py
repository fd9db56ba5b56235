"""Run the model, commit to what ran, sign the attestation."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vcp_toolkit.attest.eip712 import ZERO_JOB, Attestation, Domain, Signature, random_nonce, sign_attestation
from vcp_toolkit.commit.commitments import ModelCommitment, input_commitment, output_commitment, trace_root
from vcp_toolkit.attest.files import AttestationFile, TraceBundle
from vcp_toolkit.errors import InvalidInput
from vcp_toolkit.model.fixedpoint import check_input
from vcp_toolkit.attest.keys import SigningKey
from vcp_toolkit.model.quantize import QuantizedModel


@dataclass(frozen=True)
class ProverTimings:
    """Seconds spent in each step of one proof."""

    inference_s: float
    commit_s: float
    sign_s: float

    @property
    def total_s(self) -> float:
        return self.inference_s + self.commit_s + self.sign_s


@dataclass(frozen=True, eq=False)
class ProvenInference:
    """A signed attestation and the trace bundle that backs it."""

    attestation: Attestation
    domain: Domain
    signature: Signature
    bundle: TraceBundle
    model_name: str
    model_params: int
    timings: ProverTimings

    @property
    def digest(self) -> bytes:
        return self.attestation.digest(self.domain)

    @property
    def label(self) -> int:
        return self.bundle.label

    def save(self, attestation_path: Path) -> tuple[Path, Path]:
        """Write the bundle, then the attestation that points at it (both atomic)."""
        attestation_path = Path(attestation_path)
        stem = attestation_path.name.removesuffix(".json")
        bundle_path = attestation_path.with_name(f"{stem}.trace.json")
        sha = self.bundle.save(bundle_path)
        AttestationFile(
            attestation=self.attestation, domain=self.domain, signature=self.signature,
            model_name=self.model_name, model_params=self.model_params,
            bundle_path=bundle_path.name, bundle_sha256=sha,
        ).save(attestation_path)
        return attestation_path, bundle_path


class Prover:
    """Proves inferences of one model for one registry (the EIP-712 domain) with one key."""

    def __init__(self, model: QuantizedModel, key: SigningKey, domain: Domain) -> None:
        self.model = model
        self.key = key
        self.domain = domain
        self.commitment = ModelCommitment(model)
        self.model_root = self.commitment.root  # computed once: hashing every neuron is the slow part

    @property
    def address(self) -> str:
        return self.key.address

    def prove(self, x: np.ndarray, job_id: bytes = ZERO_JOB, nonce: int | None = None,
              input_salt: bytes | None = None, output_salt: bytes | None = None) -> ProvenInference:
        """Attest one int8 input vector (see QuantizedModel.quantize_input for float inputs)."""
        vector = check_input(x, self.model.input_width)
        if vector.shape[0] != 1:
            raise InvalidInput("prove takes one input vector; call it once per sample")
        t0 = time.perf_counter()
        trace = [v[0] for v in self.model.trace(vector)]
        t1 = time.perf_counter()
        input_salt = input_salt or secrets.token_bytes(32)
        output_salt = output_salt or secrets.token_bytes(32)
        attestation = Attestation(
            prover=self.address,
            model_root=self.model_root,
            input_commitment=input_commitment(input_salt, trace[0]),
            output_commitment=output_commitment(output_salt, trace[-1]),
            trace_root=trace_root(trace),
            job_id=job_id,
            nonce=random_nonce() if nonce is None else nonce,
        )
        t2 = time.perf_counter()
        signature = sign_attestation(attestation, self.domain, self.key.reveal())
        t3 = time.perf_counter()
        return ProvenInference(
            attestation=attestation, domain=self.domain, signature=signature,
            bundle=TraceBundle(self.model_root, input_salt, output_salt, tuple(trace)),
            model_name=self.model.name, model_params=self.model.param_count,
            timings=ProverTimings(inference_s=t1 - t0, commit_s=t2 - t1, sign_s=t3 - t2),
        )
