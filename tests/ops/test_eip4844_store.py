"""The blob store (EIP-4844 through BlobAnchor) behind the BlobStore interface, on Anvil: a trace
bundle in one transaction walked back as a trace, an item spanning blobs, a lie refused with
BlobMismatch, refusals that send nothing, and chains without blobs named as such."""

from __future__ import annotations

import secrets

import numpy as np
import pytest
from eth_utils import keccak

from vcp_toolkit.chain import blob_encoding as enc
from vcp_toolkit.chain.blob_anchor import BlobAnchor
from vcp_toolkit.chain.nodes import open_chain
from vcp_toolkit.chain.tx import Sender
from vcp_toolkit.commit.commitments import trace_root
from vcp_toolkit.errors import BlobsUnsupported, InvalidInput
from vcp_toolkit.model.synthetic import random_inputs
from vcp_toolkit.ops.da import BlobMismatch, BlobMissing, BlobStore, BlobTooLarge, DataUnavailable, \
    StoreUnreachable, Stores, digest_of
from vcp_toolkit.ops.da_objects import bundle_blobs, fetch_trace
from vcp_toolkit.ops.eip4844_store import Eip4844Store

pytestmark = pytest.mark.node


@pytest.fixture(scope="module")
def anchored():
    with open_chain("anvil") as chain:
        sender = Sender(chain)
        sender.ensure_funded()
        anchor, _ = BlobAnchor.deploy(sender)
        yield anchor, sender


def test_a_bundle_in_one_blob_transaction_comes_back_as_a_trace(anchored, model):
    anchor, sender = anchored
    store = Eip4844Store(anchor, sender)
    assert isinstance(store, BlobStore)
    x = random_inputs(model, 1, seed=7)[0]
    trace = [v[0] for v in model.trace(x[None, :])]
    blobs = bundle_blobs(trace, secrets.token_bytes(32), secrets.token_bytes(32))
    digests = store.put_many(blobs)
    assert digests == [digest_of(b) for b in blobs]
    assert store.last_tx.blob_gas_used == enc.GAS_PER_BLOB * enc.blobs_needed([len(b) for b in blobs])
    reader = Eip4844Store(BlobAnchor(anchor.chain, anchor.address, anchor.since_block))  # read-only, by address
    walked = fetch_trace(lambda digest: Stores([reader]).get(digest.hex()), trace_root(trace), len(trace))
    assert all(np.array_equal(a, b) for a, b in zip(walked, trace))


def test_an_item_spanning_blobs(anchored):
    anchor, sender = anchored
    store = Eip4844Store(anchor, sender)
    data = secrets.token_bytes(2 * enc.DATA_PER_BLOB + 10)  # three blobs
    digest = store.put(data)
    assert store.last_tx.blob_gas_used == 3 * enc.GAS_PER_BLOB
    assert store.get(digest) == data


def test_a_lie_is_a_mismatch_and_an_unknown_digest_missing(anchored):
    anchor, sender = anchored
    claimed, carried = secrets.token_bytes(64), secrets.token_bytes(64)
    anchor.publish_claims(sender, [(keccak(claimed), 64)], enc.encode([carried]))
    store = Eip4844Store(anchor)
    with pytest.raises(BlobMismatch, match="refused"):
        store.get(digest_of(claimed))
    with pytest.raises(BlobMissing):
        store.get(digest_of(b"never published"))
    with pytest.raises(InvalidInput):
        store.get("0x" + "zz" * 32)


def test_refusals_send_nothing(anchored):
    anchor, sender = anchored
    nonce = anchor.chain.w3.eth.get_transaction_count(sender.address)
    with pytest.raises(DataUnavailable, match="read-only"):
        Eip4844Store(anchor).put(b"x")
    with pytest.raises(DataUnavailable, match="nothing to publish"):
        Eip4844Store(anchor, sender).put_many([b"x", b""])
    with pytest.raises(BlobTooLarge, match="7 blobs"):
        Eip4844Store(anchor, sender).put(bytes(6 * enc.DATA_PER_BLOB))
    assert anchor.chain.w3.eth.get_transaction_count(sender.address) == nonce


def test_a_chain_without_blobs_is_named():
    with open_chain("embedded") as chain:
        sender = Sender(chain)
        sender.ensure_funded()
        with pytest.raises(BlobsUnsupported, match="py-evm"):
            BlobAnchor.deploy(sender)
        # An anchor address on such a chain: put says why it cannot publish, typed as the store's error.
        store = Eip4844Store(BlobAnchor(chain, "0x" + "11" * 20), sender)
        with pytest.raises(StoreUnreachable, match="py-evm") as raised:
            store.put(b"x")
        assert isinstance(raised.value.__cause__, BlobsUnsupported)
