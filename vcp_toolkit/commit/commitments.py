"""What the prover commits to: the model, the execution trace, the input and the output."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from vcp_toolkit.commit.encoding import (
    DOMAIN_INPUT,
    DOMAIN_LEAF,
    DOMAIN_NODE,
    DOMAIN_OUTPUT,
    KIND_ACTIVATION,
    KIND_RECORD,
    ZERO_HASH,
    activation_payload,
    canonical_json,
    header_payload,
    keccak256,
    leaf_hash,
    neuron_payload,
    record_payload,
    salted_commitment,
    u,
)
from vcp_toolkit.commit.merkle import MerkleProof, MerkleTree, merkle_root
from vcp_toolkit.errors import InvalidInput
from vcp_toolkit.model.quantize import QuantizedModel


def model_metadata_digest(model: QuantizedModel) -> bytes:
    """keccak256 of the model's identity (name, scales, provenance) as canonical JSON."""
    return keccak256(canonical_json({
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
            raise InvalidInput(f"no neuron ({layer}, {row})")
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


def record_leaf(input_c: bytes, output_c: bytes, root: bytes) -> bytes:
    return leaf_hash(record_payload(input_c, output_c, root))


@dataclass(frozen=True, eq=False)
class BatchCommitments:
    """Per-record commitments of a batch, plus the records tree (what one batch signature covers)."""

    input_commitments: list[bytes]
    output_commitments: list[bytes]
    trace_roots: list[bytes]
    leaves: list[bytes]

    @cached_property
    def tree(self) -> MerkleTree:
        return MerkleTree(self.leaves)

    @property
    def root(self) -> bytes:
        return self.tree.root


def commit_batch(traces: list[np.ndarray], input_salts: bytes, output_salts: bytes) -> BatchCommitments:
    """Commit to ``N`` inferences at once: ``traces[i]`` is layer ``i``'s (N, width_i) int8 array;
    the salts are ``N`` concatenated 32-byte salts each. Same bytes as trace_root, input_commitment,
    output_commitment and record_leaf one by one, with the per-record Python work cut to slicing."""
    count = traces[0].shape[0]
    if len(input_salts) != 32 * count or len(output_salts) != 32 * count:
        raise InvalidInput("one 32-byte input salt and output salt per record")
    widths = [t.shape[1] for t in traces]
    raw = [np.ascontiguousarray(t, dtype=np.int8).tobytes() for t in traces]
    prefixes = [DOMAIN_LEAF + KIND_ACTIVATION + u(i, 2) + u(w, 4) for i, w in enumerate(widths)]
    input_prefix, output_prefix = DOMAIN_INPUT, DOMAIN_OUTPUT
    in_len, out_len = u(widths[0], 4), u(widths[-1], 4)
    size = 1
    while size < len(traces):
        size *= 2
    padding = [ZERO_HASH] * (size - len(traces))
    record_prefix = DOMAIN_LEAF + KIND_RECORD
    ins, outs, roots, leaves = [], [], [], []
    for k in range(count):
        rows = [buf[k * w:(k + 1) * w] for buf, w in zip(raw, widths)]
        level = [keccak256(p + row) for p, row in zip(prefixes, rows)] + padding
        while len(level) > 1:
            level = [keccak256(DOMAIN_NODE + level[i] + level[i + 1]) for i in range(0, len(level), 2)]
        ic = keccak256(input_prefix + input_salts[32 * k:32 * k + 32] + in_len + rows[0])
        oc = keccak256(output_prefix + output_salts[32 * k:32 * k + 32] + out_len + rows[-1])
        ins.append(ic)
        outs.append(oc)
        roots.append(level[0])
        leaves.append(keccak256(record_prefix + ic + oc + level[0]))
    return BatchCommitments(ins, outs, roots, leaves)
