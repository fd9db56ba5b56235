"""What the model commitment states about a transformer node (docs/encoding.md, "Transformer nodes"):
its node-leaf fields and its channel leaves, mirrored by contracts/src/TransformerOperators.sol.

Rows run along the committed W axis: a tensor of numpy shape (rows, width) is committed as
(1, rows, width) and (heads, rows, width) as it is (graph_encoding.Shape.of), so the row of cell
(c, h, w) is (c, h, 0..W-1) and a MatMul's right operand is read by column (c, 0..H-1, w).

    token_dense  lo, hi                          channel o: bias, M, s, weight row o
    matmul       M (multiplierA), s, lo, hi      (no channel leaves)
    softmax      M (multiplierA), s
    layernorm    epsilon (multiplierA), lo, hi   channel i: beta (bias), M, s, gamma (one weight byte)
    gelu                                         channel 0: the 256-byte table
    transpose    perm of (C, H, W) in kh, kw, sh
    take         the token index in groups
    prepend                                      channel 0: the prepended token
    const                                        channel k: the constant's values k*W .. k*W + W - 1
"""

from __future__ import annotations

import numpy as np

from vcp_toolkit.errors import InvalidModel

_ROW_KINDS = ("token_dense", "softmax", "layernorm", "gelu")
_NO_ROWS: list = []


def committed_op(op, input_dims: list[tuple[int, ...]], name: str):
    """The operator as committed, refusing what the contract cannot re-execute: a token-wise dense
    on a vector is the graph's dense; row operators need tensors of 2 or 3 axes (rows along the last)."""
    if op.kind == "token_dense" and len(input_dims[0]) == 1:
        return op.dense
    if op.kind in _ROW_KINDS + ("matmul",) and any(len(d) not in (2, 3) for d in input_dims):
        raise InvalidModel(f"graph node {name!r}: {op.kind} on a tensor of shape {input_dims[0]} cannot be "
                           "committed (rows need 2 or 3 axes per sample); reshape it first")
    if op.kind == "transpose" and len(op.perm) - 1 not in (2, 3):
        raise InvalidModel(f"graph node {name!r}: a transpose of {len(op.perm) - 1} axes cannot be committed "
                           "(2 or 3 per sample)")
    return op


def committed_perm(perm: tuple[int, ...]) -> tuple[int, int, int]:
    """A numpy perm (batch axis first) as a permutation of the committed (C, H, W) axes."""
    sample = [p - 1 for p in perm[1:]]
    if len(sample) == 3:
        return tuple(sample)
    return (0, 1 + sample[0], 1 + sample[1])  # (rows, width) is committed as (1, rows, width)


def transformer_fields(op) -> dict:
    """The node-leaf fields of a transformer node (NodeFields keywords)."""
    kind = op.kind
    if kind == "token_dense":
        return dict(lo=op.dense.lo, hi=op.dense.hi)
    if kind == "matmul":
        return dict(multipliers=(op.multiplier, 0), shift=op.shift, lo=op.lo, hi=op.hi)
    if kind == "softmax":
        return dict(multipliers=(op.multiplier, 0), shift=op.shift)
    if kind == "layernorm":
        return dict(multipliers=(op.epsilon, 0), lo=op.lo, hi=op.hi)
    if kind == "transpose":
        p = committed_perm(op.perm)
        return dict(kernel=(p[0], p[1]), stride=(p[2], 0))
    if kind == "take":
        return dict(groups=op.index)
    return {}


def transformer_rows(op) -> list[tuple[int, int, int, np.ndarray]]:
    """(bias, multiplier, shift, int8 values) per channel leaf of a transformer node."""
    kind = op.kind
    if kind == "token_dense":
        d = op.dense
        return [(int(d.bias[o]), int(d.multiplier[o]), int(d.shift[o]), d.weight[o]) for o in range(len(d.bias))]
    if kind == "layernorm":
        return [(int(op.beta[i]), int(op.multiplier[i]), int(op.shift[i]), op.gamma[i:i + 1])
                for i in range(len(op.gamma))]
    if kind == "gelu":
        return [(0, 0, 0, op.table)]
    if kind == "prepend":
        return [(0, 0, 0, op.token)]
    if kind == "const":
        value = np.asarray(op.value, dtype=np.int8)
        width = value.shape[-1] if value.ndim != 1 else 1  # a vector (F,) is committed as (F, 1, 1)
        return [(0, 0, 0, row) for row in value.reshape(-1, width)]
    return _NO_ROWS
