"""Data availability: one interface for every place inputs and traces are published.

A store holds blobs under their content address, the keccak256 of their bytes. ``put`` returns
that digest; ``get`` returns bytes whose keccak256 is the digest asked for, or raises. Stores
are chosen per deployment by a spec (``open_store``): an ``http://host:port`` URL is an HTTP
store (``vcp exchange serve``), anything else a directory. ``Stores`` puts to several and gets
from the first that answers with the right bytes, so one dead or lying store changes nothing
while another holds the data.

    DataUnavailable (VcpError)       no store could give or take the blob
    ├── BlobMissing                  the store answered: it does not hold the digest
    ├── BlobMismatch                 bytes that do not hash to the digest (refused)
    ├── BlobTooLarge                 over the store's size limit
    └── StoreUnreachable             transport failed: refused, timed out, an unexpected answer
"""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path
from typing import Iterable, Iterator, Protocol, runtime_checkable

from vcp_toolkit.commit.encoding import keccak256
from vcp_toolkit.errors import ChainError, InvalidInput, VcpError

_HEX64 = re.compile(r"(?:0x)?([0-9a-fA-F]{64})")
RETRY_AFTER = 30.0  # seconds a store that did not answer is skipped by put (and asked last by get)


class DataUnavailable(VcpError):
    """A blob could not be stored or fetched; ``digest`` is the content address (hex) when known."""

    def __init__(self, message: str, digest: str = "") -> None:
        super().__init__(message)
        self.digest = digest


class BlobMissing(DataUnavailable):
    """The store answered, and does not hold this digest."""


class BlobMismatch(DataUnavailable):
    """Bytes whose keccak256 is not the digest they were stored or served under."""


class BlobTooLarge(DataUnavailable):
    """A blob over the store's size limit."""


class StoreUnreachable(DataUnavailable):
    """The store could not be reached or gave an answer outside its protocol."""


def parse_digest(text: str) -> str:
    """The 64 lowercase hex digits of a keccak256 digest (an optional 0x allowed), else InvalidInput.
    Only this string ever becomes a file name in a store."""
    match = _HEX64.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidInput(f"not a keccak256 digest (64 hex digits): {str(text)[:80]!r}")
    return match.group(1).lower()


def digest_of(data: bytes) -> str:
    return keccak256(bytes(data)).hex()


def checked(data: bytes, digest: str, where: str) -> bytes:
    """``data`` if it hashes to ``digest``; BlobMismatch naming ``where`` otherwise."""
    actual = digest_of(data)
    if actual != digest:
        raise BlobMismatch(f"{where} returned bytes hashing to 0x{actual[:16]}..., not the requested "
                           f"0x{digest[:16]}...: refused", digest)
    return data


@runtime_checkable
class BlobStore(Protocol):
    """Where blobs are published: ``put`` stores and returns the keccak256 hex digest, ``get``
    returns the verified bytes (BlobMissing, BlobMismatch, StoreUnreachable otherwise)."""

    where: str

    def put(self, data: bytes) -> str: ...

    def get(self, digest: str) -> bytes: ...


