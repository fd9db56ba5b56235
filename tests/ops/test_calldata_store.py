"""The on-chain calldata store (DataAnchor): a trace bundle published in one transaction is fetched
back item by item and walked as a trace; missing, oversized, empty and read-only cases are refused;
on the embedded chain, Anvil and Ganache alike."""

from __future__ import annotations

import secrets

import numpy as np
import pytest

from vcp_toolkit.chain.anchor import DataAnchor
from vcp_toolkit.chain.reverts import DataAnchorNothingToPublish
from vcp_toolkit.chain.tx import Sender
from vcp_toolkit.commit.commitments import trace_root
from vcp_toolkit.errors import InvalidInput
from vcp_toolkit.model.synthetic import random_inputs
from vcp_toolkit.ops.calldata_store import CalldataStore
from vcp_toolkit.ops.da import BlobMissing, BlobTooLarge, DataUnavailable, Stores, digest_of
from vcp_toolkit.ops.da_objects import bundle_blobs, fetch_trace


@pytest.fixture(scope="module")
def anchored(any_chain):
    sender = Sender(any_chain)
    sender.ensure_funded()
    anchor, deployed = DataAnchor.deploy(sender)
    assert deployed.gas_used > 0
    return anchor, sender


def test_a_bundle_in_one_transaction_comes_back_as_a_trace(anchored, model):
    anchor, sender = anchored
    store = CalldataStore(anchor, sender)
    x = random_inputs(model, 1, seed=5)[0]
    trace = [v[0] for v in model.trace(x[None, :])]
    blobs = bundle_blobs(trace, secrets.token_bytes(32), secrets.token_bytes(32))
    digests = store.put_many(blobs)
    assert digests == [digest_of(b) for b in blobs] and store.last_tx.gas_used > 21_000
    reader = CalldataStore(DataAnchor(anchor.chain, anchor.address, anchor.since_block))  # read-only, by address
    assert [reader.get(d) for d in digests] == blobs
    walked = fetch_trace(lambda digest: Stores([reader]).get(digest.hex()), trace_root(trace), len(trace))
    assert all(np.array_equal(a, b) for a, b in zip(walked, trace))


def test_copies_missing_and_malformed_names(anchored):
    anchor, sender = anchored
    store = CalldataStore(anchor, sender)
    data = b"published twice" + secrets.token_bytes(8)
    copier = Sender(anchor.chain)
    copier.ensure_funded()
    first = store.put(data)
    assert CalldataStore(anchor, copier).put(data) == first  # a copy names the same digest: harmless
    assert store.get(first) == data
    with pytest.raises(BlobMissing):
        store.get(digest_of(b"never published"))
    with pytest.raises(InvalidInput):
        store.get("0x" + "zz" * 32)


def test_refusals_send_nothing(anchored):
    anchor, sender = anchored
    nonce = anchor.chain.w3.eth.get_transaction_count(sender.address)
    with pytest.raises(BlobTooLarge):
        CalldataStore(anchor, sender, max_bytes=1000).put_many([b"a" * 600, b"b" * 1001])
    with pytest.raises(DataUnavailable, match="nothing to publish"):
        CalldataStore(anchor, sender).put_many([b"x", b""])
    with pytest.raises(DataUnavailable, match="read-only"):
        CalldataStore(anchor).put(b"x")
    assert anchor.chain.w3.eth.get_transaction_count(sender.address) == nonce
    with pytest.raises(DataAnchorNothingToPublish) as raised:  # the contract refuses too, naming the item
        anchor.publish(sender, [b"ok", b""])
    assert raised.value.fields["index"] == 1


def test_calldata_gas_grows_with_the_bytes(anchored):
    anchor, sender = anchored
    store = CalldataStore(anchor, sender)
    store.put(secrets.token_bytes(1_000))
    small = store.last_tx.gas_used
    store.put(secrets.token_bytes(11_000))
    large = store.last_tx.gas_used
    # 10,000 more non-zero bytes: 16 gas each at least (40 under Prague's floor), plus hashing and copying
    assert 160_000 <= large - small <= 460_000


def test_a_bundle_over_the_limit_goes_in_several_transactions(anchored):
    anchor, sender = anchored
    items = [secrets.token_bytes(600) for _ in range(5)]
    nonce = anchor.chain.w3.eth.get_transaction_count(sender.address)
    store = CalldataStore(anchor, sender, max_bytes=1300)
    assert store.put_many(items) == [digest_of(i) for i in items]
    assert anchor.chain.w3.eth.get_transaction_count(sender.address) == nonce + 3  # 2 + 2 + 1 items
    assert [store.get(digest_of(i)) for i in items] == items


def test_an_address_without_the_anchor_code_is_refused(anchored):
    anchor, _ = anchored
    assert DataAnchor.at(anchor.chain, anchor.address).address == anchor.address
    for address in ("0x" + "12" * 20, Sender(anchor.chain).address):
        with pytest.raises(InvalidInput, match="is not a DataAnchor"):
            DataAnchor.at(anchor.chain, address)
