"""On-chain verification: is this exact attestation (single, batch or zk) recorded by the registry
it names?"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from vcp_toolkit.attest.eip712 import Attestation, BatchAttestation, hex32
from vcp_toolkit.chain.boundary import chain_errors
from vcp_toolkit.chain.registry import ModelStatus, Registry
from vcp_toolkit.attest.files import AttestationFile, BatchFile, ZkAttestationFile

SignedFile = Union[AttestationFile, BatchFile, ZkAttestationFile]


@dataclass(frozen=True)
class OnchainStatus:
    recorded: bool
    reason: str | None
    model_status: ModelStatus
    prover_authorized: bool


def signed_message(signed: SignedFile) -> Attestation | BatchAttestation:
    """What the registry records for a file: its attestation, or its batch."""
    return signed.batch if isinstance(signed, BatchFile) else signed.attestation


def check_onchain(registry: Registry, signed: SignedFile) -> OnchainStatus:
    """Recorded means: same registry and chain as the domain, and the digest stored for
    (prover, nonce) equals this file's digest (a zk attestation is stored under its submitter,
    which it names as its prover). A node that does not answer raises ChainError: that is
    "could not check", never "not recorded"."""
    message = signed_message(signed)
    with chain_errors("checking the registry"):
        status = registry.model_status(message.model_root)
        authorized = registry.is_prover(message.prover)
        if signed.domain != registry.domain:
            return OnchainStatus(False, f"attestation is for chain {signed.domain.chain_id} registry "
                                 f"{signed.domain.verifying_contract}, not this one", status, authorized)
        stored = registry.recorded_digest(message.prover, message.nonce)
    if stored == b"\x00" * 32:
        return OnchainStatus(False, "not recorded on-chain (never submitted)", status, authorized)
    if stored != message.digest(signed.domain):
        return OnchainStatus(False, f"the registry holds another attestation for this nonce ({hex32(stored)})",
                             status, authorized)
    return OnchainStatus(True, None, status, authorized)
