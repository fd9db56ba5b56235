"""The integer operators a vision transformer needs besides the kernels: data movement, with no
arithmetic (Reshape, Transpose, TakeToken, PrependToken, BatchConst), and TokenDense, the graph's
Dense applied to every token. Each keeps its input's int8 values and scale exactly."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vcp_toolkit.errors import InvalidInput, InvalidModel
from vcp_toolkit.model.graph.common import check_tensor, freeze
from vcp_toolkit.model.graph.dense import Dense, dense_reference


@dataclass(frozen=True)
class Reshape:
    """Per-sample reshape; the batch axis stays first."""

    shape: tuple[int, ...]

    kind = "reshape"
    arity = 1

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return check_tensor(x, np.ndim(x), "Reshape").reshape((len(x),) + self.shape)


@dataclass(frozen=True)
class Transpose:
    perm: tuple[int, ...]  # perm[0] == 0: the batch axis stays first

    kind = "transpose"
    arity = 1

    def __post_init__(self) -> None:
        if not self.perm or self.perm[0] != 0 or sorted(self.perm) != list(range(len(self.perm))):
            raise InvalidModel(f"transpose perm {self.perm} must keep the batch axis first")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(check_tensor(x, len(self.perm), "Transpose").transpose(self.perm))


@dataclass(frozen=True)
class TakeToken:
    """Row ``index`` of axis 1: the class token of (N, tokens, width)."""

    index: int

    kind = "take"
    arity = 1

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = check_tensor(x, 3, "TakeToken")
        if not 0 <= self.index < x.shape[1]:
            raise InvalidInput(f"TakeToken {self.index} of {x.shape[1]} tokens")
        return np.ascontiguousarray(x[:, self.index])


@dataclass(frozen=True, eq=False)
class PrependToken:
    """A committed int8 row put in front of every sample's tokens (the class token), same scale."""

    token: np.ndarray  # int8 (width,)

    kind = "prepend"
    arity = 1

    def __post_init__(self) -> None:
        if np.asarray(self.token).dtype != np.int8 or np.ndim(self.token) != 1:
            raise InvalidModel("prepended token must be int8 of shape (width,)")
        freeze(self.token)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = check_tensor(x, 3, "PrependToken")
        if x.shape[2] != len(self.token):
            raise InvalidInput(f"PrependToken of width {len(self.token)} got shape {x.shape}")
        return np.concatenate([np.broadcast_to(self.token, (len(x), 1, len(self.token))), x], axis=1)


@dataclass(frozen=True, eq=False)
class BatchConst:
    """A committed int8 tensor repeated over the batch (positional embeddings); it reads its input
    only for the batch size."""

    value: np.ndarray  # int8, per-sample shape

    kind = "const"
    arity = 1

    def __post_init__(self) -> None:
        if np.asarray(self.value).dtype != np.int8:
            raise InvalidModel("batch constant must be int8")
        freeze(self.value)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.broadcast_to(self.value, (len(x),) + self.value.shape))


FLOAT32_EXACT_WIDTH = (2**24 - 1) // (128 * 127)  # int8 x int8 sums of up to 1,032 products are exact in float32


@dataclass(frozen=True, eq=False)
class TokenDense:
    """``dense`` on the last axis of (N, ..., in): the graph's Dense on every token's row.

    The same integers as ``dense``, computed the way Conv2D does: one float32 product (exact: every
    partial sum is an integer below 2**24 for widths up to 1,032) and the bias folded into the
    rounding constant, ``(acc + b) * M + 2**(s-1) == acc * M + (b * M + 2**(s-1))``, with
    ``|acc * M| < 2**55`` and ``|b * M| < 2**62``, so int64 never overflows."""

    dense: Dense
    _weight_t: np.ndarray = field(init=False, repr=False)
    _offset: np.ndarray = field(init=False, repr=False)

    kind = "token_dense"
    arity = 1

    def __post_init__(self) -> None:
        d = self.dense
        object.__setattr__(self, "_weight_t", np.ascontiguousarray(d.weight.T.astype(np.float32)))
        object.__setattr__(self, "_offset", d.bias * d.multiplier + (np.int64(1) << (d.shift - 1)))
        freeze(self._weight_t, self._offset)

    @property
    def weight(self) -> np.ndarray:  # as a Dense node shows them (IntGraph.param_count)
        return self.dense.weight

    @property
    def bias(self) -> np.ndarray:
        return self.dense.bias

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        d, width = self.dense, self.dense.weight.shape[1]
        if x.ndim < 2 or x.shape[-1] != width:
            raise InvalidInput(f"TokenDense of width {width} got shape {x.shape}")
        rows = check_tensor(x.reshape(-1, width), 2, "TokenDense")
        if width > FLOAT32_EXACT_WIDTH:
            return d(rows).reshape(x.shape[:-1] + (-1,))
        acc = (rows.astype(np.float32) @ self._weight_t).astype(np.int64)
        acc *= d.multiplier
        acc += self._offset
        acc >>= d.shift
        return np.clip(acc, d.lo, d.hi, out=acc).astype(np.int8).reshape(x.shape[:-1] + (-1,))


def token_dense_reference(op: TokenDense, x: np.ndarray) -> np.ndarray:
    width = op.dense.weight.shape[1]
    return dense_reference(op.dense, np.asarray(x).reshape(-1, width)).reshape(np.shape(x)[:-1] + (-1,))
