"""What a zk proof is, as both sides hold it: the proof bytes and its public values."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vcp_toolkit.commit.encoding import BN254_R, keccak256


def decode_field(value: int) -> int:
    """A field element back to a signed integer (values above r/2 are negative)."""
    return value - BN254_R if value > BN254_R // 2 else value


@dataclass(frozen=True)
class ZkProof:
    proof: bytes
    instances: tuple[int, ...]
    input: np.ndarray  # the int8 codes proven
    prove_s: float
    peak_rss_mb: float
    proof_file: dict  # EZKL's proof.json, for its own verifier

    @property
    def outputs(self) -> tuple[int, ...]:
        return self.instances[len(self.input):]

    @property
    def proof_hash(self) -> bytes:
        return keccak256(self.proof)
