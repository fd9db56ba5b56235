"""The blob store: data published in EIP-4844 blobs through BlobAnchor (vcp_toolkit.chain.blob_anchor),
behind the same ``BlobStore`` interface as the calldata, HTTP and directory stores.

Blobs are priced in their own fee market (131,072 blob gas a blob, whatever it holds) and kept by
consensus nodes for 4096 epochs (~18 days) only: long enough for a challenge window, not for an
archive. ``put_many`` sends a whole trace bundle in one transaction (up to six blobs). A reader
checks each blob against the versioned hash the contract bound and each item against its digest;
a read-only store (no sender) fetches only.
"""

from __future__ import annotations

from vcp_toolkit.chain import blob_encoding
from vcp_toolkit.chain.blob_anchor import BlobAnchor
from vcp_toolkit.chain.tx import Sender, TxOutcome
from vcp_toolkit.ops.da import BlobMismatch, BlobMissing, BlobTooLarge, DataUnavailable, checked, \
    digest_of, node_errors, parse_digest


class Eip4844Store:
    """Items in the blobs of type-3 transactions calling one BlobAnchor."""

    def __init__(self, anchor: BlobAnchor, sender: Sender | None = None) -> None:
        self.anchor, self.sender = anchor, sender
        self.where = f"blobs bound by BlobAnchor {anchor.address} on chain {anchor.chain.chain_id}"
        self.last_tx: TxOutcome | None = None  # what the latest put cost

    def put(self, data: bytes) -> str:
        return self.put_many([data])[0]

    def put_many(self, items: list[bytes]) -> list[str]:
        """Publish every item in the blobs of one transaction; their digests, in order."""
        if self.sender is None:
            raise DataUnavailable(f"{self.where}: read-only (no key to pay for publishing)")
        items = [bytes(i) for i in items]
        if not items or not all(items):
            raise DataUnavailable(f"{self.where}: nothing to publish (an empty item or none)")
        needed = blob_encoding.blobs_needed([len(i) for i in items])
        if needed > blob_encoding.MAX_BLOBS_PER_TX:
            raise BlobTooLarge(f"{sum(map(len, items)):,} bytes need {needed} blobs; one transaction carries at most "
                               f"{blob_encoding.MAX_BLOBS_PER_TX}")
        with node_errors(self.where):
            self.last_tx = self.anchor.publish(self.sender, items)
        return [digest_of(i) for i in items]

    def get(self, digest: str) -> bytes:
        digest = parse_digest(digest)
        with node_errors(self.where, digest):
            found = self.anchor.find(bytes.fromhex(digest))
        if found.data is not None:
            return checked(found.data, digest, self.where)
        if found.refused:
            raise BlobMismatch(f"{self.where}: every claim of 0x{digest[:16]}... was refused: "
                               + "; ".join(found.refused + found.unavailable), digest)
        why = f" ({'; '.join(found.unavailable)})" if found.unavailable else ""
        raise BlobMissing(f"{self.where} holds no blob 0x{digest[:16]}...{why}", digest)
