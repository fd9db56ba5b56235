"""The attacks an outside review found on the optimistic game and the batch format, replayed:
junk claims against the watcher, a poisoned job, reveal griefing, and two records at one index.
Each test failed on the code before the fix."""

from __future__ import annotations

import secrets
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from vcp_toolkit.prover import honest
from vcp_toolkit.prover import cheats
from vcp_toolkit.attest.eip712 import BatchAttestation, sign_attestation
from vcp_toolkit.chain import reverts as r
from vcp_toolkit.chain.optimistic import JobStatus, OptimisticInference, OptimisticParams
from vcp_toolkit.chain.tx import Sender
from vcp_toolkit.commit.commitments import ModelCommitment, input_commitment, output_commitment, record_leaf, trace_root
from vcp_toolkit.commit.encoding import header_payload, int8_bytes, leaf_hash, node_hash, record_payload
from vcp_toolkit.errors import ChainError
from vcp_toolkit.ops.exchange import Exchange
from vcp_toolkit.attest.files import TraceBundle
from vcp_toolkit.model.synthetic import random_inputs, random_model
from vcp_toolkit.verifier import Watcher, neuron_evidence

pytestmark = pytest.mark.chain

# The defaults users deploy with: two junk claims used to outlast this challenge window.
PARAMS = OptimisticParams()
FEE = 10**16


class Game:
    """A deployed contract, the demo model, an exchange, and funded actors."""

    def __init__(self, chain, commitment: ModelCommitment, tmp_path, params: OptimisticParams = PARAMS) -> None:
        self.chain, self.commitment, self.model = chain, commitment, commitment.model
        self.owner, self.requester, self.cheater, self.watcher_key, self.griefer = (Sender(chain) for _ in range(5))
        for s in (self.owner, self.requester, self.cheater, self.watcher_key, self.griefer):
            s.ensure_funded()
        self.contract, _ = OptimisticInference.deploy(self.owner, params)
        self.contract.register_model(self.owner, commitment)
        self.exchange = Exchange(tmp_path / "exchange")
        self.inputs = random_inputs(self.model, 8, seed=7)
        self.watcher = Watcher(self.contract, self.watcher_key, [self.model], tmp_path / "w.json", self.exchange)

    def open(self, index: int, requester: Sender | None = None, fee: int = FEE) -> int:
        commitment = self.exchange.put_input(self.inputs[index], secrets.token_bytes(32))
        return self.contract.open_job(requester or self.requester, self.commitment.root, commitment, fee)[0]

    def answer(self, job_id: int, index: int, strategy=cheats.wrong_output):
        job = self.contract.job(job_id)
        values, salt = self.exchange.get_input(job.input_commitment)
        answer = strategy(self.model, values, salt)
        self.contract.submit_result(self.cheater, job_id, output_commitment(answer.output_salt, answer.trace[-1]),
                                    trace_root(answer.trace))
        bundle = TraceBundle(self.commitment.root, answer.input_salt, answer.output_salt, tuple(answer.trace))
        self.exchange.put_bundle(self.chain.chain_id, self.contract.address, job_id, bundle)
        return answer

    def junk_claim(self, job_id: int) -> None:
        self.contract.claim_raw(self.griefer, job_id, secrets.token_bytes(32))


@pytest.fixture
def game(embedded_chain, model_commitment, tmp_path):
    return Game(embedded_chain, model_commitment, tmp_path)


# ----------------------------------------------------------------------------- 1. junk claims


def test_junk_claims_every_block_cannot_keep_the_watcher_out(game):
    job_id = game.open(0)
    game.answer(job_id, 0)
    game.junk_claim(job_id)  # the gate is on before the watcher even looks
    step = game.watcher.step()
    assert job_id in step.claimed and step.challenged[job_id][1].fraud
    assert game.contract.job(job_id).status == JobStatus.OPEN  # slashed and re-opened
    reward = PARAMS.prover_bond * PARAMS.challenger_reward_bps // 10_000
    assert game.contract.credit(game.watcher_key.address) == PARAMS.challenge_bond + reward


def test_the_reviewers_replay_two_junk_claims_until_the_window_closes(game):
    """The exact attack: a junk claim every revealWindow blocks until the window closes."""
    job_id = game.open(0)
    game.answer(job_id, 0)
    deadline = game.contract.job(job_id).deadline
    slashed = False
    while game.chain.w3.eth.block_number + 1 < deadline and not slashed:
        game.junk_claim(job_id)
        slashed = any(outcome.fraud for _, outcome in game.watcher.step().challenged.values())
    assert slashed


def test_the_last_block_of_the_window_is_open_to_unclaimed_proofs(game, model):
    job_id = game.open(0)
    answer = game.answer(job_id, 0, cheats.wrong_hidden_layer)
    evidence = neuron_evidence(game.commitment, answer.trace, 0, 0)
    deadline = game.contract.job(job_id).deadline
    game.chain.mine(deadline - game.chain.w3.eth.block_number - 2)
    game.junk_claim(job_id)  # mined in block deadline - 1: the gate would run past the window
    assert game.chain.w3.eth.block_number == deadline - 1
    with pytest.raises(r.OptimisticDeadlinePassed):  # a claim in the last block could never be proven
        game.contract.claim(game.griefer, job_id, evidence)
    assert game.contract.prove_neuron_fraud(game.watcher_key, job_id, evidence).fraud


