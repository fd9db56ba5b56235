"""What the prover commits to: the model, the execution trace, the input and the output."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from eth_utils import keccak

from vcp.encoding import (
    DOMAIN_INPUT,
    DOMAIN_OUTPUT,
    activation_payload,
    canonical_json,
    header_payload,
    leaf_hash,
    neuron_payload,
    salted_commitment,
)
from vcp.merkle import MerkleProof, MerkleTree, merkle_root
from vcp.quantize import QuantizedModel


def model_metadata_digest(model: QuantizedModel) -> bytes:
    """keccak256 of the model's identity (name, scales, provenance) as canonical JSON."""
    return keccak(canonical_json({
        "name": model.name,
        "input_scale": model.input_scale,
        "output_scale": model.output_scale,
        "metadata": model.metadata,
    }))


@dataclass(frozen=True, eq=False)
class ModelCommitment:
    """Merkle tree over a header leaf followed by one leaf per neuron, layer by layer."""

    model: QuantizedModel

    @cached_property
    def payloads(self) -> list[bytes]:
        m = self.model
        out = [header_payload(len(m.layers), m.input_width, m.output_width, m.neuron_count, model_metadata_digest(m))]
        for index, layer in enumerate(m.layers):
            for row in range(layer.out_width):
                out.append(neuron_payload(
                    index, row, layer.in_width, layer.out_width, int(layer.bias[row]),
                    int(layer.multiplier[row]), int(layer.shift[row]), int(layer.activation), layer.weight[row],
                ))
        return out

    @cached_property
    def tree(self) -> MerkleTree:
        return MerkleTree([leaf_hash(p) for p in self.payloads])

    @property
    def root(self) -> bytes:
        return self.tree.root

    def neuron_index(self, layer: int, row: int) -> int:
        """Position of neuron (layer, row) in the tree: after the header and earlier layers."""
        widths = [lyr.out_width for lyr in self.model.layers]
        if not (0 <= layer < len(widths) and 0 <= row < widths[layer]):
            raise IndexError(f"no neuron ({layer}, {row})")
        return 1 + sum(widths[:layer]) + row

    def neuron_proof(self, layer: int, row: int) -> tuple[bytes, MerkleProof]:
        index = self.neuron_index(layer, row)
        return self.payloads[index], self.tree.proof(index)

    def header_proof(self) -> tuple[bytes, MerkleProof]:
        return self.payloads[0], self.tree.proof(0)


def trace_leaves(trace: list[np.ndarray]) -> list[bytes]:
    return [leaf_hash(activation_payload(i, vec)) for i, vec in enumerate(trace)]


def trace_root(trace: list[np.ndarray]) -> bytes:
    """Merkle root over every layer's int8 activations, input (index 0) to output (last)."""
    return merkle_root(trace_leaves(trace))


def trace_tree(trace: list[np.ndarray]) -> MerkleTree:
    return MerkleTree(trace_leaves(trace))


def input_commitment(salt: bytes, values: np.ndarray) -> bytes:
    return salted_commitment(DOMAIN_INPUT, salt, values)


def output_commitment(salt: bytes, values: np.ndarray) -> bytes:
    return salted_commitment(DOMAIN_OUTPUT, salt, values)
