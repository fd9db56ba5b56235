"""Byte encodings of operator-graph commitments (docs/encoding.md, "Operator graphs"), mirrored by
contracts/src/GraphEncoding.sol. Same conventions as encoding.py: big-endian fixed-width integers,
one byte per int8, leaf = keccak256(0x00 || payload), node = keccak256(0x01 || left || right).

    graph header   = "G" || uint16 nodes || uint32 C || uint32 H || uint32 W || uint32 leaves
                         || uint32 traceBytes || bytes32 metadataDigest
    node leaf      = "O" || uint16 node || uint8 kind || uint16 inputA || uint16 inputB
                         || uint32 inC || uint32 inH || uint32 inW || uint32 outC || uint32 outH || uint32 outW
                         || uint8 kh || uint8 kw || uint8 sh || uint8 sw
                         || uint8 padTop || uint8 padLeft || uint8 padBottom || uint8 padRight
                         || uint16 groups || int8 lo || int8 hi || uint8 countIncludePad
                         || uint32 multiplierA || uint32 multiplierB || uint8 shift
                         || uint32 leafIndex || uint32 channels
    channel leaf   = "K" || uint16 node || uint32 channel || int32 bias || uint32 multiplier || uint8 shift
                         || int8[] weights             (conv: (KH, KW, C/groups) order; dense: the row)
    tile leaf      = "V" || uint16 node || uint32 tile || int8[th * tw * C] values   ((h, w, c) order)
    tensor leaf    = "T" || uint16 node || uint32 C || uint32 H || uint32 W || bytes32 tensorRoot

Tensor 0 is the input; tensor k (1..nodes) is node k's output. Every tensor is (C, H, W) per sample
(a vector of F features is (F, 1, 1)). Tiles are th x tw pixels with th = min(T, H), tw = min(T, W),
all C channels, numbered row-major; cells past the tensor's edge are 0. The side T is the largest
of 8, 4, 2, 1 with T * T * C <= 128 (1 if none): a tile holds at most 128 bytes unless C > 128,
so opening a window costs about the same whatever the channel count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vcp_toolkit.commit.encoding import int8_bytes, s, u

KIND_GRAPH = b"G"
KIND_NODE = b"O"
KIND_CHANNEL = b"K"
KIND_TILE = b"V"
KIND_TENSOR = b"T"

TILE_BYTES = 128  # tiles hold at most this many values (unless C alone is larger)
TILE_SIDES = (8, 4, 2, 1)
NODE_PAYLOAD_BYTES = 62

# Operator kinds as the node leaf encodes them (GraphEncoding.sol mirrors these numbers).
OP_CODES = {"conv": 1, "dense": 2, "maxpool": 3, "avgpool": 4, "gap": 5, "add": 6, "flatten": 7, "clamp": 8,
            # transformer nodes (docs/encoding.md, "Transformer nodes")
            "token_dense": 9, "matmul": 10, "softmax": 11, "layernorm": 12, "gelu": 13, "transpose": 14,
            "take": 15, "prepend": 16, "const": 17}
FIRST_TRANSFORMER_CODE = 9
_COMMITTED_AS = {"reshape": "flatten"}  # a reshape keeps every value's flat index, as a flatten does


def op_code(kind: str) -> int:
    """The node leaf's kind byte of an operator kind."""
    return OP_CODES[_COMMITTED_AS.get(kind, kind)]


