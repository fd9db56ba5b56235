"""Finding the first wrong step of a committed trace, and the evidence that proves it on-chain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from vcp.chain.optimistic import FraudKind
from vcp.commit.commitments import ModelCommitment, input_commitment, output_commitment, trace_tree
from vcp.commit.encoding import int8_bytes
from vcp.model.quantize import QuantizedModel


@dataclass(frozen=True)
class Fault:
    """The first provable error in a result, and which fraud proof shows it."""

    kind: FraudKind
    layer: int = 0
    row: int = 0
    detail: str = ""


@dataclass(frozen=True)
class Claim:
    """What is on-chain for one answered job."""

    input_commitment: bytes
    output_commitment: bytes
    trace_root: bytes


def find_fault(
    model: QuantizedModel,
    claim: Claim,
    trace: list[np.ndarray],
    input_salt: bytes,
    output_salt: bytes,
    true_input: tuple[np.ndarray, bytes] | None = None,
    claimed_output: tuple[np.ndarray, bytes] | None = None,
) -> Fault | None:
    """Check a trace that matches ``claim.trace_root`` step by step.

    Each layer is recomputed from the *committed* previous vector, so the fault found is one
    neuron the contract can re-execute. ``true_input`` (values, salt) opening the job's input
    commitment lets an input swap be proven even when the bundle's own salt does not open it;
    ``claimed_output`` (values, salt), the output the prover handed over, opening the output
    commitment, lets a trace that ends elsewhere be proven wrong.
    Returns None when every check holds. Raises ValueError if ``trace`` does not match the root
    (such a bundle proves nothing: ask for a reveal instead).
    """
    if trace_tree(trace).root != claim.trace_root:
        raise ValueError("trace does not match the committed trace root")
    if true_input is not None:
        values, salt = true_input
        if input_commitment(salt, values) != claim.input_commitment:
            raise ValueError("the given input does not open the job's input commitment")
        if not np.array_equal(values, trace[0]) or values.shape != trace[0].shape:
            return Fault(FraudKind.INPUT, detail="trace starts from another input than the job's")
    elif input_commitment(input_salt, trace[0]) != claim.input_commitment:
        raise ValueError("the bundle's input does not open the job's input commitment")
    if len(trace) != len(model.layers) + 1:
        raise ValueError(f"trace has {len(trace)} vectors, the model needs {len(model.layers) + 1}")
    for index, layer in enumerate(model.layers):
        given_in, given_out = trace[index], trace[index + 1]
        if given_in.shape != (layer.in_width,) or given_out.shape != (layer.out_width,):
            return Fault(FraudKind.NEURON, index, 0, f"trace vector widths wrong at layer {index}")
        expected = layer(given_in[None, :])[0]
        wrong = np.flatnonzero(expected != given_out)
        if wrong.size:
            row = int(wrong[0])
            return Fault(FraudKind.NEURON, index, row,
                         f"layer {index} neuron {row}: committed {int(given_out[row])}, model gives {int(expected[row])}")
    if claimed_output is not None:
        values, salt = claimed_output
        if output_commitment(salt, values) != claim.output_commitment:
            raise ValueError("the claimed output does not open the output commitment")
        if values.shape != trace[-1].shape or not np.array_equal(values, trace[-1]):
            return Fault(FraudKind.OUTPUT, len(model.layers), 0, "the committed output is not the trace's last vector")
    elif output_commitment(output_salt, trace[-1]) != claim.output_commitment:
        raise ValueError("the bundle's output does not open the output commitment")
    return None


def neuron_evidence(commitment: ModelCommitment, trace: list[np.ndarray], layer: int, row: int) -> tuple:
    """The ``NeuronEvidence`` struct for ``proveNeuronFraud``, as web3 takes it."""
    model = commitment.model
    q = model.layers[layer]
    index = commitment.neuron_index(layer, row)
    tree = trace_tree(trace)
    neuron = (layer, row, q.in_width, q.out_width, int(q.bias[row]), int(q.multiplier[row]), int(q.shift[row]),
              int(q.activation), int8_bytes(q.weight[row]))
    return (
        neuron, index, list(commitment.tree.proof(index).siblings),
        int8_bytes(trace[layer]), list(tree.proof(layer).siblings),
        int8_bytes(trace[layer + 1]), list(tree.proof(layer + 1).siblings),
    )


def fraud_call(fault: Fault, commitment: ModelCommitment, trace: list[np.ndarray],
               true_input: tuple[np.ndarray, bytes] | None = None,
               claimed_output: tuple[np.ndarray, bytes] | None = None) -> tuple[str, tuple[Any, ...]]:
    """(contract function name, arguments after the job id) that proves ``fault``."""
    tree = trace_tree(trace)
    if fault.kind == FraudKind.NEURON:
        return "proveNeuronFraud", (neuron_evidence(commitment, trace, fault.layer, fault.row),)
    if fault.kind == FraudKind.INPUT:
        if true_input is None:
            raise ValueError("an input fraud proof needs the job's real input and salt")
        values, salt = true_input
        return "proveInputFraud", (int8_bytes(values), salt, int8_bytes(trace[0]), list(tree.proof(0).siblings))
    if fault.kind == FraudKind.OUTPUT:
        if claimed_output is None:
            raise ValueError("an output fraud proof needs the claimed output and its salt")
        values, salt = claimed_output
        last = len(trace) - 1
        return "proveOutputFraud", (int8_bytes(values), salt, int8_bytes(trace[-1]), list(tree.proof(last).siblings))
    raise ValueError(f"no fraud proof for {fault.kind.name}")
