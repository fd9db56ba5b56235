"""On-chain verification: is this exact attestation recorded by the registry it names?"""

from __future__ import annotations

from dataclasses import dataclass

from vcp.attestation import hex32
from vcp.chain.registry import ModelStatus, Registry
from vcp.files import AttestationFile


@dataclass(frozen=True)
class OnchainStatus:
    recorded: bool
    reason: str | None
    model_status: ModelStatus
    prover_authorized: bool


def check_onchain(registry: Registry, signed: AttestationFile) -> OnchainStatus:
    """Recorded means: same registry and chain as the domain, and the digest stored for
    (prover, nonce) equals this attestation's digest."""
    att = signed.attestation
    status = registry.model_status(att.model_root)
    authorized = registry.is_prover(att.prover)
    if signed.domain != registry.domain:
        return OnchainStatus(False, f"attestation is for chain {signed.domain.chain_id} registry "
                             f"{signed.domain.verifying_contract}, not this one", status, authorized)
    stored = registry.recorded_digest(att.prover, att.nonce)
    if stored == b"\x00" * 32:
        return OnchainStatus(False, "not recorded on-chain (never submitted)", status, authorized)
    if stored != att.digest(signed.domain):
        return OnchainStatus(False, f"the registry holds another attestation for this nonce ({hex32(stored)})",
                             status, authorized)
    return OnchainStatus(True, None, status, authorized)
