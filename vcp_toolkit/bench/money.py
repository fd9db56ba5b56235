"""Dollars per verified inference, per mode and per chain (Ethereum L1, OP Stack, Arbitrum), from
the signed bytes and gas of each transaction the bench measured (vcp.chain.fees does the pricing).

A mode's inference costs the fees of its transactions divided by the inferences they verify:

- signed, one per tx: the submit;                       batched at N: the batch submit / N;
- optimistic, no dispute: open job + submit result + finalize;
- optimistic, dispute: open job + submit result + the fraud proof (who pays is the dispute's
  business: this is what the chain charges for the inference to be settled);
- zk: the zk submit (the verifier's deployment is a one-off, not counted).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any, Iterable

from vcp_toolkit.chain.fee_params import FeeParams, load_fee_params
from vcp_toolkit.chain.fees import all_fees
from vcp_toolkit.errors import InvalidInput

CHAINS = ("ethereum", "op-stack", "arbitrum")


@dataclass(frozen=True)
class PricedTx:
    """One measured transaction: its name, the gas it used and its raw signed bytes."""

    name: str
    gas: int
    raw: bytes


@dataclass(frozen=True)
class InferenceCost:
    """What one verified inference costs on each chain, in USD, with the L1 data share."""

    mode: str
    model: str
    batch: int
    schedule: str
    gas: int  # of all the transactions, before dividing by the batch
    raw_bytes: int
    usd: dict[str, Decimal]  # chain -> total per inference
    data_usd: dict[str, Decimal]  # chain -> the L1 data part per inference (0 on Ethereum)


def price(mode: str, model: str, batch: int, schedule: str, txs: Iterable[PricedTx],
          params: FeeParams) -> InferenceCost:
    """Sum each chain's fee over ``txs``, divided by ``batch`` inferences (exact decimals)."""
    txs = list(txs)
    if batch < 1 or not txs:
        raise InvalidInput(f"{mode}: pricing needs at least one transaction and one inference")
    usd = {c: Decimal(0) for c in CHAINS}
    data = {c: Decimal(0) for c in CHAINS}
    for tx in txs:
        for chain, fee in zip(CHAINS, all_fees(tx.raw, tx.gas, params)):
            usd[chain] += fee.total_usd
            data[chain] += fee.data_usd
    return InferenceCost(mode, model, batch, schedule, sum(t.gas for t in txs), sum(len(t.raw) for t in txs),
                         {c: v / batch for c, v in usd.items()}, {c: v / batch for c, v in data.items()})


def _tx(name: str, gas: Any, raw: Any) -> PricedTx:
    try:
        if isinstance(gas, bool) or not isinstance(gas, int):
            raise TypeError(f"gas {gas!r} is not an integer")
        return PricedTx(str(name), gas, bytes.fromhex(raw.removeprefix("0x")))
    except (AttributeError, TypeError, ValueError) as exc:
        raise InvalidInput(f"bench result: transaction {name!r} has no usable gas and signed bytes ({exc}); "
                           "run `vcp bench` again") from None


def _txs(records: list[dict[str, Any]], names: tuple[str, ...] | None = None) -> list[PricedTx]:
    try:
        return [_tx(r["name"], r["gas"], r["raw"]) for r in records if names is None or r["name"] in names]
    except (KeyError, TypeError) as exc:
        raise InvalidInput(f"bench result: a transaction record lacks {exc}; run `vcp bench` again") from None


def priced_schedule(result: dict[str, Any]) -> str | None:
    """The newest schedule the run measured (what a chain charges today)."""
    measured = [s for s, v in result.get("schedules", {}).items() if v.get("rows")]
    return measured[-1] if measured else None


def cost_table(result: dict[str, Any], params: FeeParams) -> list[InferenceCost]:
    """Every mode of every model of the newest measured schedule, then the zk rows."""
    schedule = priced_schedule(result)
    rows = result["schedules"][schedule]["rows"] if schedule else []
    table = []
    happy = {r["model"]: r for r in rows if r["mode"] == "optimistic_happy"}
    for r in rows:
        if r["mode"] in ("signed_single", "signed_batched", "optimistic_happy"):
            table.append(price(r["mode"], r["model"], r["batch"], schedule, _txs(r["txs"]), params))
        elif r["mode"] == "optimistic_dispute" and r["model"] in happy:
            txs = _txs(happy[r["model"]]["txs"], ("open job", "submit result")) + _txs(r["txs"])
            table.append(price(r["mode"], r["model"], 1, schedule, txs, params))
    for z in result.get("rows", []):
        if z.get("mode") == "zk" and z.get("raw"):
            txs = [_tx("zk submit", z.get("gas_per_tx"), z["raw"])]
            table.append(price("zk", z["model"], 1, z.get("hardfork", "?"), txs, params))
    return table


def bench_fee_params(result: dict[str, Any], overrides: dict[str, str] | None = None) -> FeeParams:
    """The parameters a bench result was priced with (the shipped file when it names none), with
    ``overrides`` on top."""
    recorded = result.get("fee_params") or {}
    return load_fee_params(overrides={**recorded, **(overrides or {})})


def params_record(params: FeeParams) -> dict[str, str | int]:
    """FeeParams as JSON (the ETH price as a string: exact)."""
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(params).items()}


def cost_records(table: list[InferenceCost]) -> list[dict[str, Any]]:
    """The table as JSON rows (dollars as strings: exact)."""
    return [{"mode": c.mode, "model": c.model, "batch": c.batch, "schedule": c.schedule, "gas": c.gas,
             "raw_bytes": c.raw_bytes, **{f"usd_{k}": str(v) for k, v in c.usd.items()},
             **{f"data_usd_{k}": str(v) for k, v in c.data_usd.items()}} for c in table]
