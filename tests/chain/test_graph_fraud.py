"""The optimistic game on the built-in CNNs (LeNet-5 and the residual CNN): a prover that lies about
one element of any operator (conv, max pool, flatten, dense, add, global average pool), about the
input or about the output is slashed in one transaction; the same evidence against an honest trace
fails and pays the prover; a withheld trace is slashed; an honest reveal passes within its gas bound.
The lies are caught on the embedded chain, Anvil and Ganache."""

from __future__ import annotations

import secrets

import numpy as np
import pytest
from graphworld import FEE, PARAMS, GraphGame, context, nudged, per_sample_trace

from vcp_toolkit.chain import reverts as r
from vcp_toolkit.chain.graph_evidence import input_evidence, operator_evidence, output_evidence
from vcp_toolkit.chain.optimistic import FraudKind, JobStatus
from vcp_toolkit.chain.tx import Sender
from vcp_toolkit.commit.graph_commitments import (GraphModelCommitment, GraphTraceCommitment, graph_input_commitment,
                                                  graph_output_commitment)
from vcp_toolkit.commit.graph_encoding import OP_CODES
from vcp_toolkit.commit.graph_receptive import receptive_tiles

pytestmark = pytest.mark.chain
KIND_NAMES = {code: name for name, code in OP_CODES.items()}


def worst_element(fields) -> int:
    """The output element whose window opens the most tiles (the costliest proof of the node)."""
    return max(range(fields.out_shape.size), key=lambda e: (sum(map(len, receptive_tiles(fields, e))), e))


@pytest.fixture(scope="module")
def game():
    from vcp_toolkit.chain.nodes import open_chain

    with open_chain("embedded") as chain:
        yield GraphGame(chain)


@pytest.mark.parametrize("name", ["lenet", "rescnn"])
def test_a_lie_in_any_operator_is_slashed_and_the_truth_is_not(game, name):
    model = game.models[name]
    for node, fields in enumerate(model.node_fields, start=1):
        element = worst_element(fields)
        job_id, committed, *_ = game.job(name, node, lambda t: nudged(t, node, element))
        outcome = game.contract.prove(game.challenger, job_id, operator_evidence(model, committed, node, element))
        assert outcome.fraud, (name, node, KIND_NAMES[fields.kind])
        block = outcome.tx.block_number
        event, = game.contract.events("FraudProven", block, block)
        assert (event["args"]["kind"], event["args"]["layer"], event["args"]["row"]) == (
            FraudKind.OPERATOR, node, element)
        assert game.contract.job(job_id).status == JobStatus.OPEN
        # The same element of an honest answer: the challenge fails and its bond pays the prover.
        job_id, committed, *_ = game.job(name, node)
        before = game.contract.credit(game.prover.address)
        outcome = game.contract.prove(game.challenger, job_id, operator_evidence(model, committed, node, element))
        assert not outcome.fraud and game.contract.job(job_id).status == JobStatus.ANSWERED
        assert game.contract.credit(game.prover.address) == before + PARAMS.challenge_bond
    assert game.contract.balance() == game.contract.total_owed()


def test_input_and_output_lies_are_slashed(game):
    model = game.models["lenet"]
    job_id, committed, x, salt_in, _ = game.job("lenet", 3, lambda t: nudged(t, 0, 400))
    outcome = game.contract.prove(game.challenger, job_id, input_evidence(model, committed, 400, x, salt_in))
    assert outcome.fraud
    # The prover commits to an output that is not the trace's last tensor.
    x = model.graph.quantize_input(game.images[4:5])[0]
    trace = per_sample_trace(model.graph, x)
    salt_in, salt_out = secrets.token_bytes(32), secrets.token_bytes(32)
    job_id, _ = game.contract.open_job(game.requester, model.root, graph_input_commitment(salt_in, x), FEE)
    committed = GraphTraceCommitment.of(trace, model.shapes)
    claimed = trace[-1].copy()
    claimed[int(np.argmax(claimed))] -= 1
    game.contract.submit_result(game.prover, job_id, graph_output_commitment(salt_out, claimed), committed.root)
    element = int(np.argmax(trace[-1]))
    outcome = game.contract.prove(game.challenger, job_id, output_evidence(model, committed, element, claimed, salt_out))
    assert outcome.fraud


