"""Byte encodings of everything vcp hashes: the one spec, mirrored by contracts/src/VcpEncoding.sol.

All integers are big-endian, fixed width (Solidity ``abi.encodePacked`` of the same types);
int8 vectors are one two's-complement byte per value. Hashes are keccak256.

    leaf hash      = keccak256(0x00 || payload)          payload starts with a kind byte
    node hash      = keccak256(0x01 || left || right)
    input commit   = keccak256(0x02 || salt32 || uint32 n || int8[n] values)
    output commit  = keccak256(0x03 || salt32 || uint32 n || int8[n] values)
    zk output      = keccak256(0x04 || salt32 || uint32 n || uint256[n] public outputs of the proof)

    header payload     = "H" || uint16 layers || uint32 inWidth || uint32 outWidth
                             || uint32 neurons || bytes32 metadataDigest
    neuron payload     = "N" || uint16 layer || uint32 row || uint32 inWidth || uint32 outWidth
                             || int32 bias || uint32 multiplier || uint8 shift || uint8 activation
                             || int8[inWidth] weights
    activation payload = "A" || uint16 index || uint32 n || int8[n] values
    record payload     = "R" || bytes32 inputCommitment || bytes32 outputCommitment || bytes32 traceRoot

The first byte of every hashed message is a domain tag, so a leaf can never be read as an inner
node (64-byte second preimage) nor a commitment as either.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from vcp_toolkit.errors import InvalidInput

try:  # C keccak (safe-pysha3): ~5x faster than the pure-binding fallback, same bytes
    from sha3 import keccak_256 as _keccak_256

    def keccak256(data: bytes) -> bytes:
        """keccak256 (Ethereum's, not NIST SHA3-256)."""
        return _keccak_256(data).digest()
except ImportError:  # pragma: no cover - exercised only where the wheel is missing
    from eth_utils import keccak as _eth_keccak

    def keccak256(data: bytes) -> bytes:
        """keccak256 (Ethereum's, not NIST SHA3-256)."""
        return _eth_keccak(data)

DOMAIN_LEAF = b"\x00"
DOMAIN_NODE = b"\x01"
DOMAIN_INPUT = b"\x02"
DOMAIN_OUTPUT = b"\x03"
DOMAIN_ZK_OUTPUT = b"\x04"

KIND_HEADER = b"H"
KIND_NEURON = b"N"
KIND_ACTIVATION = b"A"
KIND_RECORD = b"R"

ZERO_HASH = b"\x00" * 32  # padding leaf: no payload hashes to it


def u(value: int, width: int) -> bytes:
    """Unsigned big-endian integer of ``width`` bytes."""
    return int(value).to_bytes(width, "big", signed=False)


def s(value: int, width: int) -> bytes:
    """Signed (two's complement) big-endian integer of ``width`` bytes."""
    return int(value).to_bytes(width, "big", signed=True)


def int8_bytes(values: np.ndarray) -> bytes:
    return np.ascontiguousarray(values, dtype=np.int8).tobytes()


def _vector(values: np.ndarray) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InvalidInput(f"expected one int8 vector, got shape {arr.shape}")
    return arr


def leaf_hash(payload: bytes) -> bytes:
    return keccak256(DOMAIN_LEAF + payload)


def node_hash(left: bytes, right: bytes) -> bytes:
    return keccak256(DOMAIN_NODE + left + right)


def header_payload(layers: int, in_width: int, out_width: int, neurons: int, metadata_digest: bytes) -> bytes:
    return KIND_HEADER + u(layers, 2) + u(in_width, 4) + u(out_width, 4) + u(neurons, 4) + metadata_digest


def neuron_payload(
    layer: int, row: int, in_width: int, out_width: int, bias: int, multiplier: int, shift: int,
    activation: int, weights: np.ndarray,
) -> bytes:
    # The byte layout only: like VcpEncoding.sol it does not tie len(weights) to in_width
    # (OptimisticInference checks that before recomputing a neuron).
    _vector(weights)
    return (
        KIND_NEURON + u(layer, 2) + u(row, 4) + u(in_width, 4) + u(out_width, 4) + s(bias, 4)
        + u(multiplier, 4) + u(shift, 1) + u(activation, 1) + int8_bytes(weights)
    )


def activation_payload(index: int, values: np.ndarray) -> bytes:
    values = _vector(values)
    return KIND_ACTIVATION + u(index, 2) + u(len(values), 4) + int8_bytes(values)


def record_payload(input_commitment: bytes, output_commitment: bytes, trace_root: bytes) -> bytes:
    """One inference of a batch: what it ran on, what it gave, and how (its trace root)."""
    return KIND_RECORD + input_commitment + output_commitment + trace_root


def salted_commitment(domain: bytes, salt: bytes, values: np.ndarray) -> bytes:
    if len(salt) != 32:
        raise InvalidInput("salt must be 32 bytes")
    values = _vector(values)
    return keccak256(domain + salt + u(len(values), 4) + int8_bytes(values))


BN254_R = 21888242871839275222246405745257275088548364400416034343698204186575808495617  # zk field


def field_element(value: int) -> int:
    """A signed integer as the BN254 scalar-field element a zk proof carries (negatives wrap)."""
    return value % BN254_R


def zk_output_commitment(salt: bytes, outputs: list[int]) -> bytes:
    """Commitment to a zk proof's public outputs (field elements), as the registry recomputes it."""
    if len(salt) != 32:
        raise InvalidInput("salt must be 32 bytes")
    return keccak256(DOMAIN_ZK_OUTPUT + salt + u(len(outputs), 4) + b"".join(u(v, 32) for v in outputs))


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the bytes hashed for model metadata."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
