"""Which tiles of its input tensor(s) one output element of a graph node reads: what a fraud proof
opens (GraphKernels.sol reads exactly these and reverts with GraphMissingTile on any other)."""

from __future__ import annotations

from vcp_toolkit.commit.graph_encoding import FIRST_TRANSFORMER_CODE, OP_CODES, NodeFields, Shape, tile_of_element

_WINDOWED = {OP_CODES["conv"], OP_CODES["maxpool"], OP_CODES["avgpool"]}


def split(shape: Shape, element: int) -> tuple[int, int, int]:
    """(c, h, w) of a flat C, H, W index."""
    c, rest = divmod(element, shape.h * shape.w)
    return (c, *divmod(rest, shape.w))


def _tile(shape: Shape, h: int, w: int) -> int:
    th, tw = shape.tile
    return (h // th) * shape.tile_grid[1] + w // tw


def _window_tiles(f: NodeFields, i: int, j: int) -> list[int]:
    """Tiles holding any real (unpadded) cell of output (i, j)'s window."""
    s = f.in_shape
    rows = [i * f.stride[0] + u - f.pads[0] for u in range(f.kernel[0])]
    cols = [j * f.stride[1] + v - f.pads[1] for v in range(f.kernel[1])]
    return sorted({_tile(s, r, q) for r in rows if 0 <= r < s.h for q in cols if 0 <= q < s.w})


def _row_tiles(s: Shape, c: int, h: int) -> list[int]:
    return sorted({_tile(s, h, w) for w in range(s.w)})


def _transformer_tiles(f: NodeFields, c: int, i: int, j: int) -> list[list[int]]:
    """TransformerOperators' reads: rows along W, a MatMul's right operand by column."""
    kind, s = f.kind, f.in_shape
    if kind in (OP_CODES["token_dense"], OP_CODES["softmax"], OP_CODES["layernorm"]):
        return [_row_tiles(s, c, i)]
    if kind == OP_CODES["matmul"]:
        right = Shape(s.c, s.w, f.out_shape.w)
        return [_row_tiles(s, c, i), sorted({_tile(right, h, j) for h in range(right.h)})]
    if kind == OP_CODES["transpose"]:
        source = [0, 0, 0]
        for axis, value in zip((f.kernel[0], f.kernel[1], f.stride[0]), (c, i, j)):
            source[axis] = value
        return [[_tile(s, source[1], source[2])]]
    if kind == OP_CODES["take"]:
        return [[_tile(s, f.groups, c)]]
    if kind == OP_CODES["prepend"]:
        return [[] if i == 0 else [_tile(s, i - 1, j)]]
    if kind == OP_CODES["const"]:
        return []
    return [[_tile(s, i, j)]]  # gelu: the same cell


def receptive_tiles(f: NodeFields, element: int) -> list[list[int]]:
    """Per input tensor of the node, the tile indices output ``element`` depends on."""
    c, i, j = split(f.out_shape, element)
    if f.kind >= FIRST_TRANSFORMER_CODE:
        return _transformer_tiles(f, c, i, j)
    if f.kind in _WINDOWED:
        return [_window_tiles(f, i, j)]
    if f.kind == OP_CODES["dense"]:
        return [[0]]
    if f.kind == OP_CODES["gap"]:
        return [list(range(f.in_shape.tile_count))]
    if f.kind == OP_CODES["flatten"]:
        return [[tile_of_element(f.in_shape, element)[0]]]
    tile = _tile(f.in_shape, i, j)  # add and clamp: the same cell of each input
    return [[tile]] * (2 if f.kind == OP_CODES["add"] else 1)
