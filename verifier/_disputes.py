"""Finding the first wrong step of a committed trace, and the evidence that proves it on-chain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import numpy as np

from vcp_toolkit.chain.evidence import Evidence, FraudKind, InputEvidence, NeuronEvidence, OutputEvidence
from vcp_toolkit.commit.commitments import ModelCommitment, input_commitment, output_commitment, trace_tree
from vcp_toolkit.errors import InvalidInput
from vcp_toolkit.model.quantize import QuantizedModel


@dataclass(frozen=True)
class Fault:
    """The first provable error in a result, and which fraud proof shows it."""

    kind: FraudKind
    layer: int = 0
    row: int = 0
    detail: str = ""


@dataclass(frozen=True)
class Consistent:
    """Every check holds: the trace opens the roots and the model computes it."""


@dataclass(frozen=True)
class Unusable:
    """The trace (or its salts) does not open the job's commitments, so it proves nothing either
    way: ask for the trace on-chain (``requestReveal``) instead."""

    reason: str


Finding = Union[Fault, Consistent, Unusable]


@dataclass(frozen=True)
class Claim:
    """What is on-chain for one answered job."""

    input_commitment: bytes
    output_commitment: bytes
    trace_root: bytes


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.array_equal(a, b))


def _opens(value: tuple[np.ndarray, bytes], commitment: bytes, commit, what: str) -> tuple[np.ndarray, bytes]:
    """``value`` (values, salt) handed in by the caller must open ``commitment``: a genuine error if not."""
    values, salt = value
    if commit(salt, values) != commitment:
        raise InvalidInput(f"the given {what} does not open the job's {what} commitment")
    return values, salt


def _layer_fault(model: QuantizedModel, trace: list[np.ndarray]) -> Fault | None:
    """The first neuron whose committed output is not what the model computes from the committed input."""
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
    return None


def find_fault(
    model: QuantizedModel,
    claim: Claim,
    trace: list[np.ndarray],
    input_salt: bytes,
    output_salt: bytes,
    true_input: tuple[np.ndarray, bytes] | None = None,
    claimed_output: tuple[np.ndarray, bytes] | None = None,
) -> Finding:
    """Check a trace against ``claim`` step by step: a ``Fault``, ``Consistent()``, or
    ``Unusable(reason)`` when the trace does not open the claim's roots (such a bundle proves
    nothing: ask for a reveal instead).

    Each layer is recomputed from the *committed* previous vector, so the fault found is one
    neuron the contract can re-execute. ``true_input`` (values, salt) opening the job's input
    commitment lets an input swap be proven even when the bundle's own salt does not open it;
    ``claimed_output`` (values, salt), the output the prover handed over, opening the output
    commitment, lets a trace that ends elsewhere be proven wrong. Raises InvalidInput only when
    one of those two does not open its commitment (the caller's data is wrong).
    """
    if trace_tree(trace).root != claim.trace_root:
        return Unusable("trace does not match the committed trace root")
    if true_input is not None:
        values, _ = _opens(true_input, claim.input_commitment, input_commitment, "input")
        if not _same(values, trace[0]):
            return Fault(FraudKind.INPUT, detail="trace starts from another input than the job's")
    elif input_commitment(input_salt, trace[0]) != claim.input_commitment:
        return Unusable("the bundle's input does not open the job's input commitment")
    if len(trace) != len(model.layers) + 1:
        return Unusable(f"trace has {len(trace)} vectors, the model needs {len(model.layers) + 1}")
    fault = _layer_fault(model, trace)
    if fault is not None:
        return fault
    if claimed_output is not None:
        values, _ = _opens(claimed_output, claim.output_commitment, output_commitment, "output")
        if not _same(values, trace[-1]):
            return Fault(FraudKind.OUTPUT, len(model.layers), 0, "the committed output is not the trace's last vector")
    elif output_commitment(output_salt, trace[-1]) != claim.output_commitment:
        return Unusable("the bundle's output does not open the output commitment")
    return Consistent()


def neuron_evidence(commitment: ModelCommitment, trace: list[np.ndarray], layer: int, row: int) -> NeuronEvidence:
    """The evidence for ``proveNeuronFraud`` on neuron ``row`` of ``layer``."""
    return NeuronEvidence.of(commitment, trace, layer, row)


def evidence_for(fault: Fault, commitment: ModelCommitment, trace: list[np.ndarray],
                 true_input: tuple[np.ndarray, bytes] | None = None,
                 claimed_output: tuple[np.ndarray, bytes] | None = None) -> Evidence:
    """The evidence that proves ``fault`` (give the client's ``prove`` or ``claim`` this)."""
    if not isinstance(fault, Fault):
        raise InvalidInput(f"no fault to prove: {fault!r}")
    if fault.kind == FraudKind.NEURON:
        return NeuronEvidence.of(commitment, trace, fault.layer, fault.row)
    if fault.kind == FraudKind.INPUT:
        if true_input is None:
            raise InvalidInput("an input fraud proof needs the job's real input and salt")
        return InputEvidence.of(trace, *true_input)
    if fault.kind == FraudKind.OUTPUT:
        if claimed_output is None:
            raise InvalidInput("an output fraud proof needs the claimed output and its salt")
        return OutputEvidence.of(trace, *claimed_output)
    raise InvalidInput(f"no fraud proof for {fault.kind.name}")  # WITHHELD is slashed, not proven