def test_withheld_trace_is_slashed_and_an_honest_reveal_passes(game):
    job_id, committed, *_ = game.job("rescnn", 5)
    game.contract.request_reveal(game.challenger, job_id)
    game.chain.mine(PARAMS.reveal_window + 1)
    game.contract.slash_withheld(game.owner, job_id)
    assert game.contract.job(job_id).status == JobStatus.OPEN
    for name in ("lenet", "rescnn"):
        job_id, committed, x, salt_in, salt_out = game.job(name, 6)
        bound = game.contract.reveal_gas_bound(game.models[name].root)
        game.contract.request_reveal(game.challenger, job_id)
        with pytest.raises(r.OptimisticInvalidReveal):
            game.contract.reveal_trace(game.prover, job_id, committed.reveal_payload(), salt_out, salt_in)
        tx = game.contract.reveal_trace(game.prover, job_id, committed.reveal_payload(), salt_in, salt_out)
        assert tx.gas_used <= bound, (name, tx.gas_used, bound)
        assert game.contract.job(job_id).revealed


def test_honest_traces_of_many_images_are_never_judged_wrong(game):
    """Every node of both CNNs on 6 held-out images: the contract's recomputation of a random
    element equals numpy's (as eth_calls of GraphOperators.check)."""
    operators = game.chain.w3.eth.contract(address=game.contract.contract.functions.graphOperators().call(),
                                           abi=__import__("vcp_toolkit.contracts", fromlist=["x"]).load_artifact(
                                               "GraphOperators")["abi"])
    rng = np.random.default_rng(21)
    for name, model in game.models.items():
        for index in range(6):
            x = model.graph.quantize_input(game.images[100 + index:101 + index])[0]
            committed = GraphTraceCommitment.of(per_sample_trace(model.graph, x), model.shapes)
            for node, fields in enumerate(model.node_fields, start=1):
                element = int(rng.integers(0, fields.out_shape.size))
                evidence = operator_evidence(model, committed, node, element)
                assert operators.functions.check(context(model, committed), *evidence.abi_args()).call() == [
                    False, node]


@pytest.mark.parametrize("chain_kind", ["anvil", "ganache"])
def test_lies_are_slashed_on_local_nodes(chain_kind):
    """One lie per operator kind of the residual CNN (conv, add, GAP, flatten, dense) and LeNet's max pool."""
    from vcp_toolkit.chain.nodes import open_chain

    with open_chain(chain_kind) as chain:
        game = GraphGame(chain)
        cases = [("rescnn", node) for node in (1, 4, 13, 14, 15)] + [("lenet", 2)]
        for name, node in cases:
            model = game.models[name]
            element = worst_element(model.node_fields[node - 1])
            job_id, committed, *_ = game.job(name, node, lambda t: nudged(t, node, element))
            assert game.contract.prove(game.challenger, job_id, operator_evidence(model, committed, node, element)).fraud
        assert game.contract.balance() == game.contract.total_owed()


def test_a_copied_graph_proof_waits_for_the_claimant(game):
    """The claim gate covers proveGraphFraud: with a young claim on the job, a copier's proof of the
    same evidence reverts, and the claimant's proof a block later slashes."""
    model = game.models["lenet"]
    node, element = 2, 7
    job_id, committed, *_ = game.job("lenet", 9, lambda t: nudged(t, node, element))
    evidence = operator_evidence(model, committed, node, element)
    game.contract.claim(game.challenger, job_id, evidence)
    copier = Sender(game.chain)
    copier.ensure_funded()
    with pytest.raises(r.OptimisticClaimRequired):
        game.contract.prove(copier, job_id, evidence)
    game.chain.mine(1)
    assert game.contract.prove(game.challenger, job_id, evidence).fraud
