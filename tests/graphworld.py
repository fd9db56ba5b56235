"""Shared helpers of the operator-graph chain tests: commitments of a run, the context the
contract passes to GraphOperators, and traces with one element changed."""

from __future__ import annotations

import functools
import secrets

import numpy as np

from vcp_toolkit.chain.optimistic import OptimisticInference, OptimisticParams
from vcp_toolkit.chain.tx import Sender
from vcp_toolkit.commit.graph_commitments import (GraphModelCommitment, GraphTraceCommitment, graph_input_commitment,
                                                  graph_output_commitment)
from vcp_toolkit.commit.merkle import proof_depth
from vcp_toolkit.model.builtin.graphs import builtin_graph
from vcp_toolkit.model.datasets import load_mnist_split
from vcp_toolkit.model.graph import IntGraph

PARAMS = OptimisticParams(challenge_window=8, answer_window=12, reveal_window=5)
FEE = 10**16


def per_sample_trace(graph: IntGraph, x: np.ndarray) -> list[np.ndarray]:
    """The trace of one image (C, H, W) as per-sample tensors, input first."""
    return [t[0] for t in graph.run(x[None]).trace.values()]


def nudged(trace: list[np.ndarray], node: int, element: int) -> list[np.ndarray]:
    """``trace`` with element ``element`` of tensor ``node`` moved by one step (staying int8)."""
    out = [t.copy() for t in trace]
    flat = out[node].reshape(-1)
    flat[element] = flat[element] - 1 if flat[element] == 127 else flat[element] + 1
    return out


def context(model: GraphModelCommitment, trace: GraphTraceCommitment, input_c: bytes = b"\x00" * 32,
            output_c: bytes = b"\x00" * 32) -> tuple:
    """``IGraphOperators.TraceContext`` as ABI values."""
    return (model.root, proof_depth(model.leaf_count), len(model.node_fields), trace.root, input_c, output_c)


class GraphGame:
    """OptimisticInference with ``models`` (by default both built-in CNNs) registered, and funded actors."""

    def __init__(self, chain, models: dict[str, GraphModelCommitment] | None = None) -> None:
        self.chain = chain
        self.owner, self.requester, self.prover, self.challenger = (Sender(chain) for _ in range(4))
        for account in (self.owner, self.requester, self.prover, self.challenger):
            account.ensure_funded()
        self.contract, _ = OptimisticInference.deploy(self.owner, PARAMS)
        self.models = models or {name: GraphModelCommitment(builtin_graph(name)) for name in ("lenet", "rescnn")}
        for commitment in self.models.values():
            self.contract.register_graph_model(self.owner, commitment)
        self.images = load_mnist_split().x_test

    def job(self, name: str, index: int = 0, lie=None):
        """Open a job on image ``index`` and answer it; ``lie(trace)`` changes the trace first.
        Returns (job id, committed trace, honest trace, input, salts)."""
        model = self.models[name]
        x = model.graph.quantize_input(self.images[index:index + 1])[0]
        honest = per_sample_trace(model.graph, x)
        trace = lie(honest) if lie else honest
        salt_in, salt_out = secrets.token_bytes(32), secrets.token_bytes(32)
        job_id, _ = self.contract.open_job(self.requester, model.root, graph_input_commitment(salt_in, x), FEE)
        committed = GraphTraceCommitment.of(trace, model.shapes)
        self.contract.submit_result(self.prover, job_id, graph_output_commitment(salt_out, trace[-1]), committed.root)
        return job_id, committed, x, salt_in, salt_out


@functools.lru_cache(maxsize=1)
def vit_commitment() -> GraphModelCommitment:
    """The built-in ViT's model commitment (its committed graph file: the same integers on every machine)."""
    return GraphModelCommitment(builtin_graph("vit"))
