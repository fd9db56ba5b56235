"""The report's tables across fee schedules and chains: gas of the same transactions on Shanghai,
Prague and Osaka with the reason for every difference, and dollars per verified inference."""

from __future__ import annotations

from typing import Any

from vcp_toolkit.bench.money import CHAINS, InferenceCost
from vcp_toolkit.chain.hardfork import OSAKA_TX_GAS_CAP

FLOOR_BASE, FLOOR_PER_TOKEN = 21_000, 10  # EIP-7623, as vcp.chain.gas
MODE_NAMES = {"deploy": "deploy", "signed_single": "signed, one per tx", "signed_batched": "signed, batched",
              "inclusion_check": "inclusion check of record N",
              "optimistic_happy": "optimistic, no dispute", "optimistic_reveal": "optimistic, forced reveal",
              "optimistic_dispute": "optimistic, dispute", "dispute_by_width": "fraud proof by width", "zk": "zk",
              "zk_verifier_only": "zk, EZKL verifier alone"}
CHAIN_NAMES = {"ethereum": "Ethereum L1", "op-stack": "OP Stack", "arbitrum": "Arbitrum"}


def _key(row: dict[str, Any]) -> tuple[str, str, int]:
    return row["mode"], row["model"], row["batch"]


def _floor(tx: dict[str, Any]) -> int:
    return FLOOR_BASE + FLOOR_PER_TOKEN * tx["tokens"]


def explain_prague(before: dict[str, Any], after: dict[str, Any]) -> str:
    """Why Prague's gas differs from Shanghai's for one row: each transaction must use
    max(its Shanghai gas, 21,000 + 10 * tokens), and nothing else may differ."""
    reasons = []
    for old, new in zip(before["txs"], after["txs"]):
        floor = _floor(old)
        if new["gas"] != max(old["gas"], floor):
            return f"{new['name']}: {new['gas']:,} is not max({old['gas']:,}, floor {floor:,}): unexplained"
        if floor > old["gas"]:
            reasons.append(f"{new['name']}: EIP-7623 floor 21,000 + 10 x {old['tokens']:,} tokens = {floor:,}")
    return "; ".join(reasons)


def explain_osaka(before: dict[str, Any], after: dict[str, Any] | None) -> str:
    """Why Osaka's gas differs from Prague's: the 2**24 cap refuses a transaction, or ModExp's price."""
    over = [t["name"] for t in before["txs"] if t["gas"] > OSAKA_TX_GAS_CAP]
    if over:
        return f"{', '.join(over)} over Osaka's 2**24 gas cap (EIP-7825): refused"
    if after is None or after["gas"] == before["gas"]:
        return ""
    if after.get("refused"):
        return f"refused on Osaka: {after['refused']}"
    if before["mode"].startswith("zk"):
        return "ModExp repriced (EIP-7883), used by EZKL's verifier"
    return "differs: unexplained"


def schedule_table(result: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """(headers, rows): gas per schedule side by side, the differences and their reasons."""
    schedules = [s for s, v in result.get("schedules", {}).items() if v.get("rows")]
    by = {s: {_key(r): r for r in result["schedules"][s]["rows"]} for s in schedules}
    headers = ["mode", "model", "N", *[f"gas, {s} ({result['schedules'][s]['chain']})" for s in schedules],
               "why they differ"]
    rows = []
    for key, first in by[schedules[0]].items() if schedules else []:
        gas = [by[s][key]["gas"] if key in by[s] else None for s in schedules]
        why = []
        if "shanghai" in by and "prague" in by and key in by["prague"]:
            why.append(explain_prague(by["shanghai"][key], by["prague"][key]))
        if "prague" in by and "osaka" in by:
            why.append(explain_osaka(by["prague"][key], by["osaka"].get(key)))
        rows.append([MODE_NAMES.get(key[0], key[0]), key[1], key[2], *gas,
                     "; ".join(w for w in why if w) or "same gas"])
    return headers, rows


def fee_table(table: list[InferenceCost], usd: Any) -> tuple[list[str], list[list[Any]]]:
    """(headers, rows): dollars per verified inference on each chain, the L1 data part beside the
    rollups' totals. ``usd`` formats a dollar amount."""
    headers = ["mode", "model", "N", "schedule", "gas (all txs)", "signed bytes",
               *[f"{CHAIN_NAMES[c]}, USD per inference" for c in CHAINS],
               "OP Stack: L1 data part", "Arbitrum: L1 data part"]
    rows = [[MODE_NAMES.get(c.mode, c.mode), c.model, c.batch, c.schedule, c.gas, c.raw_bytes,
             *[usd(float(c.usd[chain])) for chain in CHAINS],
             usd(float(c.data_usd["op-stack"])), usd(float(c.data_usd["arbitrum"]))] for c in table]
    return headers, rows


def markdown(headers: list[str], rows: list[list[Any]], cell: Any) -> list[str]:
    """A Markdown table; ``cell`` formats one value."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return lines + ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
