"""The on-chain store: blobs published in calldata through DataAnchor (vcp_toolkit.chain.anchor),
behind the same ``BlobStore`` interface as the HTTP and directory stores.

Every node keeps calldata for as long as it keeps history, so nobody can withhold what was
published, and a reader needs only an RPC endpoint. It is paid per byte: 16 gas a non-zero byte
(40 under Prague's floor for data-heavy transactions) plus L1 data fees on a rollup. ``put_many``
sends a whole trace bundle in one transaction. A read-only store (no sender) fetches only.
"""

from __future__ import annotations

from vcp_toolkit.chain.anchor import DataAnchor
from vcp_toolkit.chain.tx import Sender, TxOutcome
from vcp_toolkit.ops.da import BlobMissing, BlobTooLarge, DataUnavailable, checked, digest_of, \
    node_errors, parse_digest

DEFAULT_MAX_BYTES = 128 * 1024  # one EIP-4844 blob's worth; Osaka's 2**24 gas cap allows ~400 KB of calldata


class CalldataStore:
    """Blobs in DataAnchor's calldata on one chain."""

    def __init__(self, anchor: DataAnchor, sender: Sender | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.anchor, self.sender, self.max_bytes = anchor, sender, max_bytes
        self.where = f"calldata of DataAnchor {anchor.address} on chain {anchor.chain.chain_id}"
        self.last_tx: TxOutcome | None = None  # what the latest put cost

    def put(self, data: bytes) -> str:
        return self.put_many([data])[0]

    def put_many(self, items: list[bytes]) -> list[str]:
        """Publish the items, as few transactions as the size limit allows (each at most
        ``max_bytes``, in order); their digests, in order."""
        if self.sender is None:
            raise DataUnavailable(f"{self.where}: read-only (no key to pay for publishing)")
        items = [bytes(i) for i in items]
        if not items or not all(items):
            raise DataUnavailable(f"{self.where}: nothing to publish (an empty item or none)")
        largest = max(map(len, items))
        if largest > self.max_bytes:
            raise BlobTooLarge(f"an item of {largest:,} bytes is over this store's limit of {self.max_bytes:,}")
        for chunk in _chunks(items, self.max_bytes):
            with node_errors(self.where):
                self.last_tx = self.anchor.publish(self.sender, chunk)
        return [digest_of(i) for i in items]

    def get(self, digest: str) -> bytes:
        digest = parse_digest(digest)
        with node_errors(self.where, digest):
            found = self.anchor.find(bytes.fromhex(digest))
        if found is None:
            raise BlobMissing(f"{self.where} holds no blob 0x{digest[:16]}...", digest)
        return checked(found, digest, self.where)


def _chunks(items: list[bytes], max_bytes: int) -> list[list[bytes]]:
    """Consecutive runs of ``items`` of at most ``max_bytes`` in all (each item fits on its own)."""
    chunks: list[list[bytes]] = [[]]
    size = 0
    for item in items:
        if chunks[-1] and size + len(item) > max_bytes:
            chunks.append([])
            size = 0
        chunks[-1].append(item)
        size += len(item)
    return chunks
