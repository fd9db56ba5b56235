"""Fee parameters (base fees, scalars, ETH price): read from the dated fee_params.json shipped with
vcp, any field overridable by name (``name=value``, as a ``--fee-param`` option would pass it)."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Mapping

from vcp_toolkit.errors import InvalidInput

DEFAULT_PATH = Path(__file__).with_name("fee_params.json")
MAX_WEI = 2**256 - 1  # a uint256 on chain
MAX_SCALAR = 2**32 - 1  # OP scalars are uint32 in the L1Block contract
MAX_ETH_USD = Decimal(10**9)
BROTLI_LEVELS = range(0, 12)


@dataclass(frozen=True)
class FeeParams:
    """Prices and scalars of one dated snapshot; all amounts in wei, the ETH price in USD."""

    as_of: str
    l1_base_fee_wei: int
    l1_priority_fee_wei: int
    l1_blob_base_fee_wei: int
    op_base_fee_scalar: int
    op_blob_base_fee_scalar: int
    op_l2_gas_price_wei: int
    arb_l1_price_per_unit_wei: int
    arb_l2_base_fee_wei: int
    arb_brotli_level: int
    eth_usd: Decimal

    def __post_init__(self) -> None:
        for f in fields(self):
            _check(f.name, getattr(self, f.name))


def _bound(name: str) -> int:
    if name.endswith("_scalar"):
        return MAX_SCALAR
    return BROTLI_LEVELS[-1] if name == "arb_brotli_level" else MAX_WEI


def _check(name: str, value: object) -> None:
    if name == "as_of":
        if not isinstance(value, str) or not value:
            raise InvalidInput("fee parameter as_of must be a date string (YYYY-MM-DD)")
        return
    if name == "eth_usd":
        if not isinstance(value, Decimal) or not value.is_finite() or not 0 < value <= MAX_ETH_USD:
            raise InvalidInput(f"fee parameter eth_usd must be a price in (0, {MAX_ETH_USD}] USD, got {value!r}")
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _bound(name):
        raise InvalidInput(f"fee parameter {name} must be an integer in [0, {_bound(name)}], got {value!r}")


def names() -> tuple[str, ...]:
    return tuple(f.name for f in fields(FeeParams))


def _convert(name: str, value: object) -> object:
    """A value from the file or the command line, as the field's type (strings are parsed)."""
    if name == "as_of":
        return value
    if name == "eth_usd":
        try:
            return Decimal(str(value)) if isinstance(value, (str, int, Decimal)) else value
        except InvalidOperation:
            raise InvalidInput(f"fee parameter eth_usd must be a number, got {value!r}") from None
    if isinstance(value, str):
        try:
            return int(value.strip(), 10)
        except ValueError:
            raise InvalidInput(f"fee parameter {name} must be an integer number of its unit, got {value!r}") from None
    return value


def parse_override(text: str) -> tuple[str, str]:
    """``name=value`` -> (name, value); the name must be a known parameter."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or name not in names():
        raise InvalidInput(f"fee parameter override {text!r} is not name=value with a name among {', '.join(names())}")
    return name, value.strip()


def _read(path: Path) -> dict:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return {"as_of": document["as_of"], **{k: v["value"] for k, v in document["params"].items()}}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InvalidInput(f"fee parameter file {path} is unreadable or malformed ({exc}): restore it") from None


def load_fee_params(path: Path | None = None, overrides: Mapping[str, object] | None = None) -> FeeParams:
    """The parameters in ``path`` (default: the file shipped with vcp), with ``overrides`` applied."""
    values = _read(path or DEFAULT_PATH)
    unknown = sorted(set(values) ^ set(names()))
    if unknown:
        raise InvalidInput(f"fee parameter file {path or DEFAULT_PATH} has unknown or missing fields {unknown}")
    params = FeeParams(**{n: _convert(n, values[n]) for n in names()})
    return with_overrides(params, overrides or {})


def with_overrides(params: FeeParams, overrides: Mapping[str, object]) -> FeeParams:
    """A copy of params with the named fields replaced (strings parsed); unknown names refused."""
    unknown = sorted(set(overrides) - set(names()))
    if unknown:
        raise InvalidInput(f"unknown fee parameter(s) {unknown}: known are {', '.join(names())}")
    return replace(params, **{n: _convert(n, v) for n, v in overrides.items()})
