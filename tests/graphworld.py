"""Shared helpers of the operator-graph chain tests: commitments of a run, the context the
contract passes to GraphOperators, and traces with one element changed."""

from __future__ import annotations

import numpy as np

from vcp_toolkit.commit.graph_commitments import GraphModelCommitment, GraphTraceCommitment
from vcp_toolkit.commit.merkle import proof_depth
from vcp_toolkit.model.graph import IntGraph


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