def test_a_copied_claim_transaction_gives_the_copier_nothing(game):
    job_id = game.open(0)
    answer = game.answer(job_id, 0, cheats.wrong_hidden_layer)
    evidence = neuron_evidence(game.commitment, answer.trace, 0, 0)
    honest_commitment = game.contract.claim_commitment(game.watcher_key.address, job_id, evidence)
    copier = game.griefer
    game.contract.claim_raw(copier, job_id, honest_commitment)
    game.contract.claim(game.watcher_key, job_id, evidence)
    with pytest.raises(r.OptimisticClaimRequired):  # the copied claim is no claim of the copier's
        game.contract.prove_neuron_fraud(copier, job_id, evidence)
    assert game.contract.prove_neuron_fraud(game.watcher_key, job_id, evidence).fraud
    assert game.contract.credit(copier.address) == 0


def test_claim_commitment_mirrors_the_contract(game):
    evidence = b"\x11" * 32
    onchain = game.contract.contract.functions.claimCommitment(game.griefer.address, 7, evidence).call()
    from eth_abi import encode

    from vcp_toolkit.commit.encoding import keccak256

    assert bytes(onchain) == keccak256(encode(["address", "uint256", "bytes32"], [game.griefer.address, 7, evidence]))


# ----------------------------------------------------------------------------- 2. one poisoned job


def test_one_poisoned_job_does_not_blind_the_watcher_to_the_others(game):
    """The cheater answers its own 1-wei job and a victim's job; its own job's dispute fails (it
    slashes itself just ahead of the watcher), and the victim's wrong result must still be caught."""
    own = game.open(0, requester=game.cheater, fee=1)
    victim = game.open(1)
    own_answer = game.answer(own, 0)
    game.answer(victim, 1)
    original_claim = game.contract.claim
    last = len(game.model.layers) - 1
    row = int(np.flatnonzero(own_answer.trace[-1] != honest(game.model, game.inputs[0], b"\0" * 32).trace[-1])[0])

    def front_run(sender, job_id, evidence):
        if job_id == own:  # the cheater's own proof lands first: the watcher's claim then reverts
            game.contract.prove_neuron_fraud(game.cheater, own,
                                             neuron_evidence(game.commitment, own_answer.trace, last, row))
        return original_claim(sender, job_id, evidence)

    game.contract.claim = front_run
    step = game.watcher.step()
    assert own in step.errors and "OptimisticJobNotInStatus" in step.errors[own]
    assert step.challenged[victim][1].fraud
    assert game.contract.job(victim).status == JobStatus.OPEN
    again = game.watcher.step()  # the failed job is looked at again, and found superseded
    assert not again.errors and game.watcher.state.data["pending"] == {}


def test_watch_loop_survives_node_errors(monkeypatch):
    from vcp_toolkit.cli import optimistic as service_loop

    calls = []

    class Stop(Exception):
        pass

    def step():
        calls.append(1)
        if len(calls) < 3:
            raise ChainError("reading events: the node is unreachable (ConnectionError)")
        raise Stop

    monkeypatch.setattr(service_loop.time, "sleep", lambda _: None)
    with pytest.raises(Stop):
        service_loop.run_steps(step, once=False, interval=1.0)
    assert len(calls) == 3
    with pytest.raises(ChainError):
        calls.clear()
        service_loop.run_steps(step, once=True, interval=1.0)


# ----------------------------------------------------------------------------- 3. reveal griefing


@pytest.mark.parametrize("widths", [[64, 16, 10], [64, 32, 10], [784, 128, 10], [1024, 1024, 1024, 10],
                                    [4096, 512, 10]])
def test_the_reveal_bond_pays_for_the_reveal(embedded_chain, widths, tmp_path):
    """The bond covers the prover's reveal gas at the base fee (up to twice the request's), so a
    griefer who asks for a published trace loses more than the honest prover spends."""
    model = random_model(widths, seed=len(widths))
    commitment = ModelCommitment(model)
    g = Game(embedded_chain, commitment, tmp_path)
    job_id = g.open(0)
    answer = g.answer(job_id, 0, honest)
    base_fee = int(embedded_chain.w3.eth.get_block("latest")["baseFeePerGas"])
    request = g.contract.request_reveal(g.griefer, job_id)
    bond = g.contract.job(job_id).reveal_bond
    reveal = g.contract.reveal_trace(g.cheater, job_id, [int8_bytes(v) for v in answer.trace],
                                     answer.input_salt, answer.output_salt)
    bound = g.contract.reveal_gas_bound(commitment.root)
    assert reveal.gas_used <= bound <= 2 * reveal.gas_used + 60_000  # a bound, and not a loose one
    assert bond >= PARAMS.reveal_bond + bound * base_fee * 2 * 8 // 9  # the base fee falls at most 1/8 a block
    for price in (base_fee, 2 * base_fee, 10**9, 30 * 10**9):  # the reveal's gas at any price the bond names
        covered_price = (bond - PARAMS.reveal_bond) // bound
        if price <= covered_price:
            assert reveal.gas_used * price <= bond  # the prover is paid for its reveal
            assert request.gas_used * price + bond > reveal.gas_used * price - bond  # griefing costs more
    assert g.contract.credit(g.cheater.address) == bond


