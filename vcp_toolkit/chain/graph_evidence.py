"""Evidence for ``proveGraphFraud``: one element of an operator graph's trace, with Merkle openings
of the model leaves and of only the tiles that element reads (IGraphOperators.GraphEvidence)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar

import numpy as np

from eth_abi import encode as abi_encode

from vcp_toolkit.chain.evidence import FraudKind
from vcp_toolkit.commit.encoding import int8_bytes, u
from vcp_toolkit.commit.graph_commitments import GraphModelCommitment, GraphTraceCommitment, TensorOpening
from vcp_toolkit.commit.graph_encoding import OP_CODES, NodeFields
from vcp_toolkit.commit.graph_receptive import receptive_tiles, split
from vcp_toolkit.errors import InvalidInput


class Target(IntEnum):
    """Mirrors ``IGraphOperators.Target``."""

    OPERATOR = 0
    INPUT = 1
    OUTPUT = 2


_KINDS = {Target.OPERATOR: FraudKind.OPERATOR, Target.INPUT: FraudKind.INPUT, Target.OUTPUT: FraudKind.OUTPUT}
_NO_CHANNEL = (b"", ())
# IGraphOperators.GraphEvidence as an ABI type (what proveGraphFraud's `bytes evidence` holds).
EVIDENCE_TYPE = "(uint8,uint32,bytes,bytes32[],bytes,bytes32[],bytes[],bytes,bytes,bytes32)"


def packed_opening(t: TensorOpening) -> bytes:
    """A tensor opening as IGraphOperators packs it: shape, tile root, trace proof, tile indices,
    then the tiles' bytes and their multiproof (tiles side by side share their path). With every
    tile opened in order there is no proof (depth 0): the contract recomputes the tile root."""
    indices = [index for index, _, _ in t.tiles]
    complete = indices == list(range(t.shape.tile_count))
    depth = 0 if complete else len(t.tiles[0][2].siblings) if t.tiles else 0
    values = b"".join(v for _, v, _ in t.tiles)
    proofs = b"" if complete else b"".join(t.siblings)
    trace = t.trace_proof.siblings
    return (t.shape.packed() + t.root + u(len(trace), 1) + b"".join(trace) + u(len(indices), 2)
            + b"".join(u(i, 4) for i in indices) + u(depth, 1) + u(len(values), 4) + values + proofs)


@dataclass(frozen=True)
class GraphEvidence:
    """``proveGraphFraud``'s evidence about element ``element`` of tensor ``node``."""

    kind: ClassVar[FraudKind] = FraudKind.OPERATOR
    target: Target
    node: int
    element: int
    node_leaf: bytes
    node_proof: tuple[bytes, ...]
    channel_leaf: bytes
    channel_proof: tuple[bytes, ...]
    inputs: tuple[TensorOpening, ...]
    output: TensorOpening
    plain: bytes = b""
    salt: bytes = b"\x00" * 32

    @property
    def fraud_kind(self) -> FraudKind:
        return _KINDS[self.target]

    def encoded(self) -> bytes:
        """``abi.encode(evidence)``: the argument of ``proveGraphFraud``."""
        return abi_encode([EVIDENCE_TYPE], self.abi_args())

    def abi_args(self) -> tuple:
        """The evidence as GraphOperators.check's second argument."""
        return ((int(self.target), self.element, self.node_leaf, list(self.node_proof), self.channel_leaf,
                 list(self.channel_proof), [packed_opening(t) for t in self.inputs], packed_opening(self.output),
                 self.plain, self.salt),)


def _channel_read(f: NodeFields, element: int) -> int | None:
    """The channel leaf the contract reads for output ``element``, if any."""
    if not f.channels:
        return None
    c, h, w = split(f.out_shape, element)
    if f.kind in (OP_CODES["token_dense"], OP_CODES["layernorm"]):
        return w
    if f.kind == OP_CODES["prepend"]:
        return 0 if h == 0 else None
    if f.kind == OP_CODES["const"]:
        return element // f.out_shape.w
    if f.kind == OP_CODES["gelu"]:
        return 0
    return c  # conv and dense: the output channel


def operator_evidence(model: GraphModelCommitment, trace: GraphTraceCommitment, node: int,
                      element: int) -> GraphEvidence:
    """Evidence that element ``element`` of node ``node``'s output (1-based) is what the trace says."""
    if not 1 <= node <= len(model.node_fields):
        raise InvalidInput(f"graph node {node} outside 1..{len(model.node_fields)}")
    f = model.node_fields[node - 1]
    if not 0 <= element < f.out_shape.size:
        raise InvalidInput(f"element {element} outside node {node}'s {f.out_shape.size} values")
    leaf, proof = model.node_opening(node)
    channel = _channel_read(f, element)
    ch_leaf, ch_proof = model.channel_opening(node, channel) if channel is not None else _NO_CHANNEL
    ins = tuple(trace.open(n, tiles) for n, tiles in zip(f.inputs, receptive_tiles(f, element)))
    return GraphEvidence(Target.OPERATOR, node, element, leaf, tuple(proof.siblings), ch_leaf,
                         tuple(getattr(ch_proof, "siblings", ())), ins, trace.open_element(node, element))


def input_evidence(model: GraphModelCommitment, trace: GraphTraceCommitment, element: int, values: np.ndarray,
                   salt: bytes) -> GraphEvidence:
    """Evidence that tensor 0's ``element`` is the committed input's (``values`` opens it with ``salt``)."""
    leaf, proof = model.opening(0)
    return GraphEvidence(Target.INPUT, 0, element, leaf, tuple(proof.siblings), b"", (), (),
                         trace.open_element(0, element), int8_bytes(np.ravel(values)), salt)


def output_evidence(model: GraphModelCommitment, trace: GraphTraceCommitment, element: int, values: np.ndarray,
                    salt: bytes) -> GraphEvidence:
    """Evidence that the last tensor's ``element`` is the committed output's."""
    last = len(model.node_fields)
    leaf, proof = model.node_opening(last)
    return GraphEvidence(Target.OUTPUT, last, element, leaf, tuple(proof.siblings), b"", (), (),
                         trace.open_element(last, element), int8_bytes(np.ravel(values)), salt)
