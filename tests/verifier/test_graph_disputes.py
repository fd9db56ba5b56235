"""find_graph_fault on the built-in CNNs: honest traces of hundreds of held-out images are
Consistent; each lie (one wrong element in any operator, other weights, a swapped input, another
output) is found at the right tensor and element, and its evidence slashes on the embedded chain."""

from __future__ import annotations

import dataclasses
import secrets

import numpy as np
import pytest
from graphworld import GraphGame, nudged, per_sample_trace

from vcp_toolkit.chain.evidence import FraudKind
from vcp_toolkit.commit.graph_commitments import (GraphModelCommitment, GraphTraceCommitment, graph_input_commitment,
                                                  graph_output_commitment)
from vcp_toolkit.errors import InvalidInput
from vcp_toolkit.model.builtin.graphs import builtin_graph
from vcp_toolkit.model.datasets import load_mnist_split
from vcp_toolkit.model.graph import IntGraph
from vcp_toolkit.verifier import Claim, Consistent, Fault, Unusable, find_graph_fault, graph_evidence_for

HONEST_IMAGES = 150


@pytest.fixture(scope="module")
def models():
    return {name: GraphModelCommitment(builtin_graph(name)) for name in ("lenet", "rescnn")}


def claim_for(trace, model, salt_in, salt_out, x=None, output=None) -> Claim:
    return Claim(graph_input_commitment(salt_in, trace[0] if x is None else x),
                 graph_output_commitment(salt_out, trace[-1] if output is None else output),
                 GraphTraceCommitment.of(trace, model.shapes).root)


@pytest.mark.parametrize("name", ["lenet", "rescnn"])
def test_honest_traces_are_consistent(models, name):
    model = models[name]
    images = model.graph.quantize_input(load_mnist_split().x_test[:HONEST_IMAGES])
    salt_in, salt_out = b"\x01" * 32, b"\x02" * 32
    for x in images:
        trace = per_sample_trace(model.graph, x)
        assert find_graph_fault(model, claim_for(trace, model, salt_in, salt_out), trace, salt_in, salt_out) \
            == Consistent()


@pytest.mark.parametrize("name", ["lenet", "rescnn"])
def test_a_wrong_element_is_found_where_it_is(models, name):
    model = models[name]
    x = model.graph.quantize_input(load_mnist_split().x_test[7:8])[0]
    honest = per_sample_trace(model.graph, x)
    rng = np.random.default_rng(3)
    for node in range(1, len(model.node_fields) + 1):
        element = int(rng.integers(0, honest[node].size))
        trace = nudged(honest, node, element)
        found = find_graph_fault(model, claim_for(trace, model, b"\x01" * 32, b"\x02" * 32), trace,
                                 b"\x01" * 32, b"\x02" * 32)
        assert (found.kind, found.layer, found.row) == (FraudKind.OPERATOR, node, element), found


def test_other_weights_swapped_input_and_other_output(models):
    model = models["rescnn"]
    images = model.graph.quantize_input(load_mnist_split().x_test[10:12])
    salt_in, salt_out = b"\x03" * 32, b"\x04" * 32
    # Other weights: the prover ran a model whose second conv differs.
    graph = model.graph
    conv = graph.nodes[1].op
    weight = conv.weight.copy()
    weight[0, 0, 1, 1] = np.int8(-weight[0, 0, 1, 1] if weight[0, 0, 1, 1] != -128 else 127)
    other = IntGraph(graph.input_shape, graph.input_scale,
                     (graph.nodes[0], dataclasses.replace(graph.nodes[1], op=dataclasses.replace(conv, weight=weight)),
                      *graph.nodes[2:]))
    trace = per_sample_trace(other, images[0])
    found = find_graph_fault(model, claim_for(trace, model, salt_in, salt_out), trace, salt_in, salt_out)
    assert found.kind == FraudKind.OPERATOR and found.layer == 2
    # A swapped input: the trace starts from another image than the committed one.
    trace = per_sample_trace(graph, images[1])
    claim = claim_for(trace, model, salt_in, salt_out, x=images[0])
    assert isinstance(find_graph_fault(model, claim, trace, salt_in, salt_out), Unusable)
    found = find_graph_fault(model, claim, trace, salt_in, salt_out, true_input=(images[0], salt_in))
    assert found.kind == FraudKind.INPUT and found.row == int(np.flatnonzero(images[0].ravel() != images[1].ravel())[0])
    # Another output than the trace's last tensor.
    trace = per_sample_trace(graph, images[0])
    claimed = trace[-1].copy()
    claimed[4] = claimed[4] + 1 if claimed[4] < 127 else 0
    claim = claim_for(trace, model, salt_in, salt_out, output=claimed)
    found = find_graph_fault(model, claim, trace, salt_in, salt_out, claimed_output=(claimed, salt_out))
    assert (found.kind, found.row) == (FraudKind.OUTPUT, 4)
    with pytest.raises(InvalidInput, match="does not open"):
        find_graph_fault(model, claim, trace, salt_in, salt_out, claimed_output=(claimed, salt_in))


def test_unusable_bundles(models):
    model = models["lenet"]
    x = model.graph.quantize_input(load_mnist_split().x_test[:1])[0]
    trace = per_sample_trace(model.graph, x)
    claim = claim_for(trace, model, b"\x01" * 32, b"\x02" * 32)
    assert isinstance(find_graph_fault(model, claim, trace[:-1], b"\x01" * 32, b"\x02" * 32), Unusable)
    assert isinstance(find_graph_fault(model, claim, [trace[0].ravel()[:5], *trace[1:]], b"\x01" * 32, b"\x02" * 32),
                      Unusable)
    assert isinstance(find_graph_fault(model, claim, nudged(trace, 3, 0), b"\x01" * 32, b"\x02" * 32), Unusable)
    with pytest.raises(InvalidInput, match="no fault"):
        graph_evidence_for(Consistent(), model, trace)


@pytest.mark.chain
def test_found_faults_slash_on_chain(embedded_chain):
    game = GraphGame(embedded_chain)
    for name, node in (("lenet", 3), ("rescnn", 4), ("rescnn", 13)):
        model = game.models[name]
        element = 5
        job_id, committed, x, salt_in, salt_out = game.job(name, node, lambda t: nudged(t, node, element))
        job = game.contract.job(job_id)
        trace = [t.reshape(-1) for t in committed.tensors]
        found = find_graph_fault(model, Claim(job.input_commitment, job.output_commitment, job.trace_root), trace,
                                 salt_in, salt_out)
        assert isinstance(found, Fault) and (found.layer, found.row) == (node, element)
        assert game.contract.prove(game.challenger, job_id, graph_evidence_for(found, model, trace)).fraud
    salt = secrets.token_bytes(32)
    assert len(salt) == 32
