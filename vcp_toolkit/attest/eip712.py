"""The attestation: what a prover signs (EIP-712), mirrored by contracts/src/AttestationRegistry.sol.

    Attestation(address prover,bytes32 modelRoot,bytes32 inputCommitment,
                bytes32 outputCommitment,bytes32 traceRoot,bytes32 jobId,uint256 nonce)
    AttestationBatch(address prover,bytes32 modelRoot,bytes32 recordsRoot,uint256 count,uint256 nonce)

under the domain {name: "vcp", version: "1", chainId, verifyingContract}: a signature is valid on
one chain for one registry only, and the registry accepts each (prover, nonce) once.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any, Union

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_keys import KeyAPI
from eth_keys.exceptions import BadSignature, ValidationError
from eth_utils import is_hex_address, keccak, to_checksum_address

from vcp_toolkit.errors import InvalidInput

DOMAIN_NAME = "vcp"
DOMAIN_VERSION = "1"
ZERO_JOB = b"\x00" * 32
SECP256K1_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0

DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
ATTESTATION_FIELDS = [
    {"name": "prover", "type": "address"},
    {"name": "modelRoot", "type": "bytes32"},
    {"name": "inputCommitment", "type": "bytes32"},
    {"name": "outputCommitment", "type": "bytes32"},
    {"name": "traceRoot", "type": "bytes32"},
    {"name": "jobId", "type": "bytes32"},
    {"name": "nonce", "type": "uint256"},
]
BATCH_FIELDS = [
    {"name": "prover", "type": "address"},
    {"name": "modelRoot", "type": "bytes32"},
    {"name": "recordsRoot", "type": "bytes32"},
    {"name": "count", "type": "uint256"},
    {"name": "nonce", "type": "uint256"},
]


def _type_string(name: str, fields: list[dict[str, str]]) -> str:
    return name + "(" + ",".join(f"{f['type']} {f['name']}" for f in fields) + ")"


ATTESTATION_TYPE = _type_string("Attestation", ATTESTATION_FIELDS)
ATTESTATION_TYPEHASH = keccak(text=ATTESTATION_TYPE)
BATCH_TYPE = _type_string("AttestationBatch", BATCH_FIELDS)
BATCH_TYPEHASH = keccak(text=BATCH_TYPE)


def hex32(value: bytes) -> str:
    return "0x" + value.hex()


_HEX32 = re.compile(r"0x[0-9a-fA-F]{64}")


def parse_bytes32(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not _HEX32.fullmatch(value):
        raise InvalidInput(f"{what} must be a 0x-prefixed 32-byte hex string")
    return bytes.fromhex(value[2:])


def parse_address(value: Any, what: str) -> str:
    if not isinstance(value, str) or not is_hex_address(value):
        raise InvalidInput(f"{what} must be a 0x-prefixed 20-byte address")
    return to_checksum_address(value)


_DECIMAL = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() also takes "²" and other Unicode digits


def parse_uint(value: Any, what: str, bits: int = 256) -> int:
    """An unsigned integer below ``2**bits``, given as a JSON integer or a string of ASCII digits.
    The string's length is bounded before int() sees it."""
    if isinstance(value, bool):
        raise InvalidInput(f"{what} must be an unsigned integer")
    if isinstance(value, str):
        if len(value) > len(str(2**bits)) or not _DECIMAL.fullmatch(value):
            raise InvalidInput(f"{what} must be a decimal unsigned integer below 2**{bits} (ASCII digits 0-9 only)")
        value = int(value, 10)
    if not isinstance(value, int) or not 0 <= value < 2**bits:
        raise InvalidInput(f"{what} must be an integer in [0, 2**{bits})")
    return value


def exact_keys(data: Any, keys: tuple[str, ...], what: str) -> dict:
    """``data`` as a dict with exactly ``keys``: a missing key or an unknown one is refused, so no
    field can ride along unchecked."""
    if not isinstance(data, dict):
        raise InvalidInput(f"{what} must be a JSON object")
    unknown = [k for k in data if k not in keys]
    if unknown:
        shown = ", ".join(repr(str(k)[:40]) for k in unknown[:3]) + (", ..." if len(unknown) > 3 else "")
        raise InvalidInput(f"{what} has unknown key(s) {shown}: remove them (the format is strict)")
    missing = [k for k in keys if k not in data]
    if missing:
        raise InvalidInput(f"{what} lacks key(s) {', '.join(map(repr, missing))}")
    return data


