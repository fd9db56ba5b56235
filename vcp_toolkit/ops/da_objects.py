"""What is published, as blobs whose keccak256 is the on-chain commitment itself.

    input opening    0x02 || salt || u32 len || int8 values    keccak256 = the job's inputCommitment
    output opening   0x03 || salt || u32 len || int8 values    keccak256 = the result's outputCommitment
    trace node       0x01 || left || right                     keccak256 = a node of the trace tree
    trace leaf       0x00 || "A" || u16 index || u32 len || values   keccak256 = leaf ``index``

These are the preimages of the hashes in docs/encoding.md, so a watcher that knows only what is
on-chain (inputCommitment, outputCommitment, traceRoot) fetches everything by those hashes, and
whatever a store returns is checked against the chain by hashing alone. A trace is fetched by
walking its tree down from ``traceRoot``; the padding subtrees (ZERO_HASH leaves) are never
fetched, and the whole trace is re-committed at the end.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from vcp_toolkit.commit.commitments import trace_root, trace_tree
from vcp_toolkit.commit.encoding import (DOMAIN_INPUT, DOMAIN_LEAF, DOMAIN_NODE, DOMAIN_OUTPUT, KIND_ACTIVATION,
                                         activation_payload, int8_bytes, u)
from vcp_toolkit.commit.merkle import proof_depth
from vcp_toolkit.ops.da import DataUnavailable

Fetch = Callable[[bytes], bytes]
"""Verified bytes for a 32-byte digest (a ``BlobStore.get`` taking raw digests)."""

MAX_VECTORS = 1 << 16  # leaf indices are u16 in the encoding


class MalformedObject(DataUnavailable):
    """A blob that hashes right but is not the object the commitment needs (a prover committed to
    something other than a trace): it proves nothing, so the trace counts as unpublished."""


def opening_blob(domain: bytes, salt: bytes, values: np.ndarray) -> bytes:
    """The preimage of a salted commitment (``salted_commitment`` in commit.encoding)."""
    values = np.asarray(values)
    return domain + bytes(salt) + u(len(values), 4) + int8_bytes(values)


def parse_opening(blob: bytes, domain: bytes) -> tuple[np.ndarray, bytes]:
    """(int8 values, salt) of an opening blob of ``domain``; MalformedObject otherwise."""
    if len(blob) < 37 or blob[:1] != domain or int.from_bytes(blob[33:37], "big") != len(blob) - 37:
        raise MalformedObject(f"not an opening of domain 0x{domain.hex()} ({len(blob)} bytes)")
    return np.frombuffer(blob[37:], dtype=np.int8).copy(), blob[1:33]


def trace_blobs(trace: list[np.ndarray]) -> list[bytes]:
    """Every leaf of the trace tree and every inner node above at least one leaf, leaves first
    (nodes over padding alone are never fetched, so never published)."""
    tree = trace_tree(trace)
    blobs = [DOMAIN_LEAF + activation_payload(i, v) for i, v in enumerate(trace)]
    for height, level in enumerate(tree.levels[:-1], start=1):
        blobs += [DOMAIN_NODE + level[i] + level[i + 1] for i in range(0, len(level), 2)
                  if (i // 2) << height < len(trace)]
    return blobs


def bundle_blobs(trace: list[np.ndarray], input_salt: bytes, output_salt: bytes) -> list[bytes]:
    """Everything a prover publishes for one result: both openings and the trace tree. Their
    count and total size are what the HTTP (or directory) route costs per result."""
    return ([opening_blob(DOMAIN_INPUT, input_salt, trace[0]), opening_blob(DOMAIN_OUTPUT, output_salt, trace[-1])]
            + trace_blobs(trace))


def _leaf(blob: bytes, index: int) -> np.ndarray:
    head = DOMAIN_LEAF + KIND_ACTIVATION + u(index, 2)
    if blob[:4] != head or len(blob) < 8 or int.from_bytes(blob[4:8], "big") != len(blob) - 8:
        raise MalformedObject(f"trace leaf {index} is not activation vector {index}")
    return np.frombuffer(blob[8:], dtype=np.int8).copy()


def _node(blob: bytes) -> tuple[bytes, bytes]:
    if len(blob) != 65 or blob[:1] != DOMAIN_NODE:
        raise MalformedObject("an inner node of the trace tree is not a node")
    return blob[1:33], blob[33:]


def fetch_trace(fetch: Fetch, root: bytes, vectors: int) -> list[np.ndarray]:
    """The ``vectors`` activation vectors committed by ``root``, walked down from the root.
    Raises DataUnavailable (a missing or refused blob, or MalformedObject)."""
    if not 1 <= vectors <= MAX_VECTORS:
        raise MalformedObject(f"a trace of {vectors} vectors cannot be committed")
    depth = proof_depth(vectors)
    trace: list[np.ndarray] = []

    def walk(digest: bytes, height: int, first: int) -> None:
        if first >= vectors:
            return  # padding: checked by re-committing below, never fetched
        if height == 0:
            trace.append(_leaf(fetch(digest), first))
            return
        left, right = _node(fetch(digest))
        walk(left, height - 1, first)
        walk(right, height - 1, first + (1 << (height - 1)))

    walk(bytes(root), depth, 0)
    if trace_root(trace) != bytes(root):  # the padding subtrees, which were not fetched
        raise MalformedObject("the trace tree is not padded with empty leaves")
    return trace
