"""BlobAnchor on Anvil (Osaka): type-3 transactions whose items are bound to their blobs' versioned
hashes, read back through Anvil's RPC and its beacon-style endpoint, the shared layout vectors
checked against the contract's events, and every hostile publisher or server refused."""

from __future__ import annotations

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from eth_utils import keccak

from vcp_toolkit.chain import blob_encoding as enc
from vcp_toolkit.chain.blob_anchor import BeaconBlobs, BlobAnchor, NodeBlobs, require_blobs
from vcp_toolkit.chain.nodes import open_chain
from vcp_toolkit.chain.reverts import BlobAnchorBlobMissing, BlobAnchorNothingToPublish
from vcp_toolkit.chain.tx import Sender
from vcp_toolkit.errors import BlobsUnsupported, ChainError, InvalidInput

pytestmark = pytest.mark.node

VECTORS = json.loads((Path(__file__).resolve().parents[1] / "vectors" / "blob_layout.json").read_text())


@pytest.fixture(scope="module")
def anvil():
    with open_chain("anvil") as chain:
        yield chain


@pytest.fixture(scope="module")
def anchored(anvil):
    sender = Sender(anvil)
    sender.ensure_funded()
    anchor, deployed = BlobAnchor.deploy(sender)
    assert deployed.gas_used > 0
    return anchor, sender


def distinct_blobs(n: int) -> list[bytes]:
    return [enc.encode([bytes([k + 1]) * 10])[0] for k in range(n)]


def test_items_come_back_from_their_blobs(anchored):
    anchor, sender = anchored
    items = [secrets.token_bytes(n) for n in (1, 31, 5_000, 200_000)]  # the last spans two blobs
    outcome = anchor.publish(sender, items)
    assert outcome.blob_gas_used == 2 * enc.GAS_PER_BLOB and outcome.blob_gas_price >= 1
    for item in items:
        (claim,) = anchor.claims(keccak(item))
        assert claim.publisher == sender.address and claim.tx_hash == outcome.tx_hash
        found = anchor.find(keccak(item))
        assert found.data == item and not found.refused
    assert anchor.find(keccak(b"never published")).data is None


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: c["name"])
def test_the_contract_lays_out_the_shared_vectors(anchored, case):
    """BlobAnchor's events name the blobs and offsets of the vectors (BlobLayout.sol == layout())."""
    anchor, sender = anchored
    blobs = distinct_blobs(case["blobs"])
    hashes = [enc.versioned_hash(b) for b in blobs]
    claims = [(secrets.token_bytes(32), size) for size in case["sizes"]]
    outcome = anchor.publish_claims(sender, claims, blobs)
    events = anchor.contract.events.BlobPublished().process_receipt({"logs": list(outcome.logs)})
    assert len(events) == len(claims)
    for event, (digest, size), (first, last, offset) in zip(events, claims, case["placements"]):
        args = event["args"]
        assert (args["digest"], args["size"], args["offset"]) == (digest, size, offset)
        assert list(args["versionedHashes"]) == hashes[first:last + 1]


def test_a_claim_of_more_blobs_than_carried_reverts(anchored):
    anchor, sender = anchored
    with pytest.raises(BlobAnchorBlobMissing) as raised:
        anchor.publish_claims(sender, [(keccak(b"a"), 126_945), (keccak(b"b"), 1)], distinct_blobs(1))
    assert raised.value.fields == {"needed": 2, "carried": 1}
    with pytest.raises(BlobAnchorNothingToPublish) as raised:
        anchor.publish_claims(sender, [(keccak(b"a"), 5), (keccak(b""), 0)], distinct_blobs(1))
    assert raised.value.fields["index"] == 1


def test_a_false_digest_is_refused_and_an_honest_copy_still_found(anchored):
    anchor, sender = anchored
    item, other = secrets.token_bytes(500), secrets.token_bytes(500)
    anchor.publish_claims(sender, [(keccak(item), len(item))], enc.encode([other]))  # claims item, carries other
    lying = anchor.find(keccak(item))
    assert lying.data is None and "refused" in lying.refused[0]
    anchor.publish(sender, [item])
    honest = anchor.find(keccak(item))
    assert honest.data == item and len(honest.refused) == 1  # the lie is skipped, and said so


class SwappingSource:
    """A blob server that answers every request with another blob."""

    where = "a lying blob server"

    def blob(self, versioned_hash: bytes, block_number: int) -> bytes:
        return enc.encode([b"not what was published"])[0]


def test_a_swapped_blob_fails_its_versioned_hash(anchored):
    anchor, sender = anchored
    item = secrets.token_bytes(300)
    anchor.publish(sender, [item])
    lied_to = BlobAnchor(anchor.chain, anchor.address, anchor.since_block, source=SwappingSource())
    found = lied_to.find(keccak(item))
    assert found.data is None and "KZG commitment" in found.refused[0]