def domain_error(domain: "Domain") -> str | None:
    """Why the registry would refuse a signature under ``domain`` whatever the chain, or None: it
    only takes name "vcp", version "1" (contracts/src/AttestationRegistry.sol)."""
    if (domain.name, domain.version) != (DOMAIN_NAME, DOMAIN_VERSION):
        return (f"domain: name {domain.name[:40]!r} version {domain.version[:40]!r} is not the registry's "
                f"(name {DOMAIN_NAME!r}, version {DOMAIN_VERSION!r})")
    return None


@dataclass(frozen=True)
class Domain:
    """EIP-712 domain: binds a signature to one chain and one registry contract."""

    chain_id: int
    verifying_contract: str
    name: str = DOMAIN_NAME
    version: str = DOMAIN_VERSION

    def __post_init__(self) -> None:
        # One spelling of the address, so the typed data a file carries compares equal.
        object.__setattr__(self, "verifying_contract", parse_address(self.verifying_contract, "verifyingContract"))

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "chainId": self.chain_id,
                "verifyingContract": self.verifying_contract}

    @classmethod
    def from_json(cls, data: Any) -> "Domain":
        data = exact_keys(data, ("name", "version", "chainId", "verifyingContract"), "domain")
        name, version = data.get("name"), data.get("version")
        if not isinstance(name, str) or not isinstance(version, str):
            raise InvalidInput("domain name and version must be strings")
        return cls(chain_id=parse_uint(data.get("chainId"), "domain.chainId"),
                   verifying_contract=parse_address(data.get("verifyingContract"), "domain.verifyingContract"),
                   name=name, version=version)


@dataclass(frozen=True)
class Attestation:
    """The signed claim: ``prover`` ran model ``model_root`` on a committed input and got a committed output."""

    prover: str
    model_root: bytes
    input_commitment: bytes
    output_commitment: bytes
    trace_root: bytes
    job_id: bytes = ZERO_JOB
    nonce: int = 0

    def message(self) -> dict[str, Any]:
        """The EIP-712 message; nonce as a decimal string so JSON readers keep all 256 bits."""
        return {
            "prover": self.prover,
            "modelRoot": hex32(self.model_root),
            "inputCommitment": hex32(self.input_commitment),
            "outputCommitment": hex32(self.output_commitment),
            "traceRoot": hex32(self.trace_root),
            "jobId": hex32(self.job_id),
            "nonce": str(self.nonce),
        }

    @classmethod
    def from_message(cls, data: Any) -> "Attestation":
        data = exact_keys(data, tuple(f["name"] for f in ATTESTATION_FIELDS), "attestation")
        return cls(
            prover=parse_address(data.get("prover"), "prover"),
            model_root=parse_bytes32(data.get("modelRoot"), "modelRoot"),
            input_commitment=parse_bytes32(data.get("inputCommitment"), "inputCommitment"),
            output_commitment=parse_bytes32(data.get("outputCommitment"), "outputCommitment"),
            trace_root=parse_bytes32(data.get("traceRoot"), "traceRoot"),
            job_id=parse_bytes32(data.get("jobId"), "jobId"),
            nonce=parse_uint(data.get("nonce"), "nonce"),
        )

    def as_tuple(self) -> tuple:
        """The Solidity struct, field by field, for contract calls."""
        return (self.prover, self.model_root, self.input_commitment, self.output_commitment,
                self.trace_root, self.job_id, self.nonce)

    def typed_data(self, domain: Domain) -> dict[str, Any]:
        """Exactly what ``eth_signTypedData_v4`` takes."""
        return {
            "types": {"EIP712Domain": DOMAIN_FIELDS, "Attestation": ATTESTATION_FIELDS},
            "primaryType": "Attestation",
            "domain": domain.as_json(),
            "message": self.message(),
        }

    def digest(self, domain: Domain) -> bytes:
        """The EIP-712 hash ``keccak256(0x1901 || domainSeparator || structHash)``."""
        signable = encode_typed_data(full_message=self.typed_data(domain))
        return keccak(b"\x19" + signable.version + signable.header + signable.body)


