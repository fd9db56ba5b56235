"""Commitments of an operator graph: the model root (header, one leaf per node, one per output
channel of a conv or dense node) and the trace root (one tensor leaf per node, each the root of
that tensor's tiles), so that a fraud proof opens only the tiles a window touches."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from vcp_toolkit.commit.commitments import input_commitment, output_commitment
from vcp_toolkit.commit.encoding import canonical_json, keccak256, leaf_hash
from vcp_toolkit.commit.graph_encoding import (NodeFields, Shape, channel_payload, graph_header_payload, node_payload,
                                               op_code, tensor_payload, tile_of_element, tile_payload, tiles_of)
from vcp_toolkit.commit.merkle import MerkleProof, MerkleTree, multiproof
from vcp_toolkit.commit.transformer_leaves import committed_op, transformer_fields, transformer_rows
from vcp_toolkit.errors import InvalidInput
from vcp_toolkit.model.graph import INPUT, IntGraph


def graph_dims(graph: IntGraph) -> list[tuple[int, ...]]:
    """Per-sample numpy shape of tensor 0 (the input) and of every node's output, in trace order."""
    run = graph.run(np.zeros((1, *graph.input_shape), dtype=np.int8))
    return [tuple(t.shape[1:]) for t in run.trace.values()]


def graph_shapes(graph: IntGraph) -> list[Shape]:
    """Committed (C, H, W) shape of every tensor, in trace order."""
    return [Shape.of(dims) for dims in graph_dims(graph)]


def graph_metadata_digest(graph: IntGraph) -> bytes:
    """keccak256 of the graph's identity and scales (what the integers mean) as canonical JSON."""
    return keccak256(canonical_json({"name": graph.name, "metadata": graph.metadata, "input_scale": graph.input_scale,
                                     "scales": [node.scale for node in graph.nodes]}))


def _channel_rows(op) -> list[tuple[int, int, int, np.ndarray]]:
    """(bias, multiplier, shift, weights in leaf order) per output channel of a conv or dense."""
    weights = op.weight.transpose(0, 2, 3, 1) if op.kind == "conv" else op.weight  # conv: (O, KH, KW, C/g)
    return [(int(op.bias[o]), int(op.multiplier[o]), int(op.shift[o]), weights[o]) for o in range(len(op.bias))]


def _op_fields(op) -> dict:
    if op.kind == "conv":
        return dict(kernel=op.weight.shape[2:], stride=op.stride, pads=op.pads, groups=op.groups, lo=op.lo, hi=op.hi)
    if op.kind in ("maxpool", "avgpool"):
        return dict(kernel=op.kernel, stride=op.stride, pads=op.pads,
                    count_include_pad=getattr(op, "count_include_pad", False))
    if op.kind == "add":
        return dict(lo=op.lo, hi=op.hi, multipliers=(op.multiplier_a, op.multiplier_b), shift=op.shift)
    if op.kind in ("dense", "clamp"):
        return dict(lo=op.lo, hi=op.hi)
    return transformer_fields(op)


