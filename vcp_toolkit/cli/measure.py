"""Measuring: ``vcp bench`` runs every trust model; ``vcp report`` renders the result."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from vcp_toolkit.cli.render import EXIT_OK, print_json, table
from vcp_toolkit.errors import InvalidInput

CHAINS = ("embedded", "anvil", "ganache")


def bench_config(args: argparse.Namespace):
    """The preset (--quick or full) with --chains, --repeats and the prices applied, each checked."""
    from vcp_toolkit.bench import FULL, QUICK, Prices

    config = QUICK if args.quick else FULL
    if args.chains:
        chains = tuple(c.strip() for c in args.chains.split(",") if c.strip())
        unknown = [c for c in chains if c not in CHAINS]
        if unknown or not chains:
            raise InvalidInput(f"--chains: unknown chain(s) {', '.join(unknown) or '(none given)'}")
        config = dataclasses.replace(config, chains=chains)
    if args.repeats is not None:
        if args.repeats < 1:
            raise InvalidInput("--repeats must be at least 1")
        config = dataclasses.replace(config, repeats=args.repeats)
    if args.gas_price_gwei < 0 or args.eth_usd < 0:
        raise InvalidInput("prices must not be negative")
    return dataclasses.replace(config, prices=Prices(args.gas_price_gwei, args.eth_usd))


def _run_with_progress(config) -> dict:
    from rich.console import Console
    from rich.progress import Progress

    from vcp_toolkit.bench import run_bench

    steps = len(config.chains) * (len(config.models) + 2) + len(config.zk_models)
    with Progress(transient=True, console=Console(stderr=True)) as progress:
        task = progress.add_task("vcp bench", total=steps)

        def note(message: str) -> None:
            progress.update(task, advance=1, description=message)

        return run_bench(config, note)


def _target_row(t: dict) -> tuple[str, str]:
    if t["value"] is None:
        return t["name"], "not measured"
    return t["name"], f"{t['value']:,.4g} ({'met' if t['met'] else 'MISSED'}, limit {t['limit']:,})"


def cmd_bench(args: argparse.Namespace) -> int:
    from vcp_toolkit.bench.output import write_results

    result = _run_with_progress(bench_config(args))
    json_path, csv_path = write_results(result, args.out)
    if args.json:
        print_json(result)
    else:
        table("vcp bench targets", [_target_row(t) for t in result["targets"]])
        print(f"wrote {json_path} and {csv_path} in {result['wall_time_s']:.0f} s; `vcp report` renders them")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from vcp_toolkit.bench.report import headline_markdown, write_report

    if args.markdown:
        try:
            result = json.loads(Path(args.bench).read_text())
            print(headline_markdown(result), end="")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InvalidInput(f"{args.bench} is not a vcp bench result ({exc}); run `vcp bench` first") from exc
        return EXIT_OK
    path = write_report(args.bench, args.out)
    print(f"wrote {path} (plots embedded; PNGs beside it)")
    return EXIT_OK