class Stores:
    """Several stores as one: publish to all, fetch from any that answers with the right bytes.
    A store that did not answer (StoreUnreachable) is asked last by ``get`` and skipped by ``put``
    for ``retry_after`` seconds, so a hung store costs one timeout, not one per blob."""

    def __init__(self, stores: Iterable[BlobStore]) -> None:
        self.stores = list(stores)
        if not self.stores:
            raise InvalidInput("data availability needs at least one store")
        self.where = ", ".join(s.where for s in self.stores)
        self.last_failures: dict[str, str] = {}  # store -> why the last put missed it
        self.unreachable: dict[int, float] = {}  # store index -> when it last failed to answer
        self.retry_after = RETRY_AFTER

    def _in_order(self) -> list[tuple[int, BlobStore]]:
        """Stores that answered last time first, so one hung store does not cost a timeout per blob."""
        return sorted(enumerate(self.stores), key=lambda pair: pair[0] in self.unreachable)

    def _resting(self, index: int) -> bool:
        marked = self.unreachable.get(index)
        return marked is not None and time.monotonic() - marked < self.retry_after

    def _outcome(self, index: int, exc: DataUnavailable | None) -> None:
        if isinstance(exc, StoreUnreachable):
            self.unreachable[index] = time.monotonic()
        else:
            self.unreachable.pop(index, None)

    def put(self, data: bytes) -> str:
        """The digest, once at least one store holds the blob; DataUnavailable (every store's
        reason) when none took it. Each store's failure is kept in ``last_failures``."""
        return self.put_many([data])[0]

    def put_many(self, items: list[bytes]) -> list[str]:
        """``put`` for several blobs: the digests, once every blob is held by at least one store
        (a reader fetches blob by blob, from any store). A store with its own ``put_many`` (an
        on-chain one: as few transactions as it can) takes them in one call."""
        if not items:
            return []
        self.last_failures = {}
        held = [False] * len(items)
        resting = {i for i in range(len(self.stores)) if self._resting(i)}
        if len(resting) == len(self.stores):
            resting = set()  # all of them down lately: try them all again rather than none
        for index, store in enumerate(self.stores):
            if index in resting:  # it timed out moments ago: skipped, so a publish costs one timeout
                self.last_failures[store.where] = f"{store.where}: skipped, unreachable moments ago"
                continue
            try:
                taken = self._put_into(store, items)
            except DataUnavailable as exc:  # unreachable: the rest would only time out too
                self.last_failures[store.where] = str(exc)
                self._outcome(index, exc)
                continue
            self._outcome(index, None)
            held = [h or t for h, t in zip(held, taken)]
        if not all(held):
            what = "the blob" if len(items) == 1 else f"{held.count(False)} of {len(items)} blobs"
            raise DataUnavailable(f"no store took {what}: {'; '.join(self.last_failures.values())}",
                                  digest_of(items[0]) if len(items) == 1 else "")
        return [digest_of(item) for item in items]

    def _put_into(self, store: BlobStore, items: list[bytes]) -> list[bool]:
        """Which items ``store`` took. StoreUnreachable is raised: the store is not asked again."""
        many = getattr(store, "put_many", None)
        if many is not None:
            many(items)
            return [True] * len(items)
        taken = []
        for item in items:
            try:
                store.put(item)
            except StoreUnreachable:
                raise
            except DataUnavailable as exc:  # this blob only (too large, refused): the others may go in
                self.last_failures[store.where] = str(exc)
                taken.append(False)
            else:
                taken.append(True)
        return taken

    def get(self, digest: str) -> bytes:
        """The first right answer. BlobMissing when every store that answered lacks it; the other
        reasons (wrong bytes, unreachable) are in the message, so a refusal is never silent."""
        digest = parse_digest(digest)
        reasons = []
        only_missing = True
        for index, store in self._in_order():
            try:
                data = checked(store.get(digest), digest, store.where)
            except DataUnavailable as exc:
                self._outcome(index, exc)
                only_missing = only_missing and isinstance(exc, BlobMissing)
                reasons.append(f"{store.where}: {exc}")
                continue
            self._outcome(index, None)
            return data
        kind = BlobMissing if only_missing else DataUnavailable
        raise kind(f"0x{digest[:16]}... not available: " + "; ".join(reasons), digest)



@contextlib.contextmanager
def node_errors(where: str, digest: str = "") -> Iterator[None]:
    """In an on-chain store: a failing node is the store being unreachable, so the next store is asked."""
    try:
        yield
    except ChainError as exc:
        raise StoreUnreachable(f"{where}: {exc}", digest) from exc


ON_CHAIN = re.compile(r"(?i)(calldata|blobs):")  # stores that need a chain: resolved by the CLI's Context


def refuse_near_misses(spec: str) -> None:
    """A spec that reads like an on-chain store but is not exactly one (no colon, spaces, look-alike
    characters) would silently become a folder nobody else reads: refused, unless that folder exists."""
    import unicodedata

    plain = unicodedata.normalize("NFKC", spec).strip().replace("\u200b", "").lower()
    near = ON_CHAIN.match(plain) or plain in ("calldata", "blobs")
    if near and not ON_CHAIN.match(spec) and not Path(spec).is_dir():
        from vcp_toolkit.attest.files import printable

        raise InvalidInput(f"store {printable(spec)} reads like the on-chain store {plain.split(':')[0]}: but is not "
                           "written as one: write it exactly (e.g. calldata:), or ./NAME for a folder of that name")


def open_store(spec: str | Path, timeout: float = 10.0) -> BlobStore:
    """An HTTP store for ``http(s)://host:port``, else the directory at that path."""
    text = str(spec)
    if isinstance(spec, str):
        refuse_near_misses(spec)
    if isinstance(spec, str) and ON_CHAIN.match(text):
        raise InvalidInput(f"{text.split(':', 1)[0]}: is an on-chain store: it needs a chain and a key, so it is "
                           "named in `vcp request`, `vcp serve` and `vcp watch` (with --rpc-url), not here")
    if re.match(r"(?i)https?://", text):
        from vcp_toolkit.ops.http_store import HttpStore

        return HttpStore(text, timeout=timeout)
    from vcp_toolkit.ops.blobdir import DirectoryStore

    return DirectoryStore(Path(text))


def open_stores(specs: Iterable[str | Path] | str | Path, timeout: float = 10.0) -> Stores:
    """``Stores`` over one spec or several."""
    if isinstance(specs, (str, Path)):
        specs = [specs]
    return Stores(open_store(s, timeout) for s in specs)
