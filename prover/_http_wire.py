"""What `vcp serve --http` and its client say to each other: the request, the attested answer
(JSON, strict both ways) and the client's errors.

    POST /infer  {"input": [floats]} or {"int8": [ints]}, and optionally "request_id": "..."
      200        an answer (``AttestedAnswer.to_json``): the int8 input and output, both salts, the
                 record (input and output commitments, trace root) and either a signed attestation
                 (window 0) or the signed batch with the record's index and inclusion proof
      4xx        {"error": "..."}: what is wrong with the request and how to fix it

Client errors (all VcpError):

    ServingError                  anything a call to the server can raise
    ├── ServerUnavailable         no answer: connection refused or lost, timeout, 5xx
    ├── RequestRejected           the server refused the request (4xx); ``status``, ``reason``
    └── AnswerInvalid             an answer that does not verify (a VerificationFailed too)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from vcp_toolkit.attest.eip712 import (Attestation, BatchAttestation, Domain, Signature, exact_keys, hex32,
                                       parse_bytes32)
from vcp_toolkit.errors import InvalidInput, VcpError, VerificationFailed

ANSWER_FORMAT = "vcp.inference-answer"
ANSWER_VERSION = 1
MAX_REQUEST_BYTES = 64 * 1024
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
MAX_PROOF_DEPTH = 32


class ServingError(VcpError):
    """A call to an attested-inference server failed."""


class ServerUnavailable(ServingError):
    """The server gave no answer: connection refused or lost, a timeout, or a 5xx status."""


class RequestRejected(ServingError, InvalidInput):
    """The server refused the request (a 4xx status) and said why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"the server refused the request ({status}): {reason}")
        self.status = status
        self.reason = reason


