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

Reading is strict (docs/encoding.md, "Files"): a duplicate key, an unknown key, a missing key, an
integer of more than MAX_INT_DIGITS digits or NaN/Infinity is refused; only regular files are
read, never more than the size cap; a bundle path is relative, printable, without ``..``, and
resolves inside the folder of the file that names it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import stat
import sys
import tempfile
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from vcp_toolkit.attest.eip712 import (Attestation, BatchAttestation, Domain, Signature, exact_keys, hex32, parse_bytes32,
                             parse_uint)
from vcp_toolkit.errors import FileUnreadable, InvalidAttestationFile, InvalidInput

ATTESTATION_FORMAT = "vcp.attestation"
TRACE_FORMAT = "vcp.trace"
VERSION = 1
MAX_FILE_BYTES = 64 * 2**20  # a trace of the widest supported model is far below this
MAX_INT_DIGITS = 100  # a uint256 has 78; Python's own limit (4,300) would raise a bare ValueError
MAX_PATH_CHARS = 1024


def write_atomic(path: Path, data: bytes) -> None:
    """Write-then-rename with fsync: a crash leaves the old file or the new one, never half.
    Refuses to replace anything but a regular file: renaming over /dev/null or a FIFO (as root)
    would swap a device or a pipe for a plain file."""
    path = Path(path)
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise InvalidInput(f"{path} exists and is not a regular file: write to a new or regular file instead")
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


