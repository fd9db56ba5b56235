"""The data-availability interface: stores that lie, die or hold junk change nothing a client
accepts, and a trace comes back only as the on-chain commitments say."""

from __future__ import annotations

import asyncio
import os
import time

import numpy as np
import pytest
from aiohttp import web

from vcp_toolkit.attest.files import TraceBundle
from vcp_toolkit.commit.commitments import input_commitment, output_commitment, trace_root
from vcp_toolkit.commit.encoding import DOMAIN_INPUT, DOMAIN_LEAF, DOMAIN_NODE, DOMAIN_OUTPUT, keccak256
from vcp_toolkit.errors import InvalidInput
from vcp_toolkit.ops.blobdir import DirectoryStore
from vcp_toolkit.ops.da import (BlobMismatch, BlobMissing, BlobStore, BlobTooLarge, DataUnavailable, StoreUnreachable,
                                Stores, open_store, parse_digest)
from vcp_toolkit.ops.da_objects import (MalformedObject, bundle_blobs, fetch_trace, opening_blob, parse_opening,
                                        trace_blobs)
from vcp_toolkit.ops.exchange import Exchange
from vcp_toolkit.ops.http_server import RunningStore
from vcp_toolkit.ops.http_store import HttpStore, store_url

RNG = np.random.default_rng(15)


def vector(width: int) -> np.ndarray:
    return RNG.integers(-128, 128, size=width).astype(np.int8)


