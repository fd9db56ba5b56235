"""A directory of blobs named by their keccak256: the shared-directory store, and the disk behind
the HTTP store.

    <root>/blobs/<first two hex digits>/<64 hex digits>

Only a validated digest becomes a file name. Writes go to a temporary file in the same folder,
are fsynced, renamed over the final name and the folder fsynced: a crash leaves the blob whole
or absent, and ``put`` returns only once it is on disk.
"""

from __future__ import annotations

from pathlib import Path

from vcp_toolkit.attest.files import write_atomic
from vcp_toolkit.ops.da import BlobMissing, BlobTooLarge, StoreUnreachable, checked, digest_of, parse_digest

DEFAULT_MAX_BYTES = 64 * 1024 * 1024


class DirectoryStore:
    """Blobs in a local or shared folder."""

    def __init__(self, root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.where = str(self.root)

    def path(self, digest: str) -> Path:
        digest = parse_digest(digest)
        return self.root / "blobs" / digest[:2] / digest

    def has(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def put(self, data: bytes) -> str:
        data = bytes(data)
        if len(data) > self.max_bytes:
            raise BlobTooLarge(f"{len(data):,} bytes is over this store's limit of {self.max_bytes:,}")
        digest = digest_of(data)
        path = self.path(digest)
        if not self._holds(path, data):  # same name, same bytes: a second writer has nothing to add
            try:
                write_atomic(path, data)
            except OSError as exc:
                raise StoreUnreachable(f"cannot write to {self.where}: {exc.strerror or exc}", digest) from exc
        return digest

    @staticmethod
    def _holds(path: Path, data: bytes) -> bool:
        """The file under this name is whole: a damaged one is written over by the next upload."""
        try:
            return path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data
        except OSError:
            return False

    def get(self, digest: str) -> bytes:
        path = self.path(digest)
        if not path.is_file():  # absent, or a folder, fifo or device planted under a blob's name
            raise BlobMissing(f"{self.where} holds no blob 0x{digest[:16]}...", digest)
        try:
            with open(path, "rb") as fh:
                data = fh.read(self.max_bytes + 1)
        except FileNotFoundError:
            raise BlobMissing(f"{self.where} holds no blob 0x{digest[:16]}...", digest) from None
        except OSError as exc:
            raise StoreUnreachable(f"cannot read {path}: {exc.strerror or exc}", digest) from exc
        if len(data) > self.max_bytes:
            raise BlobTooLarge(f"{path} is over this store's limit of {self.max_bytes:,} bytes", digest)
        return checked(data, parse_digest(digest), self.where)