@dataclass(frozen=True)
class Shape:
    """A per-sample tensor shape (C, H, W)."""

    c: int
    h: int
    w: int

    @classmethod
    def of(cls, dims: tuple[int, ...]) -> "Shape":
        """The committed shape of a per-sample numpy shape: (C, H, W) as it is; a vector (F,) as
        (F, 1, 1); any other shape as (1, rows, last axis). Flat C, H, W order is numpy's order in
        every case, so a reshape keeps each value's flat index."""
        if len(dims) == 3:
            return cls(*dims)
        if len(dims) == 1:
            return cls(dims[0], 1, 1)
        return cls(1, int(np.prod(dims[:-1])), dims[-1])

    @property
    def size(self) -> int:
        return self.c * self.h * self.w

    @property
    def side(self) -> int:
        return next((t for t in TILE_SIDES if t * t * self.c <= TILE_BYTES), 1)

    @property
    def tile(self) -> tuple[int, int]:
        return min(self.side, self.h), min(self.side, self.w)

    @property
    def tile_grid(self) -> tuple[int, int]:
        th, tw = self.tile
        return -(-self.h // th), -(-self.w // tw)

    @property
    def tile_count(self) -> int:
        rows, cols = self.tile_grid
        return rows * cols

    @property
    def tile_bytes(self) -> int:
        th, tw = self.tile
        return th * tw * self.c

    def packed(self) -> bytes:
        return u(self.c, 4) + u(self.h, 4) + u(self.w, 4)


@dataclass(frozen=True)
class NodeFields:
    """Everything a node leaf states about one operator."""

    node: int
    kind: int
    inputs: tuple[int, int]
    in_shape: Shape
    out_shape: Shape
    kernel: tuple[int, int] = (0, 0)
    stride: tuple[int, int] = (0, 0)
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)
    groups: int = 0
    lo: int = -128
    hi: int = 127
    count_include_pad: bool = False
    multipliers: tuple[int, int] = (0, 0)
    shift: int = 0
    leaf_index: int = 0
    channels: int = 0


def graph_header_payload(nodes: int, input_shape: Shape, leaves: int, trace_bytes: int, digest: bytes) -> bytes:
    return KIND_GRAPH + u(nodes, 2) + input_shape.packed() + u(leaves, 4) + u(trace_bytes, 4) + digest


def node_payload(f: NodeFields) -> bytes:
    geometry = b"".join(u(v, 1) for v in (*f.kernel, *f.stride, *f.pads))
    return (KIND_NODE + u(f.node, 2) + u(f.kind, 1) + u(f.inputs[0], 2) + u(f.inputs[1], 2)
            + f.in_shape.packed() + f.out_shape.packed() + geometry + u(f.groups, 2) + s(f.lo, 1) + s(f.hi, 1)
            + u(int(f.count_include_pad), 1) + u(f.multipliers[0], 4) + u(f.multipliers[1], 4) + u(f.shift, 1)
            + u(f.leaf_index, 4) + u(f.channels, 4))


def channel_payload(node: int, channel: int, bias: int, multiplier: int, shift: int, weights: np.ndarray) -> bytes:
    return (KIND_CHANNEL + u(node, 2) + u(channel, 4) + s(bias, 4) + u(multiplier, 4) + u(shift, 1)
            + int8_bytes(np.ravel(weights)))


def tile_payload(node: int, tile: int, values: bytes) -> bytes:
    return KIND_TILE + u(node, 2) + u(tile, 4) + values


def tensor_payload(node: int, shape: Shape, root: bytes) -> bytes:
    return KIND_TENSOR + u(node, 2) + shape.packed() + root


def tiles_of(values: np.ndarray, shape: Shape) -> list[bytes]:
    """The tile byte strings of one (C, H, W) int8 tensor, row-major, each in (h, w, c) order."""
    arr = np.asarray(values, dtype=np.int8).reshape(shape.c, shape.h, shape.w)
    th, tw = shape.tile
    rows, cols = shape.tile_grid
    padded = np.zeros((shape.c, rows * th, cols * tw), dtype=np.int8)
    padded[:, :shape.h, :shape.w] = arr
    # (C, rows, th, cols, tw) -> (rows, cols, th, tw, C): one contiguous block per tile.
    blocks = padded.reshape(shape.c, rows, th, cols, tw).transpose(1, 3, 2, 4, 0)
    flat = np.ascontiguousarray(blocks).reshape(rows * cols, -1)
    return [row.tobytes() for row in flat]


def tile_of_element(shape: Shape, element: int) -> tuple[int, int]:
    """(tile index, byte offset inside the tile) of flat element c*H*W + h*W + w."""
    c, rest = divmod(element, shape.h * shape.w)
    h, w = divmod(rest, shape.w)
    th, tw = shape.tile
    tile = (h // th) * shape.tile_grid[1] + w // tw
    return tile, ((h % th) * tw + w % tw) * shape.c + c