def lying_app(answer: bytes) -> web.Application:
    """A store that answers every fetch with ``answer`` and pretends to take every upload."""

    async def get(request: web.Request) -> web.Response:
        return web.Response(body=answer)

    async def put(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({}, status=201)

    app = web.Application()
    app.router.add_get("/blobs/{digest}", get)
    app.router.add_put("/blobs/{digest}", put)
    return app


def dead_url() -> str:
    """A loopback URL nothing listens on (the port of a store that has just stopped)."""
    with RunningStore("/nonexistent", app=web.Application()) as url:
        pass
    return url


@pytest.fixture
def honest(tmp_path):
    with RunningStore(tmp_path / "honest") as url:
        yield url


def test_every_store_is_a_blob_store(tmp_path, honest):
    for store in (open_store(tmp_path / "dir"), open_store(honest)):
        assert isinstance(store, BlobStore)
        digest = store.put(b"both ways")
        assert digest == keccak256(b"both ways").hex() and store.get("0x" + digest) == b"both ways"
    assert isinstance(open_store(honest), HttpStore) and isinstance(open_store(str(tmp_path)), DirectoryStore)


def test_a_store_that_returns_wrong_bytes_is_refused(honest):
    good = HttpStore(honest)
    digest = good.put(b"the real bytes")
    with RunningStore("/unused", app=lying_app(b"forged bytes")) as liar_url:
        liar = HttpStore(liar_url)
        with pytest.raises(BlobMismatch, match="refused"):
            liar.get(digest)
        assert Stores([liar, good]).get(digest) == b"the real bytes"  # the next store answers right
        with pytest.raises(DataUnavailable) as caught:
            Stores([liar]).get(digest)
        assert not isinstance(caught.value, BlobMissing) and "refused" in str(caught.value)


def test_a_store_that_sends_too_much_is_cut_off():
    with RunningStore("/unused", app=lying_app(b"x" * 5000)) as url:
        with pytest.raises(BlobTooLarge):
            HttpStore(url, max_bytes=1000).get("ab" * 32)


def test_dead_stores_are_skipped_and_reported(honest):
    dead = dead_url()
    with pytest.raises(StoreUnreachable):
        HttpStore(dead, timeout=2).get("ab" * 32)
    stores = Stores([HttpStore(dead, timeout=2), HttpStore(honest)])
    digest = stores.put(b"kept once")
    assert list(stores.last_failures) == [dead] and stores.get(digest) == b"kept once"
    with pytest.raises(DataUnavailable, match="no store took"):
        Stores([HttpStore(dead, timeout=2)]).put(b"lost")
    with pytest.raises(BlobMissing):  # every store that answered lacks it
        Stores([HttpStore(honest)]).get("cd" * 32)
    with pytest.raises(DataUnavailable) as caught:  # one could not say: not reported as missing
        stores.get("cd" * 32)
    assert not isinstance(caught.value, BlobMissing)


def test_a_slow_store_times_out():
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response(body=b"late")

    app = web.Application()
    app.router.add_get("/blobs/{digest}", slow)
    with RunningStore("/unused", app=app) as url:
        started = time.monotonic()
        with pytest.raises(StoreUnreachable):
            HttpStore(url, timeout=0.3).get("ab" * 32)
        assert time.monotonic() - started < 4


@pytest.mark.parametrize("url", ["http://127.0.0.1:1/blobs", "ftp://127.0.0.1:1", "http://user:pw@127.0.0.1:1",
                                 "http://127.0.0.1:99999", "http://127.0.0.1:1?x=1", "http://127.0.0.1:1#f",
                                 "http://", "127.0.0.1:1", "http://127.0.0.1:1/../etc"])
def test_store_urls_name_a_server_and_nothing_else(url):
    with pytest.raises(InvalidInput):
        HttpStore(url)


def test_store_url_keeps_scheme_host_and_port():
    assert store_url(" http://127.0.0.2:8080/ ") == "http://127.0.0.2:8080"
    assert store_url("https://[::1]:9") == "https://[::1]:9"


@pytest.mark.parametrize("text", ["", "0x", "ab" * 31, "ab" * 33, "zz" * 32, "../" + "a" * 61, "a" * 63 + "\n",
                                  "ａ" * 64, "0x0x" + "a" * 60, None, 12])
def test_digests_are_64_hex_digits(text):
    with pytest.raises(InvalidInput):
        parse_digest(text)


def test_directory_store_refuses_junk_under_a_blob_name(tmp_path):
    store = DirectoryStore(tmp_path, max_bytes=100)
    fifo, folder, rotten, big = (keccak256(bytes([i])).hex() for i in range(4))
    for digest in (fifo, folder, rotten, big):
        store.path(digest).parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(store.path(fifo))
    store.path(folder).mkdir()
    store.path(rotten).write_bytes(b"rot")
    store.path(big).write_bytes(b"b" * 101)
    started = time.monotonic()
    for digest in (fifo, folder):
        with pytest.raises(BlobMissing):
            store.get(digest)
    assert time.monotonic() - started < 2  # the fifo was never opened
    with pytest.raises(BlobMismatch):
        store.get(rotten)
    with pytest.raises(BlobTooLarge):
        store.get(big)
    with pytest.raises(BlobTooLarge):
        store.put(b"p" * 101)


def test_directory_store_that_cannot_write_says_so(tmp_path):
    (tmp_path / "blobs").write_text("a file where the blob folder should be")
    with pytest.raises(StoreUnreachable):
        DirectoryStore(tmp_path).put(b"nowhere to go")


# ----------------------------------------------------------------------------- objects


@pytest.mark.parametrize("vectors", [1, 2, 3, 4, 5, 8, 9])
def test_a_trace_comes_back_from_its_root_alone(tmp_path, vectors):
    trace = [vector(int(w)) for w in RNG.integers(0, 40, size=vectors)]
    store = DirectoryStore(tmp_path)
    for blob in trace_blobs(trace):
        store.put(blob)
    fetched = fetch_trace(lambda d: store.get(d.hex()), trace_root(trace), vectors)
    assert [v.tolist() for v in fetched] == [v.tolist() for v in trace]
    with pytest.raises(DataUnavailable):  # a tree of another shape is not this model's trace
        fetch_trace(lambda d: store.get(d.hex()), trace_root(trace), vectors + 2 if vectors > 1 else 2)


def test_a_committed_tree_that_is_not_a_trace_is_malformed(tmp_path):
    store = DirectoryStore(tmp_path)
    fetch = lambda d: store.get(d.hex())  # noqa: E731
    swapped = [DOMAIN_LEAF + b"A" + (1).to_bytes(2, "big") + (1).to_bytes(4, "big") + b"\x05",
               DOMAIN_LEAF + b"A" + (0).to_bytes(2, "big") + (1).to_bytes(4, "big") + b"\x06"]
    leaves = [keccak256(b) for b in swapped]
    root = keccak256(DOMAIN_NODE + leaves[0] + leaves[1])
    for blob in swapped + [DOMAIN_NODE + leaves[0] + leaves[1]]:
        store.put(blob)
    with pytest.raises(MalformedObject, match="not activation vector 0"):
        fetch_trace(fetch, root, 2)
    neuron_leaf = DOMAIN_LEAF + b"N" + bytes(20)  # another kind of leaf under the root
    store.put(neuron_leaf)
    with pytest.raises(MalformedObject):
        fetch_trace(fetch, keccak256(neuron_leaf), 1)
    with pytest.raises(MalformedObject, match="not a node"):  # a leaf where the tree needs a node
        fetch_trace(fetch, keccak256(swapped[0]), 2)
    with pytest.raises(MalformedObject):
        fetch_trace(fetch, root, 0)
    with pytest.raises(BlobMissing):
        fetch_trace(fetch, keccak256(b"never published"), 4)


@pytest.mark.parametrize("blob", [b"", b"\x02", b"\x02" + bytes(32), b"\x02" + bytes(32) + (5).to_bytes(4, "big") + b"1234",
                                  b"\x03" + bytes(32) + (1).to_bytes(4, "big") + b"1",
                                  b"\x02" + bytes(32) + (2**32 - 1).to_bytes(4, "big")])
def test_malformed_openings(blob):
    with pytest.raises(MalformedObject):
        parse_opening(blob, DOMAIN_INPUT)


def test_openings_hash_to_the_commitments():
    salt, values = os.urandom(32), vector(7)
    assert keccak256(opening_blob(DOMAIN_INPUT, salt, values)) == input_commitment(salt, values)
    assert keccak256(opening_blob(DOMAIN_OUTPUT, salt, values)) == output_commitment(salt, values)
    opened, opened_salt = parse_opening(opening_blob(DOMAIN_OUTPUT, salt, values), DOMAIN_OUTPUT)
    assert opened.tolist() == values.tolist() and opened_salt == salt


# ----------------------------------------------------------------------------- the exchange


def test_exchange_over_http_stores_publishes_and_fetches_by_commitment(tmp_path, honest):
    trace = [vector(8), vector(5), vector(3)]
    in_salt, out_salt = os.urandom(32), os.urandom(32)
    with RunningStore(tmp_path / "second") as second:
        prover = Exchange([honest, second])
        watcher = Exchange([dead_url(), second], timeout=2)
        assert prover.put_input(trace[0], in_salt) == input_commitment(in_salt, trace[0])
        root = prover.put_bundle(1, "0x" + "00" * 20, 7, TraceBundle(bytes(32), in_salt, out_salt, tuple(trace)))
        assert root == trace_root(trace)
        got = watcher.get_trace(root, input_commitment(in_salt, trace[0]), output_commitment(out_salt, trace[-1]), 3)
    assert got is not None and [v.tolist() for v in got.trace] == [v.tolist() for v in trace]
    assert got.input_opening[1] == in_salt and got.output_opening[1] == out_salt
    assert got.output_opening[0].tolist() == trace[-1].tolist()


def test_exchange_returns_nothing_for_what_nobody_published(tmp_path):
    exchange = Exchange(tmp_path)
    trace = [vector(4), vector(2)]
    assert exchange.get_input(input_commitment(os.urandom(32), trace[0])) is None
    assert exchange.get_trace(trace_root(trace), bytes(32), bytes(32), 2) is None and exchange.last_error
    for blob in trace_blobs(trace):  # the trace alone, without the input opening, checks nothing
        DirectoryStore(tmp_path).put(blob)
    assert exchange.get_trace(trace_root(trace), bytes(32), bytes(32), 2) is None
    salt = os.urandom(32)
    exchange.put_input(trace[0], salt)
    got = exchange.get_trace(trace_root(trace), input_commitment(salt, trace[0]), bytes(32), 2)
    assert got is not None and got.output_opening is None


def test_an_upload_heals_a_blob_damaged_on_disk(tmp_path):
    store = DirectoryStore(tmp_path)
    digest = store.put(b"whole")
    store.path(digest).write_bytes(b"rot!!")
    with pytest.raises(BlobMismatch):
        store.get(digest)
    assert store.put(b"whole") == digest and store.get(digest) == b"whole"


def test_a_store_cannot_redirect_a_client_elsewhere(honest):
    digest = HttpStore(honest).put(b"elsewhere")

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"{honest}/blobs/{request.match_info['digest']}")

    app = web.Application()
    app.router.add_get("/blobs/{digest}", redirect)
    app.router.add_put("/blobs/{digest}", redirect)
    with RunningStore("/unused", app=app) as url:
        with pytest.raises(StoreUnreachable, match="302"):
            HttpStore(url).get(digest)
        with pytest.raises(StoreUnreachable, match="302"):
            HttpStore(url).put(b"elsewhere")


