"""Pure arithmetic of the benchmark: gas floor, amortization, cost conversion, medians."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from vcp_toolkit.chain.gas import submit_floor
from vcp_toolkit.errors import InvalidInput

DEFAULT_GAS_PRICE_GWEI = 1.0
DEFAULT_ETH_USD = 3_000.0


@dataclass(frozen=True)
class Prices:
    """What a user pays per unit of gas, and what an ETH is worth (both given by the user)."""

    gas_price_gwei: float = DEFAULT_GAS_PRICE_GWEI
    eth_usd: float = DEFAULT_ETH_USD

    def eth(self, gas: float) -> float:
        return gas * self.gas_price_gwei * 1e-9

    def usd(self, gas: float) -> float:
        return self.eth(gas) * self.eth_usd


def amortized(gas: int, inferences: int) -> float:
    if inferences <= 0:
        raise InvalidInput("inferences must be positive")
    return gas / inferences


def floor_and_ratio(gas_used: int, calldata: bytes) -> tuple[int, float]:
    floor = submit_floor(calldata)
    return floor, gas_used / floor


def spread(samples: list[float]) -> dict[str, float]:
    """Median with the spread (min, max, interquartile range) of repeated timings."""
    ordered = sorted(samples)
    q = statistics.quantiles(ordered, n=4) if len(ordered) >= 2 else [ordered[0]] * 3
    return {"median": statistics.median(ordered), "min": ordered[0], "max": ordered[-1], "iqr": q[2] - q[0],
            "n": len(ordered)}