def test_one_transaction_carries_six_blobs_and_no_more(anchored):
    anchor, sender = anchored
    big = secrets.token_bytes(enc.MAX_BLOBS_PER_TX * enc.DATA_PER_BLOB - 31)
    assert anchor.publish(sender, [big]).blob_gas_used == 6 * enc.GAS_PER_BLOB
    assert anchor.find(keccak(big)).data == big
    with pytest.raises(InvalidInput, match="1 to 6"):  # EIP-7594's per-transaction cap, before any signing
        anchor.publish_claims(sender, [(keccak(b"x"), 1)], distinct_blobs(7))
    seven = distinct_blobs(7)
    with pytest.raises(ChainError):  # sent anyway, the node refuses it; the nonce is free again
        sender.transact_blobs(to=sender.address, data=b"", blobs=seven,
                              versioned_hashes=[enc.versioned_hash(b) for b in seven])
    with pytest.raises(InvalidInput):  # a malformed blob is refused before a nonce is taken
        sender.transact_blobs(to=sender.address, data=b"", blobs=[b"\xff" * enc.BYTES_PER_BLOB],
                              versioned_hashes=[b"\x01" + bytes(31)])
    assert anchor.publish(sender, [b"next"]).blob_gas_used == enc.GAS_PER_BLOB  # not stuck behind a gap


def test_beacon_endpoint_of_anvil(anchored):
    """Anvil serves /eth/v1/beacon/blobs/{block} keyed by execution block number."""
    anchor, sender = anchored
    item = secrets.token_bytes(1_000)
    anchor.publish(sender, [item])
    beacon = BeaconBlobs(anchor.chain.rpc_url, anchor.chain, block_id=str)
    reader = BlobAnchor(anchor.chain, anchor.address, anchor.since_block, source=beacon)
    assert reader.find(keccak(item)).data == item


def beacon_stub(blobs_by_slot: dict[str, list[bytes]], genesis_time: int) -> ThreadingHTTPServer:
    """A beacon node's two endpoints a reader needs, serving ``blobs_by_slot``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            url = urlparse(self.path)
            if url.path == "/eth/v1/beacon/genesis":
                body = {"data": {"genesis_time": str(genesis_time)}}
            elif url.path.startswith("/eth/v1/beacon/blobs/"):
                wanted = parse_qs(url.query).get("versioned_hashes", [""])[0]
                slot = url.path.rsplit("/", 1)[1]
                body = {"data": ["0x" + b.hex() for b in blobs_by_slot.get(slot, [])
                                 if "0x" + enc.versioned_hash(b).hex() == wanted]}
            else:
                self.send_error(404)
                return
            raw = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_beacon_blobs_by_slot_from_a_stub_beacon_node(anchored):
    """A real network's reader: slot = (timestamp - genesis) // 12, then the blobs of that slot."""
    anchor, sender = anchored
    item = secrets.token_bytes(2_000)
    outcome = anchor.publish(sender, [item])
    timestamp = int(anchor.chain.w3.eth.get_block(outcome.block_number)["timestamp"])
    genesis = timestamp - 12 * 40 - 5  # the block sits in slot 40
    server = beacon_stub({"40": enc.encode([item])}, genesis)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        reader = BlobAnchor(anchor.chain, anchor.address, anchor.since_block, source=BeaconBlobs(url, anchor.chain))
        assert reader.find(keccak(item)).data == item
        pruned = beacon_stub({}, genesis)  # past the retention window: the node has no blobs for the slot
        try:
            gone = BlobAnchor(anchor.chain, anchor.address, anchor.since_block,
                              source=BeaconBlobs(f"http://127.0.0.1:{pruned.server_address[1]}", anchor.chain))
            found = gone.find(keccak(item))
            assert found.data is None and not found.refused and "pruned" in found.unavailable[0]
        finally:
            pruned.shutdown()
    finally:
        server.shutdown()


def test_node_blobs_reads_anvil(anchored):
    anchor, sender = anchored
    blob = distinct_blobs(1)[0]
    outcome = anchor.publish_claims(sender, [(keccak(b"k"), 1)], [blob])
    assert NodeBlobs(anchor.chain).blob(enc.versioned_hash(blob), outcome.block_number) == blob


@pytest.mark.parametrize("kind, hardfork, why", [("embedded", None, "py-evm"), ("anvil", "shanghai", "Cancun")])
def test_chains_without_blobs_say_so(kind, hardfork, why):
    with open_chain(kind, hardfork=hardfork) as chain:
        with pytest.raises(BlobsUnsupported, match=why):
            require_blobs(chain)
        sender = Sender(chain)
        sender.ensure_funded()
        with pytest.raises(BlobsUnsupported):
            BlobAnchor.deploy(sender)