@pytest.mark.parametrize(("vectors", "inner"), [(1, 0), (2, 1), (3, 3), (4, 3), (5, 6), (9, 11), (16, 15)])
def test_a_result_publishes_its_leaves_its_inner_nodes_and_two_openings(vectors, inner):
    trace = [vector(3) for _ in range(vectors)]
    blobs = bundle_blobs(trace, bytes(32), bytes(32))
    assert len(blobs) == vectors + inner + 2 and len(set(blobs)) == len(blobs)
    assert sum(map(len, blobs)) == 2 * (37 + 3) + vectors * (8 + 3) + inner * 65


def test_a_store_that_stopped_answering_is_asked_last(tmp_path):
    asked: list[str] = []

    class Counting(DirectoryStore):
        def get(self, digest: str) -> bytes:
            asked.append(self.where)
            return super().get(digest)

    class Hung:
        where = "hung"

        def put(self, data: bytes) -> str:
            raise StoreUnreachable("timed out")

        def get(self, digest: str) -> bytes:
            asked.append(self.where)
            raise StoreUnreachable("timed out")

    good = Counting(tmp_path)
    stores = Stores([Hung(), good])
    digests = [good.put(bytes([i])) for i in range(3)]
    assert [stores.get(d) for d in digests] == [bytes([i]) for i in range(3)]
    assert asked == ["hung", str(tmp_path), str(tmp_path), str(tmp_path)]  # one timeout, not one per blob
    with pytest.raises(DataUnavailable):  # still asked when nobody else has the blob
        stores.get("ab" * 32)
    assert asked[-2:] == [str(tmp_path), "hung"]


def test_a_publish_costs_one_timeout_of_a_hung_store(tmp_path):
    tried: list[int] = []

    class Hung:
        where = "hung"

        def put(self, data: bytes) -> str:
            tried.append(len(data))
            raise StoreUnreachable("timed out")

        def get(self, digest: str) -> bytes:
            raise StoreUnreachable("timed out")

    stores = Stores([Hung(), DirectoryStore(tmp_path)])
    for i in range(3):
        stores.put(bytes([i]))
    assert len(tried) == 1 and "skipped" in stores.last_failures["hung"]
    stores.retry_after = 0.0  # once the pause is over it is tried again
    stores.put(b"again")
    assert len(tried) == 2
    only = Stores([Hung()])
    for blob in (b"x", b"y"):  # alone, a resting store is still tried rather than none
        with pytest.raises(DataUnavailable):
            only.put(blob)
    assert len(tried) == 4