@dataclass(frozen=True, eq=False)
class GraphModelCommitment:
    """Merkle tree over the graph header, then per node its node leaf and its channel leaves."""

    graph: IntGraph

    @cached_property
    def dims(self) -> list[tuple[int, ...]]:
        return graph_dims(self.graph)

    @cached_property
    def shapes(self) -> list[Shape]:
        return [Shape.of(d) for d in self.dims]

    @cached_property
    def ops(self) -> list:
        """Each node's operator as committed (a token-wise dense on a vector is the graph's dense)."""
        index = {INPUT: 0} | {node.name: k + 1 for k, node in enumerate(self.graph.nodes)}
        return [committed_op(node.op, [self.dims[index[name]] for name in node.inputs], node.name)
                for node in self.graph.nodes]

    @cached_property
    def node_fields(self) -> list[NodeFields]:
        index = {INPUT: 0} | {node.name: k + 1 for k, node in enumerate(self.graph.nodes)}
        fields, leaf = [], 1
        for k, (node, op) in enumerate(zip(self.graph.nodes, self.ops), start=1):
            ins = [index[name] for name in node.inputs]
            channels = len(self._rows(op))
            fields.append(NodeFields(
                node=k, kind=op_code(op.kind), inputs=(ins[0], ins[-1]), in_shape=self.shapes[ins[0]],
                out_shape=self.shapes[k], leaf_index=leaf, channels=channels, **_op_fields(op)))
            leaf += 1 + channels
        return fields

    def _rows(self, op) -> list[tuple[int, int, int, np.ndarray]]:
        if op.kind in ("conv", "dense"):
            return _channel_rows(op)
        return transformer_rows(op)

    @cached_property
    def payloads(self) -> list[bytes]:
        body = []
        for f, op in zip(self.node_fields, self.ops):
            body.append(node_payload(f))
            body += [channel_payload(f.node, o, *row) for o, row in enumerate(self._rows(op))]
        trace_bytes = sum(shape.size for shape in self.shapes)
        header = graph_header_payload(len(self.graph.nodes), self.shapes[0], len(body) + 1, trace_bytes,
                                      graph_metadata_digest(self.graph))
        return [header] + body

    @cached_property
    def tree(self) -> MerkleTree:
        return MerkleTree([leaf_hash(p) for p in self.payloads])

    @property
    def root(self) -> bytes:
        return self.tree.root

    @property
    def leaf_count(self) -> int:
        return len(self.payloads)

    def opening(self, index: int) -> tuple[bytes, MerkleProof]:
        return self.payloads[index], self.tree.proof(index)

    def node_opening(self, node: int) -> tuple[bytes, MerkleProof]:
        return self.opening(self.node_fields[node - 1].leaf_index)

    def channel_opening(self, node: int, channel: int) -> tuple[bytes, MerkleProof]:
        f = self.node_fields[node - 1]
        if not 0 <= channel < f.channels:
            raise InvalidInput(f"node {node} has no channel {channel}")
        return self.opening(f.leaf_index + 1 + channel)


@dataclass(frozen=True)
class TensorOpening:
    """Tensor ``node`` of a trace: its shape, tile root, proof in the trace tree, and some tiles."""

    node: int
    shape: Shape
    root: bytes
    trace_proof: MerkleProof
    tiles: tuple[tuple[int, bytes, MerkleProof], ...]  # (tile index, tile bytes, proof in the tensor tree)
    siblings: tuple[bytes, ...] = ()  # the tiles' multiproof in the tensor tree (merkle.multiproof)


@dataclass(frozen=True, eq=False)
class GraphTraceCommitment:
    """The trace root of one inference: ``tensors[k]`` is tensor k's (C, H, W) int8 values."""

    tensors: tuple[np.ndarray, ...]
    shapes: tuple[Shape, ...]

    @classmethod
    def of(cls, trace: list[np.ndarray], shapes: list[Shape]) -> "GraphTraceCommitment":
        return cls(tuple(np.asarray(t, dtype=np.int8).reshape(-1) for t in trace), tuple(shapes))

    @cached_property
    def tile_bytes(self) -> list[list[bytes]]:
        return [tiles_of(t, shape) for t, shape in zip(self.tensors, self.shapes)]

    @cached_property
    def tile_trees(self) -> list[MerkleTree]:
        return [MerkleTree([leaf_hash(tile_payload(k, i, b)) for i, b in enumerate(tiles)])
                for k, tiles in enumerate(self.tile_bytes)]

    @cached_property
    def tree(self) -> MerkleTree:
        return MerkleTree([leaf_hash(tensor_payload(k, shape, tree.root))
                           for k, (shape, tree) in enumerate(zip(self.shapes, self.tile_trees))])

    @property
    def root(self) -> bytes:
        return self.tree.root

    def open(self, node: int, tiles: list[int]) -> TensorOpening:
        tree = self.tile_trees[node]
        opened = tuple((i, self.tile_bytes[node][i], tree.proof(i)) for i in sorted(set(tiles)))
        siblings = multiproof(tree, [i for i, _, _ in opened]) if opened else ()
        return TensorOpening(node, self.shapes[node], tree.root, self.tree.proof(node), opened, siblings)

    def open_element(self, node: int, element: int) -> TensorOpening:
        return self.open(node, [tile_of_element(self.shapes[node], element)[0]])

    def reveal_payload(self) -> list[bytes]:
        """What `revealTrace` takes for a graph job: per tensor its packed shape and then its tiles."""
        return [shape.packed() + b"".join(tiles) for shape, tiles in zip(self.shapes, self.tile_bytes)]


def graph_input_commitment(salt: bytes, image: np.ndarray) -> bytes:
    """The input commitment of one (C, H, W) image: its values flattened in C, H, W order."""
    return input_commitment(salt, np.asarray(image, dtype=np.int8).reshape(-1))


def graph_output_commitment(salt: bytes, output: np.ndarray) -> bytes:
    return output_commitment(salt, np.asarray(output, dtype=np.int8).reshape(-1))