def test_reveal_gas_bound_mirrors_the_contract(embedded_chain, tmp_path):
    model = random_model([300, 40, 7], seed=3)
    commitment = ModelCommitment(model)
    g = Game(embedded_chain, commitment, tmp_path)
    trace_bytes = model.input_width + model.neuron_count
    vectors = len(model.layers) + 1
    expected = 85_000 + 4_000 * vectors + 44 * trace_bytes + trace_bytes * trace_bytes // 131_072
    assert g.contract.reveal_gas_bound(commitment.root) == expected
    with pytest.raises(r.OptimisticModelNotRegistered):
        g.contract.reveal_gas_bound(b"\x01" * 32)


# ----------------------------------------------------------------------------- 4. the answer window


def test_an_open_job_past_its_answer_window_can_only_be_cancelled(game):
    job_id = game.open(0)
    game.chain.mine(PARAMS.answer_window + 1)
    with pytest.raises(r.OptimisticDeadlinePassed):
        game.answer(job_id, 0, honest)
    game.contract.cancel_job(game.requester, job_id)
    assert game.contract.job(job_id).status == JobStatus.CANCELLED
    text = (Path(__file__).parents[2] / "contracts/src/OptimisticInference.sol").read_text()
    assert "can only be cancelled" in text and "can still be cancelled or answered" not in text


# ----------------------------------------------------------------------------- 5. one record per index


def _two_records_at_index_one(registry, key, model_root: bytes):
    """A batch whose root opens index 1 at two depths: node(node(L0, L1), R)."""
    records = [(secrets.token_bytes(32), secrets.token_bytes(32), secrets.token_bytes(32)) for _ in range(3)]
    l0, l1, extra = (record_leaf(*rec) for rec in records)
    root = node_hash(node_hash(l0, l1), extra)
    batch = BatchAttestation(prover=key.address, model_root=model_root, records_root=root, count=2, nonce=77)
    return batch, records, (l0, l1, extra)


def test_a_batch_fixes_one_record_per_index(registry_setup, model_commitment):
    registry, operator, key = registry_setup
    batch, records, (l0, l1, extra) = _two_records_at_index_one(registry, key, model_commitment.root)
    registry.submit_batch(operator, batch, sign_attestation(batch, registry.domain, key.reveal()))
    assert registry.verify_record(batch, records[2], 1, [node_hash(l0, l1)])  # the depth count=2 implies
    assert not registry.verify_record(batch, records[1], 1, [l0, extra])  # a second record at index 1: refused
    assert not registry.verify_record(batch, records[0], 0, [l1, extra])
    assert not registry.verify_record(batch, records[2], 1, [node_hash(l0, l1), b"\x00" * 32])  # too long
    assert not registry.verify_record(batch, records[2], 2, [node_hash(l0, l1)])  # index past count


def test_record_leaf_is_the_leaf_verify_record_hashes(model_commitment):
    rec = (b"\x01" * 32, b"\x02" * 32, b"\x03" * 32)
    assert record_leaf(*rec) == leaf_hash(record_payload(*rec))


def test_neuron_and_trace_proofs_must_have_the_trees_depth(game):
    job_id = game.open(0)
    answer = game.answer(job_id, 0, cheats.wrong_hidden_layer)
    evidence = neuron_evidence(game.commitment, answer.trace, 0, 0)
    for proof in ("neuron_proof", "inputs_proof", "outputs_proof"):  # one sibling too many, one too few
        siblings = getattr(evidence, proof)
        with pytest.raises(r.OptimisticInvalidProof):
            game.contract.prove_neuron_fraud(game.watcher_key, job_id,
                                             replace(evidence, **{proof: siblings + (b"\x00" * 32,)}))
        with pytest.raises(r.OptimisticInvalidProof):
            game.contract.prove_neuron_fraud(game.watcher_key, job_id, replace(evidence, **{proof: siblings[:-1]}))
    assert game.contract.prove_neuron_fraud(game.watcher_key, job_id, evidence).fraud


def test_a_header_proof_of_the_wrong_depth_is_refused(embedded_chain):
    """A root of the wrong shape for its neuron count (5 neurons: depth 3, not 1) is not registered."""
    owner = Sender(embedded_chain)
    owner.ensure_funded()
    contract, _ = OptimisticInference.deploy(owner, PARAMS)
    header = (1, 4, 5, 5, b"\x00" * 32)
    sibling = secrets.token_bytes(32)
    root = node_hash(leaf_hash(header_payload(*header)), sibling)
    fn = contract.contract.functions.registerModel(root, *header, [sibling])
    with pytest.raises(r.OptimisticInvalidHeader):
        contract.send_call(owner, fn, "registering")
