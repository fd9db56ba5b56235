"""Finding the first wrong element of an operator graph's committed trace (CNN jobs), and the
evidence that proves it on-chain with ``proveGraphFraud``. The dense-layer counterpart is _disputes."""

from __future__ import annotations

import numpy as np

from vcp_toolkit.chain.evidence import FraudKind
from vcp_toolkit.chain.graph_evidence import GraphEvidence, input_evidence, operator_evidence, output_evidence
from vcp_toolkit.commit.graph_commitments import (GraphModelCommitment, GraphTraceCommitment, graph_input_commitment,
                                                  graph_output_commitment)
from vcp_toolkit.errors import InvalidInput
from vcp_toolkit.verifier._disputes import Claim, Consistent, Fault, Finding, Unusable, _opens


def _first_difference(expected: np.ndarray, given: np.ndarray) -> int | None:
    wrong = np.flatnonzero(np.ravel(expected) != np.ravel(given))
    return int(wrong[0]) if wrong.size else None


def _operator_fault(model: GraphModelCommitment, trace: list[np.ndarray]) -> Fault | None:
    """The first node whose committed tensor differs from what its operator computes from the
    committed tensors it reads (each node checked on its own inputs, as the contract does)."""
    for fields, node in zip(model.node_fields, model.graph.nodes):
        reads = fields.inputs[:node.op.arity]
        expected = node.op(*(trace[i].reshape(1, *model.dims[i]) for i in reads))[0]
        element = _first_difference(expected, trace[fields.node])
        if element is not None:
            return Fault(FraudKind.OPERATOR, fields.node, element,
                         f"node {fields.node} ({node.name}) element {element}: committed "
                         f"{int(np.ravel(trace[fields.node])[element])}, model gives {int(np.ravel(expected)[element])}")
    return None


def _committed(model: GraphModelCommitment, trace: list[np.ndarray]) -> GraphTraceCommitment | Unusable:
    if len(trace) != len(model.shapes):
        return Unusable(f"trace has {len(trace)} tensors, the model needs {len(model.shapes)}")
    for k, (tensor, shape) in enumerate(zip(trace, model.shapes)):
        if np.size(tensor) != shape.size:
            return Unusable(f"trace tensor {k} has {np.size(tensor)} values, the model gives {shape.size}")
    return GraphTraceCommitment.of(trace, model.shapes)


def find_graph_fault(
    model: GraphModelCommitment,
    claim: Claim,
    trace: list[np.ndarray],
    input_salt: bytes,
    output_salt: bytes,
    true_input: tuple[np.ndarray, bytes] | None = None,
    claimed_output: tuple[np.ndarray, bytes] | None = None,
) -> Finding:
    """``find_fault`` for an operator graph: ``trace`` is the per-sample tensors, input first.
    A ``Fault`` names the tensor (``layer``) and flat element (``row``) the contract re-executes."""
    committed = _committed(model, trace)
    if isinstance(committed, Unusable):
        return committed
    if committed.root != claim.trace_root:
        return Unusable("trace does not match the committed trace root")
    if true_input is not None:
        values, _ = _opens(true_input, claim.input_commitment, graph_input_commitment, "input")
        element = _first_difference(values, trace[0])
        if element is not None:
            return Fault(FraudKind.INPUT, 0, element, "trace starts from another input than the job's")
    elif graph_input_commitment(input_salt, trace[0]) != claim.input_commitment:
        return Unusable("the bundle's input does not open the job's input commitment")
    fault = _operator_fault(model, trace)
    if fault is not None:
        return fault
    last = len(model.node_fields)
    if claimed_output is not None:
        values, _ = _opens(claimed_output, claim.output_commitment, graph_output_commitment, "output")
        element = _first_difference(values, trace[-1]) if np.size(values) == trace[-1].size else 0
        if element is not None:
            return Fault(FraudKind.OUTPUT, last, element, "the committed output is not the trace's last tensor")
    elif graph_output_commitment(output_salt, trace[-1]) != claim.output_commitment:
        return Unusable("the bundle's output does not open the output commitment")
    return Consistent()


def graph_evidence_for(fault: Fault, model: GraphModelCommitment, trace: list[np.ndarray],
                       true_input: tuple[np.ndarray, bytes] | None = None,
                       claimed_output: tuple[np.ndarray, bytes] | None = None) -> GraphEvidence:
    """The ``proveGraphFraud`` evidence for a fault ``find_graph_fault`` returned."""
    if not isinstance(fault, Fault):
        raise InvalidInput(f"no fault to prove: {fault!r}")
    committed = GraphTraceCommitment.of(trace, model.shapes)
    if fault.kind == FraudKind.OPERATOR:
        return operator_evidence(model, committed, fault.layer, fault.row)
    if fault.kind == FraudKind.INPUT:
        if true_input is None:
            raise InvalidInput("an input fraud proof needs the job's real input and salt")
        return input_evidence(model, committed, fault.row, *true_input)
    if fault.kind == FraudKind.OUTPUT:
        if claimed_output is None:
            raise InvalidInput("an output fraud proof needs the claimed output and its salt")
        return output_evidence(model, committed, fault.row, *claimed_output)
    raise InvalidInput(f"no graph fraud proof for {fault.kind.name}")
