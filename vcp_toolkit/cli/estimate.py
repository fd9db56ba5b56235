"""``vcp estimate MODEL``: gas, contract sizes, zk predictions and dollars, before deploying anything."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from vcp_toolkit.cli.render import EXIT_OK, number, print_json, table
from vcp_toolkit.errors import InvalidInput

MAX_BATCH = 1 << 20


def add_estimate_parser(sub) -> None:
    from vcp_toolkit.cli.graphs import MODEL_HELP
    from vcp_toolkit.cli.options import add_hardfork_arg, add_json_arg

    p = sub.add_parser("estimate", help="what verifying a model costs (gas, contract sizes, zk, dollars) from a "
                                        "dry run on the embedded EVM, before deploying anything")
    p.add_argument("model", help=MODEL_HELP + "; `digits` names the built-in dense demo model")
    p.add_argument("--calibration", type=Path, help="for .onnx models: sample inputs (.npy/.npz) that set the scales")
    p.add_argument("--batch-sizes", default="16,256,1024", help="comma-separated batch sizes N to price "
                                                               "(default: 16,256,1024)")
    p.add_argument("--zk", action="store_true", help="also predict the EZKL baseline: EZKL calibrates the circuit "
                                                     "(seconds to minutes; needs the zk extra)")
    add_hardfork_arg(p)
    p.add_argument("--fee-param", action="append", default=[], metavar="NAME=VALUE",
                   help="override one fee parameter of the dollar table (repeatable), e.g. eth_usd=2500; "
                        "names and dated defaults in docs/fees.md")
    add_json_arg(p, "the estimate")


def batch_sizes(text: str) -> tuple[int, ...]:
    """``--batch-sizes``: distinct integers 1..2**20, at least one."""
    sizes = []
    for part in text.split(","):
        part = part.strip()
        if not (part.isascii() and part.isdigit()) or not 1 <= int(part) <= MAX_BATCH:
            raise InvalidInput(f"--batch-sizes: {part[:40]!r} is not a batch size from 1 to {MAX_BATCH:,}; "
                               "pass e.g. --batch-sizes 16,256,1024")
        sizes.append(int(part))
    return tuple(sorted(set(sizes)))


def _model(spec: str, calibration: Path | None):
    from vcp_toolkit.cli.context import load_model

    return load_model(None if spec == "digits" else spec, calibration)


def cmd_estimate(args: argparse.Namespace) -> int:
    from vcp_toolkit.bench.estimate import estimate
    from vcp_toolkit.chain.fee_params import load_fee_params
    from vcp_toolkit.cli.measure import fee_overrides

    sizes = batch_sizes(args.batch_sizes)
    params = load_fee_params(overrides=fee_overrides(args))
    result = estimate(_model(args.model, args.calibration), args.hardfork, sizes, params, zk=args.zk)
    if args.json:
        print_json(estimate_record(result))
        return EXIT_OK
    for title, rows in estimate_tables(result):
        table(title, rows)
    return EXIT_OK


def _tx(tx) -> dict[str, Any]:
    return {"name": tx.name, "gas": tx.gas, "calldata_bytes": tx.calldata_bytes}


def estimate_record(e) -> dict[str, Any]:
    """The estimate as JSON (dollars as strings: exact)."""
    from vcp_toolkit.bench.money import cost_records

    zk = asdict(e.zk) if hasattr(e.zk, "logrows") else {"missing": e.zk}
    return {"model": e.model, "kind": e.kind, "params": e.params, "schedule": e.schedule,
            "contracts": [{**asdict(c), "headroom_bytes": c.headroom_bytes} for c in e.contracts],
            "signed": _tx(e.signed), "batches": {str(n): {**_tx(tx), "gas_per_inference": tx.gas / n}
                                                 for n, tx in e.batches.items()},
            "inclusion_check": _tx(e.inclusion_check), "optimistic_happy": [_tx(tx) for tx in e.optimistic],
            "fraud_proofs": [{"operator": p.operator, "position": p.position, "element": p.element, **_tx(p.tx)}
                             for p in e.fraud_proofs],
            "zk": zk, "fees": cost_records(list(e.costs)), "notes": list(e.notes)}


def _usd(value: Decimal) -> str:
    return f"${value:,.4f}" if value >= Decimal("0.01") else f"${value:.2e}"


def estimate_tables(e) -> list[tuple[str, list[tuple[str, str]]]]:
    """(title, rows) for each section of the text output."""
    from vcp_toolkit.bench.estimate import EIP170_LIMIT

    head = f"vcp estimate: {e.model} ({e.kind}, {number(e.params)} params), dry run on the embedded EVM, {e.schedule} schedule"
    contracts = [(f"{c.name} deploy", f"{number(c.deploy_gas)} gas, {number(c.code_bytes)} of {number(EIP170_LIMIT)} "
                  f"bytes (EIP-170)") for c in e.contracts]
    gas = [("signed attestation", f"{number(e.signed.gas)} gas")]
    gas += [(f"batch of {n}", f"{number(tx.gas)} gas, {number(tx.gas / n)} per inference") for n, tx in e.batches.items()]
    gas += [(e.inclusion_check.name, f"{number(e.inclusion_check.gas)} gas"),
            ("optimistic, no dispute", f"{number(sum(tx.gas for tx in e.optimistic))} gas ("
             + ", ".join(f"{tx.name} {number(tx.gas)}" for tx in e.optimistic) + ")")]
    gas += [(f"fraud proof, {kind} (costliest: #{p.position}, element {p.element})",
             f"{number(p.tx.gas)} gas, {number(p.tx.calldata_bytes)} calldata bytes")
            for kind, p in e.worst_fraud_proofs().items()]
    dollars = [(f"{c.mode.replace('_', ' ')}" + (f" (N={c.batch})" if c.batch > 1 else ""),
                " · ".join(f"{chain} {_usd(v)}" for chain, v in c.usd.items())) for c in e.costs]
    notes = [("note", note) for note in e.notes]
    return [(head, contracts + gas + notes), ("zk baseline (EZKL), predicted", _zk_rows(e.zk)),
            ("dollars per verified inference (docs/fees.md)", dollars)]


def _zk_rows(zk) -> list[tuple[str, str]]:
    from vcp_toolkit.bench.estimate import EIP170_LIMIT

    if not hasattr(zk, "logrows"):
        return [("zk", str(zk))]
    return [("circuit (EZKL's calibrated size)", f"logrows {zk.logrows}, {number(zk.rows)} rows, "
                                                   f"{zk.instances} public values"),
            ("setup / prove", f"{number(zk.setup_s)} s / {number(zk.prove_s)} s"),
            ("prover peak memory / proving key", f"{number(zk.peak_rss_mb / 1024)} GiB / "
                                                 f"{number(zk.pk_bytes / 2**30)} GiB"),
            ("proof / verifier code", f"{number(zk.proof_bytes)} bytes / {number(zk.verifier_bytes)} of "
                                      f"{number(EIP170_LIMIT)} bytes (EIP-170)"),
            ("verify gas (registry / verifier alone)", f"{number(zk.registry_gas)} / {number(zk.verifier_gas)}")]