def printable(value: Any) -> str:
    """``value`` as text safe to echo on a terminal: every control, format or unpaired-surrogate
    character is written as its Python escape (``\\n``, ``\\x1b``, ``\\u202e``, ``\\udc80``)."""
    text = os.fsdecode(value) if isinstance(value, (bytes, os.PathLike)) else str(value)
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def read_bounded(path: Path, what: str, cap: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``cap`` bytes. Opened non-blocking, so a FIFO never
    hangs; a device, directory or socket is refused before anything is read; never reads more
    than ``cap + 1`` bytes, whatever the file claims."""
    shown = printable(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        raise FileUnreadable(f"cannot read {what} {shown}: {_os_reason(exc)}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InvalidAttestationFile(f"{what} {shown} is {_file_kind(info.st_mode)}, not a regular file: "
                                         "name a regular file")
        if info.st_size > cap:
            raise InvalidAttestationFile(f"{what} {shown} is {info.st_size} bytes, over the {cap} byte limit")
        chunks, total = [], 0
        while total <= cap:
            chunk = os.read(fd, min(cap + 1 - total, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise FileUnreadable(f"cannot read {what} {shown}: {_os_reason(exc)}") from exc
    finally:
        os.close(fd)
    if total > cap:
        raise InvalidAttestationFile(f"{what} {shown} grew over the {cap} byte limit while being read")
    return b"".join(chunks)


def _file_kind(mode: int) -> str:
    kinds = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
             (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"))
    return next((name for test, name in kinds if test(mode)), "a special file")


def _json_error(raw: bytes, exc: Exception) -> str:
    """Why a text is not JSON, in words (not the parser's "Expecting value: line 1 column 1")."""
    if not raw.strip():
        return "the file is empty"
    if isinstance(exc, UnicodeDecodeError):
        return "it is not UTF-8 text"
    if isinstance(exc, json.JSONDecodeError):
        return f"its text stops being JSON at line {exc.lineno}, column {exc.colno}"
    return "it is not JSON"


def _os_reason(exc: Exception) -> str:
    return printable(exc.strerror if isinstance(exc, OSError) and exc.strerror else exc)


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise InvalidAttestationFile(f"duplicate key {dup[:40]!r}: a JSON object may name each key once")
    return data


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise InvalidAttestationFile(f"an integer of {len(text)} digits (at most {MAX_INT_DIGITS} are read)")
    return int(text)


def _no_constant(name: str) -> Any:
    raise InvalidAttestationFile(f"{name} is not JSON (no NaN or Infinity)")


def loads_strict(raw: bytes, what: str) -> Any:
    """JSON that two readers cannot see differently: duplicate keys, NaN/Infinity and integers
    over MAX_INT_DIGITS digits are refused; nesting is bounded."""
    try:
        with shallow_recursion():
            return json.loads(raw, object_pairs_hook=_object_without_duplicates, parse_int=_bounded_int,
                              parse_constant=_no_constant)
    except InvalidAttestationFile as exc:
        raise InvalidAttestationFile(f"{what}: {exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidAttestationFile(f"{what} is not valid JSON: {_json_error(raw, exc)}") from exc
    except RecursionError as exc:
        raise InvalidAttestationFile(f"{what} is nested too deeply") from exc


def read_json(path: Path, what: str) -> Any:
    """A JSON file, read with read_bounded and parsed with loads_strict."""
    return loads_strict(read_bounded(path, what), f"{what} {printable(path)}")


def check_bundle_path(value: Any, what: str) -> str:
    """A bundle path as a file may name it: relative, printable, no ``..``; resolved later inside
    the folder of the file that names it (resolve_inside)."""
    if not isinstance(value, str) or not value or len(value) > MAX_PATH_CHARS:
        raise InvalidAttestationFile(f"{what} must be a relative path of 1 to {MAX_PATH_CHARS} characters")
    if not value.isprintable():
        raise InvalidAttestationFile(f"{what} {value[:80]!r} holds control or non-printable characters: name the "
                                     "bundle with printable characters only")
    if value.startswith("/") or ".." in value.split("/"):
        raise InvalidAttestationFile(f"{what} {value[:80]!r} must be relative to the file's folder, without '..'")
    return value


def resolve_inside(folder_of: Path, relative: str, what: str) -> Path:
    """``relative`` resolved (symlinks too) under the folder of ``folder_of``; refused if it ends up
    outside that folder."""
    folder = os.path.realpath(os.path.dirname(os.path.abspath(folder_of)))
    target = os.path.realpath(os.path.join(folder, check_bundle_path(relative, what)))
    if os.path.commonpath([folder, target]) != folder:
        raise InvalidAttestationFile(f"{what} {relative[:80]!r} resolves outside the folder of "
                                     f"{printable(folder_of)}: keep the bundle beside the file")
    return Path(target)


_SHA256 = re.compile(r"[0-9a-f]{64}")


def _sha256_hex(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise InvalidAttestationFile(f"{what} must be 64 lowercase hex digits")
    return value


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or len(value) > 256:
        raise InvalidAttestationFile(f"{what} must be a string of at most 256 characters")
    return value


def _short(value: Any) -> str:
    return repr(value)[:60]


def _check_header(data: Any, fmt: str, what: str, keys: tuple[str, ...]) -> dict:
    if not isinstance(data, dict):
        raise InvalidAttestationFile(f"{what} must be a JSON object")
    if data.get("format") != fmt:
        raise InvalidAttestationFile(f"{what} has format {_short(data.get('format'))}, expected {fmt!r}")
    if type(data.get("version")) is not int or data.get("version") != VERSION:
        raise InvalidAttestationFile(f"{what} has version {_short(data.get('version'))}; this vcp reads version "
                                     f"{VERSION}")
    return _keys(data, ("format", "version", *keys), what)


def _keys(data: Any, keys: tuple[str, ...], what: str) -> dict:
    try:
        return exact_keys(data, keys, what)
    except InvalidInput as exc:
        raise InvalidAttestationFile(str(exc)) from None


def _int8_vector(value: Any, what: str) -> np.ndarray:
    if not isinstance(value, list) or not all(type(v) is int and -128 <= v <= 127 for v in value):
        raise InvalidAttestationFile(f"{what} must be a list of integers in [-128, 127]")
    if not value:
        raise InvalidAttestationFile(f"{what} is empty")
    return np.array(value, dtype=np.int8)


@contextmanager
def _as_file_error(what: str) -> Iterator[None]:
    """Errors of the fields below (InvalidInput) reported as a malformed ``what``."""
    try:
        yield
    except InvalidAttestationFile:
        raise
    except InvalidInput as exc:
        raise InvalidAttestationFile(f"{what}: {exc}") from exc


TRACE_KEYS = ("model_root", "input_salt", "output_salt", "label", "trace")


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
        """The predicted class: argmax of the int8 output, lowest index on ties (QuantizedModel.predict)."""
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
        """Strict: exactly TRACE_KEYS, and ``label`` must be the label of the output it carries."""
        data = _check_header(data, TRACE_FORMAT, "trace bundle", TRACE_KEYS)
        with _as_file_error("trace bundle"):
            trace = data["trace"]
            if not isinstance(trace, list) or len(trace) < 2:
                raise InvalidAttestationFile("trace bundle needs at least an input and an output vector")
            bundle = cls(
                model_root=parse_bytes32(data["model_root"], "model_root"),
                input_salt=parse_bytes32(data["input_salt"], "input_salt"),
                output_salt=parse_bytes32(data["output_salt"], "output_salt"),
                trace=tuple(_int8_vector(v, f"trace[{i}]") for i, v in enumerate(trace)),
            )
        if type(data["label"]) is not int or data["label"] != bundle.label:
            raise InvalidAttestationFile(f"trace bundle: label {_short(data['label'])} is not the argmax of its "
                                         f"output ({bundle.label})")
        return bundle

    @classmethod
    def from_bytes(cls, raw: bytes, what: str = "trace bundle") -> "TraceBundle":
        return cls.from_json(loads_strict(raw, what))

    def save(self, path: Path) -> str:
        """Write atomically; returns the sha256 of the bytes written."""
        raw = dump_json(self.to_json())
        write_atomic(path, raw)
        return hashlib.sha256(raw).hexdigest()

    @classmethod
    def load(cls, path: Path) -> "TraceBundle":
        return cls.from_json(read_json(path, "trace bundle"))


def _bundle_section(section: Any, what: str) -> tuple[str, str]:
    section = _keys(section, ("path", "sha256"), what)
    return check_bundle_path(section["path"], f"{what}.path"), _sha256_hex(section["sha256"], f"{what}.sha256")


def _model_section(section: Any, keys: tuple[str, ...], root: bytes) -> dict:
    section = _keys(section, keys, "model")
    _name(section["name"], "model.name")
    if parse_bytes32(section["root"], "model.root") != root:
        raise InvalidAttestationFile("model.root differs from the signed modelRoot")
    return section


def _check_signed(data: dict, message: Attestation | BatchAttestation, domain: Domain, what: str) -> None:
    """The unsigned copies (typed_data, digest) must be exactly what the signed fields give."""
    if data["typed_data"] != message.typed_data(domain):
        raise InvalidAttestationFile(f"typed_data differs from the {what} and domain it carries")
    if parse_bytes32(data["digest"], "digest") != message.digest(domain):
        raise InvalidAttestationFile(f"digest is not the EIP-712 hash of the {what}")


ATTESTATION_KEYS = ("attestation", "domain", "typed_data", "digest", "signature", "model", "trace_bundle")


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
        data = _check_header(data, ATTESTATION_FORMAT, "attestation file", ATTESTATION_KEYS)
        with _as_file_error("attestation file"):
            attestation = Attestation.from_message(data["attestation"])
            domain = Domain.from_json(data["domain"])
            signature = Signature.from_hex(data["signature"])
            model = _model_section(data["model"], ("name", "root", "params"), attestation.model_root)
            if type(model["params"]) is not int or model["params"] < 0:
                raise InvalidAttestationFile("model.params must be a non-negative integer")
            path, sha = _bundle_section(data["trace_bundle"], "trace_bundle")
            _check_signed(data, attestation, domain, "attestation")
        return cls(attestation, domain, signature, model["name"], model["params"], path, sha)

    def save(self, path: Path) -> None:
        write_atomic(path, dump_json(self.to_json()))

    @classmethod
    def load(cls, path: Path) -> "AttestationFile":
        return cls.from_json(read_json(path, "attestation file"))

    def resolve_bundle(self, attestation_path: Path) -> Path:
        """The bundle, resolved inside the attestation's folder (refused if it escapes it)."""
        return resolve_inside(attestation_path, self.bundle_path, "trace_bundle.path")


BATCH_FORMAT = "vcp.attestation-batch"
BATCH_FIXED_MEMBERS = ("model_root", "input_salts", "output_salts")


def _npy(data: bytes, what: str) -> np.ndarray:
    """One .npy member, checked before anything is allocated: version 1.0/2.0, int8 or uint8, C
    order, and a header shape whose size is exactly the bytes that follow it."""
    buffer = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(buffer)
        if version not in ((1, 0), (2, 0)):
            raise InvalidAttestationFile(f"{what} is npy version {version} (1.0 or 2.0 expected)")
        reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = reader(buffer)
    except (ValueError, SyntaxError, TypeError, EOFError, OverflowError) as exc:
        raise InvalidAttestationFile(f"{what} is not a readable .npy array ({printable(exc)[:120]})") from exc
    if dtype not in (np.dtype(np.int8), np.dtype(np.uint8)) or fortran:
        raise InvalidAttestationFile(f"{what}: dtype {printable(dtype)} (fortran {fortran}); int8 or uint8 in C order")
    size = 1
    for dim in shape:
        size *= dim
    if any(dim < 0 for dim in shape) or size != len(data) - buffer.tell():
        raise InvalidAttestationFile(f"{what}: header claims shape {_short(shape)} but {len(data) - buffer.tell()} "
                                     "bytes follow it")
    return np.frombuffer(data, dtype=dtype, count=size, offset=buffer.tell()).reshape(shape)


def _npz_members(raw: bytes, what: str, cap: int = MAX_FILE_BYTES) -> dict[str, np.ndarray]:
    """The arrays of an npz archive with exactly the members a batch bundle has; the sizes the
    archive declares are checked against ``cap`` before any member is inflated."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            infos = archive.infolist()
            names = [i.filename for i in infos]
            _check_members(names, what)
            if sum(i.file_size for i in infos) > cap:
                raise InvalidAttestationFile(f"{what} inflates to over {cap} bytes")
            return {name.removesuffix(".npy"): _npy(archive.read(info), f"{what} member {name}")
                    for name, info in zip(names, infos)}
    except InvalidAttestationFile:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError, OSError,
            ValueError, zlib.error) as exc:
        raise InvalidAttestationFile(f"{what} is not a readable npz archive ({printable(exc)[:120]})") from exc


def _check_members(names: list[str], what: str) -> None:
    traces = sum(n.startswith("trace") for n in names)
    expected = {f"{m}.npy" for m in BATCH_FIXED_MEMBERS} | {f"trace{i}.npy" for i in range(traces)}
    if len(names) != len(set(names)) or set(names) != expected or traces < 2:
        shown = ", ".join(printable(n)[:40] for n in names[:8])
        raise InvalidAttestationFile(f"{what} holds members [{shown}]; expected model_root, input_salts, "
                                     "output_salts and trace0..traceK (K >= 1), once each")


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
        buffer = io.BytesIO()
        arrays = {f"trace{i}": t for i, t in enumerate(self.traces)}
        np.savez(buffer, model_root=np.frombuffer(self.model_root, dtype=np.uint8),
                 input_salts=np.frombuffer(self.input_salts, dtype=np.uint8),
                 output_salts=np.frombuffer(self.output_salts, dtype=np.uint8), **arrays)
        raw = buffer.getvalue()
        write_atomic(path, raw)
        return hashlib.sha256(raw).hexdigest()

    @classmethod
    def from_bytes(cls, raw: bytes, what: str = "batch bundle") -> "BatchBundle":
        arrays = _npz_members(raw, what)
        traces = tuple(arrays[f"trace{i}"] for i in range(len(arrays) - len(BATCH_FIXED_MEMBERS)))
        for name in BATCH_FIXED_MEMBERS:
            if arrays[name].dtype != np.uint8 or arrays[name].ndim != 1:
                raise InvalidAttestationFile(f"{what}: {name} must be a 1-D uint8 array")
        n = int(traces[0].shape[0]) if traces[0].ndim == 2 else -1
        if n < 1 or any(t.dtype != np.int8 or t.ndim != 2 or t.shape[0] != n or t.shape[1] < 1 for t in traces):
            raise InvalidAttestationFile(f"{what}: every trace array must be 2-D int8 with the same number (>= 1) "
                                         "of rows")
        bundle = cls(arrays["model_root"].tobytes(), traces, arrays["input_salts"].tobytes(),
                     arrays["output_salts"].tobytes())
        if len(bundle.model_root) != 32:
            raise InvalidAttestationFile(f"{what}: model_root must be 32 bytes")
        if len(bundle.input_salts) != 32 * n or len(bundle.output_salts) != 32 * n:
            raise InvalidAttestationFile(f"{what}: one 32-byte salt per record expected")
        return bundle

    @classmethod
    def load(cls, path: Path) -> "BatchBundle":
        return cls.from_bytes(read_bounded(path, "batch bundle"), f"batch bundle {printable(path)}")


BATCH_KEYS = ("batch", "domain", "typed_data", "digest", "signature", "model", "bundle")


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
        data = _check_header(data, BATCH_FORMAT, "batch file", BATCH_KEYS)
        with _as_file_error("batch file"):
            batch = BatchAttestation.from_message(data["batch"])
            domain = Domain.from_json(data["domain"])
            signature = Signature.from_hex(data["signature"])
            model = _model_section(data["model"], ("name", "root"), batch.model_root)
            path, sha = _bundle_section(data["bundle"], "bundle")
            _check_signed(data, batch, domain, "batch")
        return cls(batch, domain, signature, model["name"], path, sha)

    def save(self, path: Path) -> None:
        write_atomic(path, dump_json(self.to_json()))

    @classmethod
    def load(cls, path: Path) -> "BatchFile":
        return cls.from_json(read_json(path, "batch file"))

    def resolve_bundle(self, batch_path: Path) -> Path:
        """The bundle, resolved inside the batch file's folder (refused if it escapes it)."""
        return resolve_inside(batch_path, self.bundle_path, "bundle.path")


ZK_FORMAT = "vcp.zk-attestation"
ZK_KEYS = ("attestation", "domain", "typed_data", "digest", "model", "zk")
ZK_SECTION_KEYS = ("proof", "instances", "input", "input_salt", "output_salt", "circuit")
# Informational only ({} or exactly these keys): which EZKL made the proof and with what. Nothing
# the proof, the registry or the verifier relies on (the verifier uses its own circuit); typed so
# it cannot smuggle content.
ZK_CIRCUIT_KEYS = ("ezkl", "logrows", "input_scale", "srs")


def _circuit_section(value: Any) -> dict[str, Any]:
    if value == {}:
        return {}  # no circuit information given
    circuit = _keys(value, ZK_CIRCUIT_KEYS, "zk.circuit")
    if not (circuit["ezkl"] is None or isinstance(circuit["ezkl"], str)) or not isinstance(circuit["srs"], str):
        raise InvalidAttestationFile("zk.circuit: ezkl must be a string or null, srs a string")
    if any(type(circuit[k]) is not int or not 0 <= circuit[k] < 64 for k in ("logrows", "input_scale")):
        raise InvalidAttestationFile("zk.circuit: logrows and input_scale must be integers in [0, 64)")
    _name(circuit["srs"], "zk.circuit.srs")
    return circuit


def _proof_bytes(value: Any) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise InvalidAttestationFile("zk.proof must be 0x-prefixed hex")
    try:
        return bytes.fromhex(value[2:])
    except ValueError as exc:
        raise InvalidAttestationFile("zk.proof is not valid hex") from exc


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
        data = _check_header(data, ZK_FORMAT, "zk attestation file", ZK_KEYS)
        with _as_file_error("zk attestation file"):
            attestation = Attestation.from_message(data["attestation"])
            domain = Domain.from_json(data["domain"])
            model = _model_section(data["model"], ("name", "root"), attestation.model_root)
            zk = _keys(data["zk"], ZK_SECTION_KEYS, "zk")
            if not isinstance(zk["instances"], list):
                raise InvalidAttestationFile("zk.instances must be a list of decimal strings")
            instances = tuple(parse_uint(v, "zk.instances[]") for v in zk["instances"])
            _check_signed(data, attestation, domain, "attestation")
            return cls(attestation, domain, model["name"], _proof_bytes(zk["proof"]), instances,
                       _int8_vector(zk["input"], "zk.input"), parse_bytes32(zk["input_salt"], "zk.input_salt"),
                       parse_bytes32(zk["output_salt"], "zk.output_salt"), _circuit_section(zk["circuit"]))

    def save(self, path: Path) -> None:
        write_atomic(path, dump_json(self.to_json()))

    @classmethod
    def load(cls, path: Path) -> "ZkAttestationFile":
        return cls.from_json(read_json(path, "zk attestation file"))


def load_attestation_file(path: Path) -> AttestationFile | BatchFile | ZkAttestationFile:
    """A single, batch or zk attestation file, recognised by its format header; read once."""
    data = loads_strict(read_bounded(path, "attestation file"), f"attestation file {printable(path)}")
    fmt = data.get("format") if isinstance(data, dict) else None
    parsers = {ATTESTATION_FORMAT: AttestationFile, BATCH_FORMAT: BatchFile, ZK_FORMAT: ZkAttestationFile}
    if fmt not in parsers:
        raise InvalidAttestationFile(f"{printable(path)}: format {repr(fmt)[:60]} is none of "
                                     f"{', '.join(map(repr, parsers))}")
    return parsers[fmt].from_json(data)
