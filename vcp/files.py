"""On-disk formats: the attestation file and the trace bundle (versioned JSON), written atomically.

Attestation file (``format: vcp.attestation``, ``version: 1``)::

    {"format", "version",
     "attestation": {EIP-712 message},  "domain": {EIP-712 domain},
     "typed_data": {exactly what eth_signTypedData_v4 takes},
     "digest": "0x..", "signature": "0x<r><s><v>",
     "model": {"name", "root", "params"},
     "trace_bundle": {"path": relative path, "sha256": hex}}

Trace bundle (``format: vcp.trace``, ``version: 1``): the input and its salt, the output salt and
every layer's int8 activations, so anyone can re-run and re-commit.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from vcp.attestation import Attestation, BatchAttestation, Domain, Signature, hex32, parse_bytes32, parse_uint
from vcp.errors import InvalidAttestationFile, InvalidInput

ATTESTATION_FORMAT = "vcp.attestation"
TRACE_FORMAT = "vcp.trace"
VERSION = 1
MAX_FILE_BYTES = 64 * 2**20  # a trace of the widest supported model is far below this


def write_atomic(path: Path, data: bytes) -> None:
    """Write-then-rename with fsync: a crash leaves the old file or the new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def dump_json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=False) + "\n").encode()


@contextmanager
def shallow_recursion(limit: int = 2_000) -> Iterator[None]:
    """py-evm raises the interpreter's recursion limit to 100,000 on import; a deeply nested
    JSON file would then overflow the C stack inside json.loads instead of raising RecursionError."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(min(previous, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


def read_json(path: Path, what: str) -> Any:
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InvalidInput(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    if size > MAX_FILE_BYTES:
        raise InvalidAttestationFile(f"{what} {path} is {size} bytes, over the {MAX_FILE_BYTES} byte limit")
    try:
        with shallow_recursion():
            return json.loads(path.read_bytes())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidAttestationFile(f"{what} {path} is not valid JSON ({exc})") from exc
    except RecursionError as exc:
        raise InvalidAttestationFile(f"{what} {path} is nested too deeply") from exc


def _check_header(data: Any, fmt: str, what: str) -> dict:
    if not isinstance(data, dict):
        raise InvalidAttestationFile(f"{what} must be a JSON object")
    if data.get("format") != fmt:
        raise InvalidAttestationFile(f"{what} has format {data.get('format')!r}, expected {fmt!r}")
    if type(data.get("version")) is not int or data.get("version") != VERSION:
        raise InvalidAttestationFile(f"{what} has version {data.get('version')!r}; this vcp reads version {VERSION}")
    return data


def _int8_vector(value: Any, what: str) -> np.ndarray:
    if not isinstance(value, list) or not all(type(v) is int and -128 <= v <= 127 for v in value):
        raise InvalidAttestationFile(f"{what} must be a list of integers in [-128, 127]")
    if not value:
        raise InvalidAttestationFile(f"{what} is empty")
    return np.array(value, dtype=np.int8)


@dataclass(frozen=True, eq=False)
class TraceBundle:
    """What a verifier or challenger needs to re-run and re-commit one inference."""

    model_root: bytes
    input_salt: bytes
    output_salt: bytes
    trace: tuple[np.ndarray, ...]  # input first, output last

    @property
    def input(self) -> np.ndarray:
        return self.trace[0]

    @property
    def output(self) -> np.ndarray:
        return self.trace[-1]

    @property
    def label(self) -> int:
        return int(np.argmax(self.output))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": TRACE_FORMAT,
            "version": VERSION,
            "model_root": hex32(self.model_root),
            "input_salt": hex32(self.input_salt),
            "output_salt": hex32(self.output_salt),
            "label": self.label,
            "trace": [vec.astype(int).tolist() for vec in self.trace],
        }

    @classmethod
    def from_json(cls, data: Any) -> "TraceBundle":
        data = _check_header(data, TRACE_FORMAT, "trace bundle")
        try:
            trace = data.get("trace")
            if not isinstance(trace, list) or len(trace) < 2:
                raise InvalidAttestationFile("trace bundle needs at least an input and an output vector")
            return cls(
                model_root=parse_bytes32(data.get("model_root"), "model_root"),
                input_salt=parse_bytes32(data.get("input_salt"), "input_salt"),
                output_salt=parse_bytes32(data.get("output_salt"), "output_salt"),
                trace=tuple(_int8_vector(v, f"trace[{i}]") for i, v in enumerate(trace)),
            )
        except InvalidAttestationFile:
            raise
        except InvalidInput as exc:
            raise InvalidAttestationFile(f"trace bundle: {exc}") from exc

    def save(self, path: Path) -> str:
        """Write atomically; returns the sha256 of the bytes written."""
        raw = dump_json(self.to_json())
        write_atomic(path, raw)
        return hashlib.sha256(raw).hexdigest()

    @classmethod
    def load(cls, path: Path) -> "TraceBundle":
        return cls.from_json(read_json(path, "trace bundle"))


@dataclass(frozen=True)
class AttestationFile:
    """A signed attestation with its domain, and where its trace bundle lives."""

    attestation: Attestation
    domain: Domain
    signature: Signature
    model_name: str
    model_params: int
    bundle_path: str  # relative to the attestation file
    bundle_sha256: str

    def to_json(self) -> dict[str, Any]:
        return {
            "format": ATTESTATION_FORMAT,
            "version": VERSION,
            "attestation": self.attestation.message(),
            "domain": self.domain.as_json(),
            "typed_data": self.attestation.typed_data(self.domain),
            "digest": hex32(self.attestation.digest(self.domain)),
            "signature": self.signature.to_hex(),
            "model": {"name": self.model_name, "root": hex32(self.attestation.model_root),
                      "params": self.model_params},
            "trace_bundle": {"path": self.bundle_path, "sha256": self.bundle_sha256},
        }

    @classmethod
    def from_json(cls, data: Any) -> "AttestationFile":
        """Parse and check internal consistency (typed_data, digest and model root agree)."""
        data = _check_header(data, ATTESTATION_FORMAT, "attestation file")
        try:
            attestation = Attestation.from_message(data.get("attestation"))
            domain = Domain.from_json(data.get("domain"))
            signature = Signature.from_hex(data.get("signature"))
            model = data.get("model")
            bundle = data.get("trace_bundle")
            if not isinstance(model, dict) or not isinstance(bundle, dict):
                raise InvalidAttestationFile("attestation file lacks its model or trace_bundle section")
            name, params = model.get("name"), model.get("params")
            path, sha = bundle.get("path"), bundle.get("sha256")
            if not isinstance(name, str) or type(params) is not int:
                raise InvalidAttestationFile("model section needs a name and an integer params")
            if not isinstance(path, str) or not path or not isinstance(sha, str) or len(sha) != 64:
                raise InvalidAttestationFile("trace_bundle section needs a path and a sha256")
            if parse_bytes32(model.get("root"), "model.root") != attestation.model_root:
                raise InvalidAttestationFile("model.root differs from attestation.modelRoot")
            if data.get("typed_data") != attestation.typed_data(domain):
                raise InvalidAttestationFile("typed_data differs from the attestation and domain it carries")
            if parse_bytes32(data.get("digest"), "digest") != attestation.digest(domain):
                raise InvalidAttestationFile("digest is not the EIP-712 hash of the attestation")
        except InvalidAttestationFile:
            raise
        except InvalidInput as exc:
            raise InvalidAttestationFile(f"attestation file: {exc}") from exc
        return cls(attestation, domain, signature, name, params, path, sha)

    def save(self, path: Path) -> None:
        write_atomic(path, dump_json(self.to_json()))

    @classmethod
    def load(cls, path: Path) -> "AttestationFile":
        return cls.from_json(read_json(path, "attestation file"))

    def resolve_bundle(self, attestation_path: Path) -> Path:
        return (Path(attestation_path).parent / self.bundle_path).resolve()


BATCH_FORMAT = "vcp.attestation-batch"


@dataclass(frozen=True, eq=False)
class BatchBundle:
    """Everything behind a batch: every record's trace (one int8 array per layer, N rows) and
    salts, and the record commitments (recomputable; kept so one record can be proven alone)."""

    model_root: bytes
    traces: tuple[np.ndarray, ...]  # traces[i]: (N, width_i) int8
    input_salts: bytes  # N * 32
    output_salts: bytes  # N * 32

    @property
    def count(self) -> int:
        return int(self.traces[0].shape[0])

    def save(self, path: Path) -> str:
        import io

        buffer = io.BytesIO()
        arrays = {f"trace{i}": t for i, t in enumerate(self.traces)}
        np.savez(buffer, model_root=np.frombuffer(self.model_root, dtype=np.uint8),
                 input_salts=np.frombuffer(self.input_salts, dtype=np.uint8),
                 output_salts=np.frombuffer(self.output_salts, dtype=np.uint8), **arrays)
        raw = buffer.getvalue()
        write_atomic(path, raw)
        return hashlib.sha256(raw).hexdigest()

    @classmethod
    def load(cls, path: Path) -> "BatchBundle":
        try:
            with np.load(path, allow_pickle=False) as data:
                traces = []
                while f"trace{len(traces)}" in data.files:
                    traces.append(data[f"trace{len(traces)}"])
                bundle = cls(bytes(data["model_root"]), tuple(traces), bytes(data["input_salts"]),
                             bytes(data["output_salts"]))
        except (OSError, ValueError, KeyError) as exc:
            raise InvalidAttestationFile(f"batch bundle {path} is not readable ({exc})") from exc
        if len(bundle.traces) < 2 or len(bundle.model_root) != 32:
            raise InvalidAttestationFile(f"batch bundle {path} lacks traces or its model root")
        n = bundle.count
        if any(t.dtype != np.int8 or t.ndim != 2 or t.shape[0] != n for t in bundle.traces):
            raise InvalidAttestationFile(f"batch bundle {path}: every trace array must be int8 with {n} rows")
        if len(bundle.input_salts) != 32 * n or len(bundle.output_salts) != 32 * n:
            raise InvalidAttestationFile(f"batch bundle {path}: one 32-byte salt per record expected")
        return bundle


@dataclass(frozen=True)
class BatchFile:
    """A signed batch attestation and where its bundle lives."""

    batch: BatchAttestation
    domain: Domain
    signature: Signature
    model_name: str
    bundle_path: str
    bundle_sha256: str

    def to_json(self) -> dict[str, Any]:
        return {
            "format": BATCH_FORMAT,
            "version": VERSION,
            "batch": self.batch.message(),
            "domain": self.domain.as_json(),
            "typed_data": self.batch.typed_data(self.domain),
            "digest": hex32(self.batch.digest(self.domain)),
            "signature": self.signature.to_hex(),
            "model": {"name": self.model_name, "root": hex32(self.batch.model_root)},
            "bundle": {"path": self.bundle_path, "sha256": self.bundle_sha256},
        }

    @classmethod
    def from_json(cls, data: Any) -> "BatchFile":
        data = _check_header(data, BATCH_FORMAT, "batch file")
        try:
            batch = BatchAttestation.from_message(data.get("batch"))
            domain = Domain.from_json(data.get("domain"))
            signature = Signature.from_hex(data.get("signature"))
            model, bundle = data.get("model"), data.get("bundle")
            if not isinstance(model, dict) or not isinstance(bundle, dict):
                raise InvalidAttestationFile("batch file lacks its model or bundle section")
            if not isinstance(bundle.get("path"), str) or not isinstance(bundle.get("sha256"), str):
                raise InvalidAttestationFile("bundle section needs a path and a sha256")
            if data.get("typed_data") != batch.typed_data(domain):
                raise InvalidAttestationFile("typed_data differs from the batch and domain it carries")
            if parse_bytes32(data.get("digest"), "digest") != batch.digest(domain):
                raise InvalidAttestationFile("digest is not the EIP-712 hash of the batch")
        except InvalidAttestationFile:
            raise
        except InvalidInput as exc:
            raise InvalidAttestationFile(f"batch file: {exc}") from exc
        return cls(batch, domain, signature, str(model.get("name", "")), bundle["path"], bundle["sha256"])

    def save(self, path: Path) -> None:
        write_atomic(path, dump_json(self.to_json()))

    @classmethod
    def load(cls, path: Path) -> "BatchFile":
        return cls.from_json(read_json(path, "batch file"))

    def resolve_bundle(self, batch_path: Path) -> Path:
        return (Path(batch_path).parent / self.bundle_path).resolve()


ZK_FORMAT = "vcp.zk-attestation"


@dataclass(frozen=True)
class ZkAttestationFile:
    """A zk attestation: the vcp Attestation it stands for, and the proof with its public values
    (no signature: the proof is the authority, checked by the verifier named as the prover)."""

    attestation: Attestation
    domain: Domain
    model_name: str
    proof: bytes
    instances: tuple[int, ...]
    input: np.ndarray
    input_salt: bytes
    output_salt: bytes
    circuit: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": ZK_FORMAT,
            "version": VERSION,
            "attestation": self.attestation.message(),
            "domain": self.domain.as_json(),
            "typed_data": self.attestation.typed_data(self.domain),
            "digest": hex32(self.attestation.digest(self.domain)),
            "model": {"name": self.model_name, "root": hex32(self.attestation.model_root)},
            "zk": {"proof": "0x" + self.proof.hex(), "instances": [str(v) for v in self.instances],
                   "input": self.input.astype(int).tolist(), "input_salt": hex32(self.input_salt),
                   "output_salt": hex32(self.output_salt), "circuit": self.circuit},
        }

    @classmethod
    def from_json(cls, data: Any) -> "ZkAttestationFile":
        data = _check_header(data, ZK_FORMAT, "zk attestation file")
        try:
            attestation = Attestation.from_message(data.get("attestation"))
            domain = Domain.from_json(data.get("domain"))
            zk = data.get("zk")
            if not isinstance(zk, dict) or not isinstance(zk.get("instances"), list):
                raise InvalidAttestationFile("zk attestation file lacks its zk section")
            proof_hex = zk.get("proof")
            if not isinstance(proof_hex, str) or not proof_hex.startswith("0x"):
                raise InvalidAttestationFile("zk.proof must be 0x-prefixed hex")
            try:
                proof = bytes.fromhex(proof_hex[2:])
            except ValueError as exc:
                raise InvalidAttestationFile("zk.proof is not valid hex") from exc
            instances = tuple(parse_uint(v, "zk.instances[]") for v in zk["instances"])
            circuit = zk.get("circuit") if isinstance(zk.get("circuit"), dict) else {}
            model = data.get("model") if isinstance(data.get("model"), dict) else {}
            if data.get("typed_data") != attestation.typed_data(domain):
                raise InvalidAttestationFile("typed_data differs from the attestation and domain it carries")
            return cls(attestation, domain, str(model.get("name", "")), proof, instances,
                       _int8_vector(zk.get("input"), "zk.input"), parse_bytes32(zk.get("input_salt"), "zk.input_salt"),
                       parse_bytes32(zk.get("output_salt"), "zk.output_salt"), circuit)
        except InvalidAttestationFile:
            raise
        except InvalidInput as exc:
            raise InvalidAttestationFile(f"zk attestation file: {exc}") from exc

    def save(self, path: Path) -> None:
        write_atomic(path, dump_json(self.to_json()))

    @classmethod
    def load(cls, path: Path) -> "ZkAttestationFile":
        return cls.from_json(read_json(path, "zk attestation file"))
