"""find_graph_fault on the built-in ViT: honest traces of hundreds of inputs (held-out MNIST and
random int8 images) are Consistent; a lie in any node is found at its node and element."""

from __future__ import annotations

import numpy as np
from graphworld import nudged, per_sample_trace, vit_commitment

from vcp_toolkit.chain.evidence import FraudKind
from vcp_toolkit.commit.graph_commitments import GraphTraceCommitment, graph_input_commitment, graph_output_commitment
from vcp_toolkit.model.datasets import load_mnist_split
from vcp_toolkit.verifier import Claim, Consistent, find_graph_fault

HONEST_IMAGES = 150
RANDOM_IMAGES = 100
SALT_IN, SALT_OUT = b"\x05" * 32, b"\x06" * 32


def _claim(model, trace) -> Claim:
    return Claim(graph_input_commitment(SALT_IN, trace[0]), graph_output_commitment(SALT_OUT, trace[-1]),
                 GraphTraceCommitment.of(trace, model.shapes).root)


def test_honest_traces_of_real_and_random_inputs_are_consistent():
    model = vit_commitment()
    rng = np.random.default_rng(5)
    images = list(model.graph.quantize_input(load_mnist_split().x_test[300:300 + HONEST_IMAGES]))
    images += [rng.integers(-128, 128, model.graph.input_shape).astype(np.int8) for _ in range(RANDOM_IMAGES)]
    for x in images:
        trace = per_sample_trace(model.graph, x)
        assert find_graph_fault(model, _claim(model, trace), trace, SALT_IN, SALT_OUT) == Consistent()


def test_a_lie_in_any_node_is_found_where_it_is():
    model = vit_commitment()
    honest = per_sample_trace(model.graph, model.graph.quantize_input(load_mnist_split().x_test[9:10])[0])
    rng = np.random.default_rng(8)
    for node in range(1, len(model.node_fields) + 1):
        element = int(rng.integers(0, honest[node].size))
        trace = nudged(honest, node, element)
        found = find_graph_fault(model, _claim(model, trace), trace, SALT_IN, SALT_OUT)
        assert (found.kind, found.layer, found.row) == (FraudKind.OPERATOR, node, element), found
