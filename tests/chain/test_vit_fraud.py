"""The optimistic game on the built-in ViT: a prover that lies about one element of any operator
(attention score, softmax, weighted sum, LayerNorm, GELU, token-wise dense, residual add, and the
patch, token and classifier nodes) is slashed in one transaction, and the same evidence against an
honest trace pays the prover; contract and numpy agree on random elements of traces of random and
real inputs. The seven operator types the issue names are slashed on Anvil and Ganache too."""

from __future__ import annotations

import numpy as np
import pytest
from graphworld import PARAMS, GraphGame, context, nudged, per_sample_trace, vit_commitment

from vcp_toolkit.bench.graph_disputes import costliest_element
from vcp_toolkit.chain.graph_evidence import operator_evidence
from vcp_toolkit.chain.optimistic import FraudKind, JobStatus
from vcp_toolkit.commit.graph_commitments import GraphTraceCommitment
from vcp_toolkit.contracts import load_artifact

pytestmark = pytest.mark.chain
# What the issue calls each operator type, and the ViT node that is one.
NAMED = {"score": "matmul0", "softmax": "softmax0", "weighted sum": "matmul1", "layernorm": "layernorm0",
         "gelu": "gelu0", "dense": "dense4", "add": "add0"}
OTHERS = ("conv0", "reshape0", "transpose0", "prepend0", "add_const0.value", "add_const0", "transpose3",
          "take0", "dense12")
RANDOM_INPUTS = 60
MNIST_INPUTS = 60


def node_of(model, name: str) -> int:
    return 1 + next(k for k, node in enumerate(model.graph.nodes) if node.name == name)


@pytest.fixture(scope="module")
def game():
    from vcp_toolkit.chain.nodes import open_chain

    with open_chain("embedded") as chain:
        yield GraphGame(chain, {"vit": vit_commitment()})


def _lie_and_truth(game, node: int) -> None:
    model = game.models["vit"]
    element = costliest_element(model.node_fields[node - 1])
    job_id, committed, *_ = game.job("vit", node, lambda t: nudged(t, node, element))
    outcome = game.contract.prove(game.challenger, job_id, operator_evidence(model, committed, node, element))
    assert outcome.fraud, model.graph.nodes[node - 1].name
    block = outcome.tx.block_number
    event, = game.contract.events("FraudProven", block, block)
    assert (event["args"]["kind"], event["args"]["layer"], event["args"]["row"]) == (FraudKind.OPERATOR, node, element)
    job_id, committed, *_ = game.job("vit", node)
    before = game.contract.credit(game.prover.address)
    outcome = game.contract.prove(game.challenger, job_id, operator_evidence(model, committed, node, element))
    assert not outcome.fraud and game.contract.job(job_id).status == JobStatus.ANSWERED
    assert game.contract.credit(game.prover.address) == before + PARAMS.challenge_bond


@pytest.mark.parametrize("role", list(NAMED) + list(OTHERS))
def test_a_lie_in_each_operator_is_slashed_and_the_truth_is_not(game, role):
    _lie_and_truth(game, node_of(game.models["vit"], NAMED.get(role, role)))
    assert game.contract.balance() == game.contract.total_owed()


def test_honest_traces_of_random_and_real_inputs_are_never_judged_wrong(game):
    """The contract's recomputation equals numpy's on random elements of random nodes, for random
    int8 images (saturated pixels included) and held-out MNIST images."""
    model = game.models["vit"]
    operators = game.chain.w3.eth.contract(address=game.contract.contract.functions.graphOperators().call(),
                                           abi=load_artifact("GraphOperators")["abi"])
    rng = np.random.default_rng(31)
    images = [rng.integers(-128, 128, model.graph.input_shape).astype(np.int8) for _ in range(RANDOM_INPUTS)]
    images += list(model.graph.quantize_input(game.images[200:200 + MNIST_INPUTS]))
    nodes = len(model.node_fields)
    for x in images:
        committed = GraphTraceCommitment.of(per_sample_trace(model.graph, x), model.shapes)
        for node in rng.choice(np.arange(1, nodes + 1), 2, replace=False):
            element = int(rng.integers(0, model.node_fields[node - 1].out_shape.size))
            evidence = operator_evidence(model, committed, int(node), element)
            assert operators.functions.check(context(model, committed), *evidence.abi_args()).call() == [
                False, node], (model.graph.nodes[node - 1].name, element)


@pytest.mark.parametrize("chain_kind", ["anvil", "ganache"])
def test_lies_in_the_named_operators_are_slashed_on_local_nodes(chain_kind):
    from vcp_toolkit.chain.nodes import open_chain

    with open_chain(chain_kind) as chain:
        game = GraphGame(chain, {"vit": vit_commitment()})
        model = game.models["vit"]
        for name in NAMED.values():
            node = node_of(model, name)
            element = costliest_element(model.node_fields[node - 1])
            job_id, committed, *_ = game.job("vit", node, lambda t: nudged(t, node, element))
            assert game.contract.prove(game.challenger, job_id, operator_evidence(model, committed, node, element)).fraud
        assert game.contract.balance() == game.contract.total_owed()