class AnswerInvalid(ServingError, VerificationFailed):
    """An answer whose signature, inclusion proof or commitments do not hold."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) != len(pairs):
        raise InvalidInput("duplicate key in a JSON object: send each key once")
    return data


def _no_constant(name: str) -> None:
    raise InvalidInput(f"{name} is not JSON: send finite numbers")


def loads(raw: bytes, what: str) -> Any:
    """Strict JSON on the serving path: no duplicate keys, no NaN or Infinity, UTF-8 only; an
    integer over Python's digit limit is refused like any malformed body (bodies are at most
    64 KiB, so nesting is bounded too)."""
    try:  # decoded here: json.loads on bytes would also take UTF-16 and UTF-32
        return json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise InvalidInput(f"{what} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except ValueError as exc:  # an integer of over 4,300 digits
        raise InvalidInput(f"{what}: {str(exc)[:120]}") from None
    except RecursionError:
        raise InvalidInput(f"{what} is nested too deeply") from None


@dataclass(frozen=True)
class InferenceRequest:
    """One parsed request: the int8 input (quantized by the server when floats were sent)."""

    values: np.ndarray
    request_id: str | None


def _numbers(values: Any, width: int, key: str) -> np.ndarray:
    if not isinstance(values, list) or len(values) != width:
        shown = f"{len(values)} values" if isinstance(values, list) else type(values).__name__
        raise InvalidInput(f"'{key}' must be a list of {width} numbers, got {shown}")
    types = set(map(type, values))  # exact types: bool is an int subclass, and must not pass as one
    if not types <= {int, float}:
        raise InvalidInput(f"'{key}' must hold numbers only (no strings, booleans, null or lists)")
    if key == "int8":
        if types != {int} or min(values) < -128 or max(values) > 127:
            raise InvalidInput("'int8' values must be integers in [-128, 127]")
        return np.array(values, dtype=np.int8)
    with np.errstate(over="ignore"):
        arr = np.array(values, dtype=np.float64)  # an integer over float range fails here
    if not np.all(np.isfinite(arr)):
        raise InvalidInput("'input' values must be finite (no numbers beyond float range)")
    return arr


def parse_request(raw: bytes, model) -> InferenceRequest:
    """A request body, strictly: JSON without duplicate keys, NaN or huge integers; exactly one of
    "input" (floats, quantized as the model does) or "int8"; an optional request id."""
    data = loads(raw, "request body")
    if not isinstance(data, dict):
        raise InvalidInput('request body must be a JSON object like {"input": [...]}')
    unknown = sorted(set(data) - {"input", "int8", "request_id"})
    if unknown:
        raise InvalidInput(f"request body has unknown key(s) {', '.join(repr(k[:40]) for k in unknown[:3])}: "
                           'send "input" or "int8", and optionally "request_id"')
    if ("input" in data) == ("int8" in data):
        raise InvalidInput('request body needs exactly one of "input" (floats) or "int8" (quantized codes)')
    request_id = data.get("request_id")
    if request_id is not None and (not isinstance(request_id, str) or not _REQUEST_ID.fullmatch(request_id)):
        raise InvalidInput("'request_id' must be 1 to 64 characters of A-Z a-z 0-9 . _ : -")
    key = "int8" if "int8" in data else "input"
    values = _numbers(data[key], model.input_width, key)
    x = values if key == "int8" else model.quantize_input(values)
    return InferenceRequest(x, request_id)


def _int8_list(values: Any, what: str) -> np.ndarray:
    if not isinstance(values, list) or not values or set(map(type, values)) != {int} or min(values) < -128 or \
            max(values) > 127:
        raise InvalidInput(f"answer: {what} must be a non-empty list of int8 values")
    return np.array(values, dtype=np.int8)


def _salt(value: Any, what: str) -> bytes:
    return parse_bytes32(value, f"answer: {what}")


def _frozen(data: Any) -> Any:
    """A JSON object as a hashable key (only flat objects of scalars are cached)."""
    if isinstance(data, dict) and all(isinstance(v, (str, int)) for v in data.values()):
        return tuple(sorted(data.items()))
    return None


@lru_cache(maxsize=1024)
def _cached(kind: str, frozen: tuple) -> Domain | BatchAttestation:
    """Every answer of a batch repeats its domain and batch: parse them (checksummed addresses,
    ~0.3 ms each) once."""
    data = dict(frozen)
    return Domain.from_json(data) if kind == "domain" else BatchAttestation.from_message(data)


def _parse_once(kind: str, data: Any) -> Any:
    frozen = _frozen(data)
    if frozen is None:
        return Domain.from_json(data) if kind == "domain" else BatchAttestation.from_message(data)
    return _cached(kind, frozen)


@dataclass(frozen=True, eq=False)
class AttestedAnswer:
    """One answer as the server sent it: nothing in it is trusted until verify_answer says so."""

    domain: Domain
    request_id: str | None
    input: np.ndarray
    output: np.ndarray
    input_salt: bytes
    output_salt: bytes
    input_commitment: bytes
    output_commitment: bytes
    trace_root: bytes
    signature: Signature
    attestation: Attestation | None = None
    batch: BatchAttestation | None = None
    index: int = 0
    proof: tuple[bytes, ...] = ()

    @property
    def label(self) -> int:
        return int(np.argmax(self.output))

    @property
    def record(self) -> tuple[bytes, bytes, bytes]:
        """The record as the registry's ``verifyRecord`` takes it."""
        return self.input_commitment, self.output_commitment, self.trace_root

    def to_json(self) -> dict[str, Any]:
        return {
            "format": ANSWER_FORMAT, "version": ANSWER_VERSION, "request_id": self.request_id,
            "domain": self.domain.as_json(), "input": self.input.tolist(), "output": self.output.tolist(),
            "input_salt": hex32(self.input_salt), "output_salt": hex32(self.output_salt),
            "record": {"inputCommitment": hex32(self.input_commitment),
                       "outputCommitment": hex32(self.output_commitment), "traceRoot": hex32(self.trace_root)},
            "attestation": None if self.attestation is None else self.attestation.message(),
            "batch": None if self.batch is None else self.batch.message(),
            "index": self.index, "proof": [hex32(p) for p in self.proof], "signature": self.signature.to_hex(),
        }

    @classmethod
    def from_json(cls, data: Any) -> "AttestedAnswer":
        keys = ("format", "version", "request_id", "domain", "input", "output", "input_salt", "output_salt",
                "record", "attestation", "batch", "index", "proof", "signature")
        data = exact_keys(data, keys, "answer")
        if data["format"] != ANSWER_FORMAT or data["version"] != ANSWER_VERSION:
            raise InvalidInput(f"answer: not a {ANSWER_FORMAT} version {ANSWER_VERSION}")
        record = exact_keys(data["record"], ("inputCommitment", "outputCommitment", "traceRoot"), "answer record")
        if (data["attestation"] is None) == (data["batch"] is None):
            raise InvalidInput("answer: exactly one of attestation and batch must be given")
        index, proof = data["index"], data["proof"]
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise InvalidInput("answer: index must be a non-negative integer")
        if not isinstance(proof, list) or len(proof) > MAX_PROOF_DEPTH:
            raise InvalidInput(f"answer: proof must be a list of at most {MAX_PROOF_DEPTH} hashes")
        request_id = data["request_id"]
        if request_id is not None and not isinstance(request_id, str):
            raise InvalidInput("answer: request_id must be a string or null")
        return cls(
            domain=_parse_once("domain", data["domain"]), request_id=request_id,
            input=_int8_list(data["input"], "input"), output=_int8_list(data["output"], "output"),
            input_salt=_salt(data["input_salt"], "input_salt"), output_salt=_salt(data["output_salt"], "output_salt"),
            input_commitment=_salt(record["inputCommitment"], "record.inputCommitment"),
            output_commitment=_salt(record["outputCommitment"], "record.outputCommitment"),
            trace_root=_salt(record["traceRoot"], "record.traceRoot"),
            signature=Signature.from_hex(data["signature"]),
            attestation=None if data["attestation"] is None else Attestation.from_message(data["attestation"]),
            batch=None if data["batch"] is None else _parse_once("batch", data["batch"]),
            index=index, proof=tuple(_salt(p, "proof hash") for p in proof),
        )

    @classmethod
    def from_bytes(cls, raw: bytes) -> "AttestedAnswer":
        try:
            return cls.from_json(loads(raw, "answer"))
        except InvalidInput as exc:
            raise AnswerInvalid(f"malformed answer: {exc}") from None


def error_text(message: str) -> str:
    return json.dumps({"error": message})
