"""The off-chain side of data availability: inputs and traces published to one or more stores.

An ``Exchange`` works over any ``BlobStore`` (vcp_toolkit.ops.da): a shared directory for tests
and single-machine demos, HTTP stores (``vcp exchange serve``) across machines, or several of
them (publish to all, fetch from any that answers with the right bytes). Everything is stored
under the on-chain commitment it opens (vcp_toolkit.ops.da_objects), so a fetched object is
checked against the chain by hashing:

    input           under the job's inputCommitment     (the requester, for the prover)
    output opening  under the result's outputCommitment (the prover, for watchers)
    trace           its tree under the traceRoot         (the prover, for watchers)

A prover that publishes nowhere can be forced to reveal the trace on-chain (``requestReveal``),
and loses its bond if it does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from vcp_toolkit.attest.files import TraceBundle
from vcp_toolkit.commit.commitments import input_commitment, output_commitment, trace_root
from vcp_toolkit.commit.encoding import DOMAIN_INPUT, DOMAIN_OUTPUT
from vcp_toolkit.errors import InvalidInput
from vcp_toolkit.ops.da import BlobStore, DataUnavailable, Stores, open_store
from vcp_toolkit.ops.da_objects import bundle_blobs, fetch_trace, opening_blob, parse_opening

StoreSpec = str | Path | BlobStore


@dataclass(frozen=True, eq=False)
class PublishedTrace:
    """A trace fetched for an on-chain result, with the openings found for its commitments."""

    trace: tuple[np.ndarray, ...]
    input_opening: tuple[np.ndarray, bytes]
    output_opening: tuple[np.ndarray, bytes] | None  # None: the prover did not publish it


class Exchange:
    """Publishes and fetches inputs and traces through one or more stores."""

    def __init__(self, stores: StoreSpec | Iterable[StoreSpec], timeout: float = 10.0) -> None:
        if isinstance(stores, (str, Path)) or isinstance(stores, BlobStore):
            stores = [stores]
        self.stores = Stores(s if isinstance(s, BlobStore) else open_store(s, timeout) for s in stores)
        self.last_error = ""  # why the last get found nothing usable, for reports

    @property
    def where(self) -> str:
        return self.stores.where

    def _get(self, digest: bytes) -> bytes:
        return self.stores.get(bytes(digest).hex())

    def put_input(self, values: np.ndarray, salt: bytes) -> bytes:
        """Publish an input for provers; returns its commitment (what the job names). Raises
        DataUnavailable when no store took it."""
        commitment = input_commitment(salt, values)
        self.stores.put(opening_blob(DOMAIN_INPUT, salt, values))
        return commitment

    def _opening(self, commitment: bytes, domain: bytes, commit) -> tuple[np.ndarray, bytes] | None:
        try:
            values, salt = parse_opening(self._get(commitment), domain)
        except DataUnavailable as exc:
            self.last_error = str(exc)
            return None
        return (values, salt) if commit(salt, values) == bytes(commitment) else None

    def get_input(self, commitment: bytes) -> tuple[np.ndarray, bytes] | None:
        """The input that opens ``commitment``, or None if no store has it."""
        return self._opening(commitment, DOMAIN_INPUT, input_commitment)

    def put_bundle(self, chain_id: int, contract: str, job_id: int, bundle: TraceBundle) -> bytes:
        """Publish what a watcher needs to check job ``job_id``'s result: the trace tree and the
        openings of the input and output commitments. Returns the trace root. Raises
        DataUnavailable when some blob of it is held by no store. (``chain_id``, ``contract`` and ``job_id``
        name nothing in a store: the commitments are the addresses.)"""
        del chain_id, contract, job_id
        trace = list(bundle.trace)
        self.stores.put_many(list(bundle_blobs(trace, bundle.input_salt, bundle.output_salt)))
        return trace_root(trace)

    def get_trace(self, root: bytes, input_c: bytes, output_c: bytes, vectors: int) -> PublishedTrace | None:
        """The published trace of a result committed as (``input_c``, ``output_c``, ``root``) with
        ``vectors`` activation vectors, or None when it is not available in full (``last_error``
        says why): the caller then asks for a reveal."""
        try:
            trace = fetch_trace(self._get, root, vectors)
        except (DataUnavailable, InvalidInput) as exc:
            self.last_error = str(exc)
            return None
        opened_input = self.get_input(input_c)
        if opened_input is None:
            return None
        return PublishedTrace(tuple(trace), opened_input, self._opening(output_c, DOMAIN_OUTPUT, output_commitment))
