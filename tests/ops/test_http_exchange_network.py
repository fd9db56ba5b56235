"""Provers and watchers that share no disk: a prover publishes to HTTP stores, a watcher reads
from another list of stores and proves a lie from what it fetched; a bundle no store holds, or
one a store forges, ends in the reveal request, and an ignored reveal in a slash."""

from __future__ import annotations

import secrets

import pytest
from aiohttp import web

from vcp_toolkit.chain.optimistic import JobStatus, OptimisticInference, OptimisticParams
from vcp_toolkit.chain.tx import Sender
from vcp_toolkit.model.synthetic import random_inputs
from vcp_toolkit.ops.blobdir import DirectoryStore
from vcp_toolkit.ops.da import StoreUnreachable
from vcp_toolkit.ops.exchange import Exchange
from vcp_toolkit.ops.http_server import RunningStore
from vcp_toolkit.prover import ProverService, cheats, honest
from vcp_toolkit.verifier import Watcher

pytestmark = pytest.mark.chain
FEE = 10**16
PARAMS = OptimisticParams()


class Network:
    """A contract on the embedded chain, and a requester, a prover and a watcher with their own keys."""

    def __init__(self, chain, commitment, tmp_path) -> None:
        self.chain, self.commitment, self.model, self.tmp = chain, commitment, commitment.model, tmp_path
        self.owner, self.requester, self.prover_key, self.watcher_key = (Sender(chain) for _ in range(4))
        for sender in (self.owner, self.requester, self.prover_key, self.watcher_key):
            sender.ensure_funded()
        self.contract, _ = OptimisticInference.deploy(self.owner, PARAMS)
        self.contract.register_model(self.owner, commitment)
        self.inputs = random_inputs(self.model, 4, seed=15)

    def open(self, exchange: Exchange, index: int) -> int:
        commitment = exchange.put_input(self.inputs[index], secrets.token_bytes(32))
        return self.contract.open_job(self.requester, self.commitment.root, commitment, FEE)[0]

    def prover(self, exchange: Exchange, strategy) -> ProverService:
        return ProverService(self.contract, self.prover_key, self.model, exchange, self.tmp / "prover.json", strategy)

    def watcher(self, exchange: Exchange) -> Watcher:
        return Watcher(self.contract, self.watcher_key, [self.model], self.tmp / "watcher.json", exchange)


@pytest.fixture
def net(embedded_chain, model_commitment, tmp_path):
    return Network(embedded_chain, model_commitment, tmp_path)


@pytest.fixture
def stores(tmp_path):
    """Three running stores and the URL of a dead one."""
    with RunningStore(tmp_path / "a") as a, RunningStore(tmp_path / "b") as b, RunningStore(tmp_path / "c") as c:
        with RunningStore("/unused", app=web.Application()) as dead:
            pass
        yield a, b, c, dead


def test_watcher_on_other_stores_fetches_the_bundle_and_proves_the_lie(net, stores):
    a, b, c, dead = stores
    job_id = net.open(Exchange([a]), 0)
    # The prover reads the input from the requester's store and publishes to every one it knows.
    assert job_id in net.prover(Exchange([dead, a, b], timeout=2), cheats.wrong_hidden_layer).step().answered
    step = net.watcher(Exchange([dead, c, b], timeout=2)).step()  # only b is shared with the prover
    assert job_id not in step.reveal_requested
    fault, outcome = step.challenged[job_id]
    assert outcome.fraud and fault.kind.name == "NEURON"
    assert net.contract.job(job_id).status != JobStatus.ANSWERED


def test_honest_result_fetched_over_http_is_verified(net, stores):
    a, b, _, _ = stores
    job_id = net.open(Exchange([a]), 1)
    assert job_id in net.prover(Exchange([a]), honest).step().answered
    assert net.watcher(Exchange([b, a])).step().verified == [job_id]


def test_a_bundle_no_store_holds_leads_to_a_reveal_request_then_a_slash(net, stores):
    a, b, _, dead = stores
    job_id = net.open(Exchange([a]), 2)
    assert job_id in net.prover(Exchange([a]), cheats.withheld_trace).step().answered
    watcher = net.watcher(Exchange([dead, b, a], timeout=2))
    assert job_id in watcher.step().reveal_requested
    net.chain.mine(PARAMS.reveal_window + 1)
    assert job_id in watcher.step().slashed_withheld


def test_a_store_that_forges_the_bundle_cannot_fool_the_watcher(net, stores, tmp_path):
    """An honest answer whose published copy is damaged on the only store the watcher reads: the
    watcher refuses the forged bytes and asks for the trace on-chain; the honest prover reveals it
    and the result is verified."""
    a, _, _, _ = stores
    job_id = net.open(Exchange([a]), 3)
    service = net.prover(Exchange([a]), honest)
    assert job_id in service.step().answered
    for blob in (tmp_path / "a" / "blobs").rglob("*"):
        if blob.is_file():
            blob.write_bytes(b"forged " + blob.read_bytes()[7:])
    watcher = net.watcher(Exchange([a]))
    step = watcher.step()
    assert job_id in step.reveal_requested and not step.challenged
    assert job_id in service.step().revealed
    assert watcher.step().verified == [job_id]


class ReadOnlyStore:
    """A store that serves what it holds and takes nothing (a full disk, a read-only mount)."""

    def __init__(self, inner: DirectoryStore) -> None:
        self.inner, self.where = inner, f"read-only {inner.where}"

    def put(self, data: bytes) -> str:
        raise StoreUnreachable(f"{self.where} takes nothing")

    def get(self, digest: str) -> bytes:
        return self.inner.get(digest)


def test_a_prover_no_store_takes_still_answers_and_reveals_on_request(net, tmp_path):
    shared = DirectoryStore(tmp_path / "shared")
    job_id = net.open(Exchange([shared]), 0)
    service = net.prover(Exchange([ReadOnlyStore(shared)]), honest)
    assert job_id in service.step().answered  # the answer goes out although its trace is published nowhere
    watcher = net.watcher(Exchange([shared]))
    assert job_id in watcher.step().reveal_requested
    assert job_id in service.step().revealed
    assert watcher.step().verified == [job_id]