@dataclass(frozen=True)
class BatchAttestation:
    """One signature over ``count`` inference records: ``records_root`` is the Merkle root of
    their record leaves (vcp.commit.encoding.record_payload), in order."""

    prover: str
    model_root: bytes
    records_root: bytes
    count: int
    nonce: int = 0

    def message(self) -> dict[str, Any]:
        return {
            "prover": self.prover,
            "modelRoot": hex32(self.model_root),
            "recordsRoot": hex32(self.records_root),
            "count": str(self.count),
            "nonce": str(self.nonce),
        }

    @classmethod
    def from_message(cls, data: Any) -> "BatchAttestation":
        data = exact_keys(data, tuple(f["name"] for f in BATCH_FIELDS), "batch attestation")
        return cls(
            prover=parse_address(data.get("prover"), "prover"),
            model_root=parse_bytes32(data.get("modelRoot"), "modelRoot"),
            records_root=parse_bytes32(data.get("recordsRoot"), "recordsRoot"),
            count=parse_uint(data.get("count"), "count"),
            nonce=parse_uint(data.get("nonce"), "nonce"),
        )

    def as_tuple(self) -> tuple:
        return (self.prover, self.model_root, self.records_root, self.count, self.nonce)

    def typed_data(self, domain: Domain) -> dict[str, Any]:
        return {
            "types": {"EIP712Domain": DOMAIN_FIELDS, "AttestationBatch": BATCH_FIELDS},
            "primaryType": "AttestationBatch",
            "domain": domain.as_json(),
            "message": self.message(),
        }

    def digest(self, domain: Domain) -> bytes:
        signable = encode_typed_data(full_message=self.typed_data(domain))
        return keccak(b"\x19" + signable.version + signable.header + signable.body)


Signable = Union[Attestation, BatchAttestation]


def random_nonce() -> int:
    """A fresh 128-bit nonce: unique per prover without any local counter to lose."""
    return secrets.randbits(128)


@dataclass(frozen=True)
class Signature:
    """secp256k1 signature in the (v, r, s) form ecrecover takes; ``v`` is 27 or 28."""

    v: int
    r: bytes
    s: bytes

    def to_bytes(self) -> bytes:
        return self.r + self.s + bytes([self.v])

    def to_hex(self) -> str:
        return "0x" + self.to_bytes().hex()

    @classmethod
    def from_bytes(cls, raw: bytes) -> "Signature":
        if len(raw) != 65:
            raise InvalidInput(f"signature must be 65 bytes (r || s || v), got {len(raw)}")
        v = raw[64] + 27 if raw[64] in (0, 1) else raw[64]
        return cls(v=v, r=raw[:32], s=raw[32:64])

    @classmethod
    def from_hex(cls, text: Any) -> "Signature":
        if not isinstance(text, str) or not text.startswith("0x"):
            raise InvalidInput("signature must be a 0x-prefixed hex string")
        try:
            return cls.from_bytes(bytes.fromhex(text[2:]))
        except ValueError as exc:
            raise InvalidInput("signature is not valid hex") from exc

    @property
    def is_canonical(self) -> bool:
        """Low-s and v in {27, 28}: the only form the registry accepts (no malleability)."""
        return self.v in (27, 28) and 0 < int.from_bytes(self.s, "big") <= SECP256K1_HALF_N


def sign_attestation(attestation: Signable, domain: Domain, private_key: bytes) -> Signature:
    signed = Account.sign_typed_data(private_key, full_message=attestation.typed_data(domain))
    return Signature(v=signed.v, r=signed.r.to_bytes(32, "big"), s=signed.s.to_bytes(32, "big"))


def recover_signer(attestation: Signable, domain: Domain, signature: Signature) -> str:
    """The address that signed; raises InvalidInput for a malformed or non-canonical signature."""
    if not signature.is_canonical:
        raise InvalidInput("signature is not canonical (high s or bad v)")
    vrs = (signature.v - 27, int.from_bytes(signature.r, "big"), int.from_bytes(signature.s, "big"))
    try:
        public_key = KeyAPI.Signature(vrs=vrs).recover_public_key_from_msg_hash(attestation.digest(domain))
    except (BadSignature, ValidationError) as exc:
        raise InvalidInput(f"signature does not recover: {exc}") from exc
    return public_key.to_checksum_address()
