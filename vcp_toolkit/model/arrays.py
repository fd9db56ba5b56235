"""Model, calibration and input files, read without trusting them.

Files are opened by the attestation files' reader (``read_bounded``: non-blocking, so a FIFO never
hangs; a folder, device or socket is refused before anything is read; never more than a cap), and
every .npy header is checked against the bytes behind it before an array exists: no pickles
(object dtypes), no shape that claims more memory than the file holds, no member of an archive
inflating past the cap. Each error is one sentence naming the file, what is wrong and the fix,
raised as the caller's error class (InvalidModel for models, InvalidInput for inputs);
a file that cannot be opened at all raises FileUnreadable.
"""

from __future__ import annotations

import io
import math
import zipfile
import zlib
from pathlib import Path

import numpy as np

from vcp_toolkit.attest.files import loads_strict, printable, read_bounded
from vcp_toolkit.errors import FileUnreadable, InvalidAttestationFile, InvalidInput

NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # an archive with members, an empty archive
NUMBERS = "iuf"  # numpy dtype kinds read as data: signed, unsigned, float (no bool, complex, object)
KIND_NAMES = {"i": "integers", "u": "unsigned integers", "f": "floats", "U": "text"}
_ARCHIVE_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError, OSError,
                   ValueError, zlib.error)


def read_file(path: Path, what: str, cap: int, error: type[InvalidInput] = InvalidInput, fix: str = "") -> bytes:
    """The bytes of the regular file ``path`` (non-empty, at most ``cap`` bytes). A missing or
    unopenable path raises FileUnreadable; a folder, FIFO, device, socket, an empty or an
    oversized file raises ``error``. ``fix`` ends every message."""
    try:
        raw = read_bounded(path, what, cap)
    except FileUnreadable as exc:
        raise FileUnreadable(f"{exc}; check the path") from None
    except InvalidAttestationFile as exc:  # not a regular file, or over the cap: not an attestation problem
        raise error(_with_fix(str(exc).removesuffix(": name a regular file"), fix)) from None
    if not raw:
        raise error(_with_fix(f"{what} {printable(path)} is empty (0 bytes)", fix))
    return raw


def _with_fix(message: str, fix: str) -> str:
    return f"{message}; {fix}" if fix else message


def _header(buffer: io.BytesIO) -> tuple[tuple, bool, np.dtype]:
    version = np.lib.format.read_magic(buffer)
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    if version not in readers:
        raise ValueError(f"npy version {version[0]}.{version[1]}")
    return readers[version](buffer)  # a literal header of bounded size: never code, never a pickle


def load_npy(raw: bytes, what: str, error: type[InvalidInput] = InvalidInput, fix: str = "",
             kinds: str = NUMBERS) -> np.ndarray:
    """The array in the .npy bytes ``raw``, read-only, if its dtype kind is one of ``kinds``."""
    if not raw.startswith(NPY_MAGIC):
        raise error(_with_fix(f"{what} is not a .npy array (no numpy header)", fix))
    buffer = io.BytesIO(raw)
    try:
        shape, fortran, dtype = _header(buffer)
    except (ValueError, SyntaxError, TypeError, EOFError, OverflowError) as exc:
        raise error(_with_fix(f"{what} has a damaged .npy header ({printable(exc)[:80]})", fix)) from exc
    if dtype.hasobject:
        raise error(_with_fix(f"{what} holds Python objects (pickled data), which vcp never loads", fix))
    if dtype.kind not in kinds or dtype.itemsize == 0:
        expected = " or ".join(KIND_NAMES[kind] for kind in kinds)
        raise error(_with_fix(f"{what} holds {printable(dtype)} values, not {expected}", fix))
    count = math.prod(shape)
    have = len(raw) - buffer.tell()
    if any(dim < 0 for dim in shape) or count * dtype.itemsize != have:
        need = "a negative size" if any(dim < 0 for dim in shape) else f"{count * dtype.itemsize:,} bytes"
        raise error(_with_fix(f"{what} is truncated or damaged: its header declares shape {printable(shape)[:80]} "
                              f"({need}) but {have:,} bytes follow", fix))
    flat = np.frombuffer(raw, dtype=dtype, count=count, offset=buffer.tell())
    return flat.reshape(shape, order="F" if fortran else "C")


def load_npz(raw: bytes, what: str, cap: int, error: type[InvalidInput] = InvalidInput, fix: str = "",
             kinds: str = NUMBERS) -> dict[str, np.ndarray]:
    """The arrays of the .npz bytes ``raw`` by name; the sizes the archive declares are checked
    against ``cap`` before any member is inflated."""
    if not raw.startswith(ZIP_MAGICS):
        raise error(_with_fix(f"{what} is not an .npz archive", fix))
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            infos = archive.infolist()
            _check_members(infos, what, cap, error, fix)
            return {info.filename.removesuffix(".npy"):
                    load_npy(archive.read(info), f"{what} (array {printable(info.filename.removesuffix('.npy'))[:40]})",
                             error, fix, kinds)
                    for info in infos}
    except InvalidInput:
        raise
    except _ARCHIVE_ERRORS as exc:
        raise error(_with_fix(f"{what} is a truncated or damaged .npz archive", fix)) from exc


def _check_members(infos: list[zipfile.ZipInfo], what: str, cap: int, error: type[InvalidInput], fix: str) -> None:
    names = [info.filename for info in infos]
    if not names:
        raise error(_with_fix(f"{what} is an .npz archive with no arrays", fix))
    if len(set(names)) != len(names) or not all(name.endswith(".npy") for name in names):
        raise error(_with_fix(f"{what} is not a numpy .npz archive (members other than .npy arrays, or repeated)",
                              fix))
    if sum(info.file_size for info in infos) > cap:
        raise error(_with_fix(f"{what} inflates to over {cap:,} bytes", fix))


def load_json(raw: bytes, what: str, error: type[InvalidInput] = InvalidInput, fix: str = ""):
    """JSON read strictly (attest.files.loads_strict), its errors raised as ``error``."""
    try:
        return loads_strict(raw, what)
    except InvalidAttestationFile as exc:
        raise error(_with_fix(str(exc), fix)) from None
