"""The evidence of the three fraud proofs of OptimisticInference, as typed values.

Each kind knows which proof it feeds (``kind``) and how to become the ABI arguments of that
proof after the job id (``abi_args``); ``vcp.chain.optimistic.OptimisticInference`` dispatches on
the type, so no caller names a contract function. The verifier builds these (``of`` below, from a
model commitment and a trace); tests build hostile ones field by field.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar, Union

import numpy as np

from vcp_toolkit.commit.commitments import ModelCommitment, trace_tree
from vcp_toolkit.commit.encoding import int8_bytes
from vcp_toolkit.errors import InvalidInput


class FraudKind(IntEnum):
    """Mirrors the contract's ``FraudKind`` (the ``FraudProven`` event's kind)."""

    NEURON = 0
    INPUT = 1
    OUTPUT = 2
    WITHHELD = 3
    OPERATOR = 4  # an element of an operator graph's trace (proveGraphFraud)


@dataclass(frozen=True)
class NeuronData:
    """``VcpEncoding.NeuronData``: one neuron of the committed model, as the contract re-executes it."""

    layer: int
    row: int
    in_width: int
    out_width: int
    bias: int
    multiplier: int
    shift: int
    activation: int
    weights: bytes

    def as_tuple(self) -> tuple:
        return (self.layer, self.row, self.in_width, self.out_width, self.bias, self.multiplier, self.shift,
                self.activation, self.weights)


@dataclass(frozen=True)
class NeuronEvidence:
    """``proveNeuronFraud``: a neuron of the model, the committed vector it read and the one it
    wrote, each with its Merkle proof."""

    kind: ClassVar[FraudKind] = FraudKind.NEURON
    neuron: NeuronData
    neuron_index: int
    neuron_proof: tuple[bytes, ...]
    inputs: bytes
    inputs_proof: tuple[bytes, ...]
    outputs: bytes
    outputs_proof: tuple[bytes, ...]

    @classmethod
    def of(cls, commitment: ModelCommitment, trace: list[np.ndarray], layer: int, row: int) -> "NeuronEvidence":
        """Neuron ``row`` of ``layer`` against ``trace`` (the committed one)."""
        layers = commitment.model.layers
        if not (0 <= layer < len(layers) and 0 <= row < layers[layer].out_width and len(trace) == len(layers) + 1):
            raise InvalidInput(f"no neuron ({layer}, {row}) in a model of {len(layers)} layers with a trace of "
                               f"{len(trace)} vectors")
        q = layers[layer]
        index = commitment.neuron_index(layer, row)
        tree = trace_tree(trace)
        neuron = NeuronData(layer, row, q.in_width, q.out_width, int(q.bias[row]), int(q.multiplier[row]),
                            int(q.shift[row]), int(q.activation), int8_bytes(q.weight[row]))
        return cls(neuron, index, tuple(commitment.tree.proof(index).siblings),
                   int8_bytes(trace[layer]), tuple(tree.proof(layer).siblings),
                   int8_bytes(trace[layer + 1]), tuple(tree.proof(layer + 1).siblings))

    def abi_args(self) -> tuple:
        return ((self.neuron.as_tuple(), self.neuron_index, list(self.neuron_proof), self.inputs,
                 list(self.inputs_proof), self.outputs, list(self.outputs_proof)),)


@dataclass(frozen=True)
class InputEvidence:
    """``proveInputFraud``: the job's real input (opening its input commitment) and the trace's
    first vector with its proof."""

    kind: ClassVar[FraudKind] = FraudKind.INPUT
    input: bytes
    input_salt: bytes
    trace_input: bytes
    trace_proof: tuple[bytes, ...]

    @classmethod
    def of(cls, trace: list[np.ndarray], values: np.ndarray, salt: bytes) -> "InputEvidence":
        return cls(int8_bytes(values), salt, int8_bytes(trace[0]), tuple(trace_tree(trace).proof(0).siblings))

    def abi_args(self) -> tuple:
        return (self.input, self.input_salt, self.trace_input, list(self.trace_proof))


@dataclass(frozen=True)
class OutputEvidence:
    """``proveOutputFraud``: the output the prover handed over (opening the output commitment)
    and the trace's last vector with its proof."""

    kind: ClassVar[FraudKind] = FraudKind.OUTPUT
    output: bytes
    output_salt: bytes
    trace_output: bytes
    trace_proof: tuple[bytes, ...]

    @classmethod
    def of(cls, trace: list[np.ndarray], values: np.ndarray, salt: bytes) -> "OutputEvidence":
        last = len(trace) - 1
        return cls(int8_bytes(values), salt, int8_bytes(trace[last]), tuple(trace_tree(trace).proof(last).siblings))

    def abi_args(self) -> tuple:
        return (self.output, self.output_salt, self.trace_output, list(self.trace_proof))


Evidence = Union[NeuronEvidence, InputEvidence, OutputEvidence]
EVIDENCE_TYPES: tuple[type, ...] = (NeuronEvidence, InputEvidence, OutputEvidence)
