"""Measuring: ``vcp bench`` runs every trust model; ``vcp report`` renders the result.

``--out`` follows the CLI's rule: a command that writes several files takes a folder (bench writes
bench.json and bench.csv in it; report writes report.html and its PNG plots in it), and
``report --bench`` takes a bench.json or the folder holding it."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from vcp_toolkit.bench.output import BENCH_CSV, BENCH_JSON
from vcp_toolkit.cli.render import EXIT_OK, number, out_folder, print_json, printable, table
from vcp_toolkit.errors import InvalidInput

CHAINS = ("embedded", "anvil", "ganache")
REPORT_HTML = "report.html"


def bench_config(args: argparse.Namespace):
    """The preset (--quick or full) with --chains, --repeats, the prices and the schedules applied, each checked."""
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
    config = dataclasses.replace(config, prices=Prices(args.gas_price_gwei, args.eth_usd), hardfork=args.hardfork,
                                 schedules=_schedules(args.schedules))
    config.hardforks()  # a schedule a chain of the run cannot run is refused now, not after minutes
    return config


def _schedules(text: str) -> tuple[str, ...]:
    from vcp_toolkit.chain.hardfork import Hardfork

    names = tuple(dict.fromkeys(n.strip().lower() for n in text.split(",") if n.strip()))
    return tuple(Hardfork(n).name for n in names)


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


def target_row(t: dict) -> tuple[str, str]:
    if t["value"] is None:
        return t["name"], "not measured"
    bound = "≤" if t.get("better", "lower") == "lower" else "≥"
    return t["name"], f"{number(t['value'])} ({'met' if t['met'] else 'MISSED'}, limit {bound} {number(t['limit'])})"


def fee_overrides(args: argparse.Namespace) -> dict[str, str]:
    """``--fee-param NAME=VALUE`` options as a dict, each name checked (a repeated name: the last wins)."""
    from vcp_toolkit.chain.fee_params import parse_override

    return dict(parse_override(text) for text in args.fee_param)


def cmd_bench(args: argparse.Namespace) -> int:
    from vcp_toolkit.bench.money import cost_records, cost_table, params_record
    from vcp_toolkit.bench.output import write_results
    from vcp_toolkit.chain.fee_params import load_fee_params

    if args.load:
        from vcp_toolkit.cli.serve_http import cmd_bench_load

        return cmd_bench_load(args)
    out = out_folder(args.out, f"{BENCH_JSON} and {BENCH_CSV}")
    params = load_fee_params(overrides=fee_overrides(args))  # refused before minutes of measuring
    result = _run_with_progress(bench_config(args))
    result["fee_params"] = params_record(params)
    result["fees"] = cost_records(cost_table(result, params))
    json_path, csv_path = write_results(result, out)
    if args.json:
        print_json(result)
    else:
        table("vcp bench targets", [target_row(t) for t in result["targets"]])
        print(f"wrote {json_path} and {csv_path} in {result['wall_time_s']:.0f} s; "
              f"`vcp report --bench {out}` renders them")
    return EXIT_OK


def bench_file(path: Path) -> Path:
    """``report --bench``: a bench.json, or the folder holding one."""
    path = Path(path)
    return path / BENCH_JSON if path.is_dir() else path


def load_bench(path: Path) -> dict:
    """A `vcp bench` result, read bounded (a FIFO or a device is refused, never read)."""
    from vcp_toolkit.attest.files import read_json

    try:
        result = read_json(path, "bench result")
        if not isinstance(result, dict) or not all(k in result for k in ("rows", "targets", "environment")):
            raise InvalidInput(f"bench result {printable(path)} lacks rows, targets or environment")
    except InvalidInput as exc:
        raise InvalidInput(f"{exc}; run `vcp bench --out DIR` and pass that DIR or DIR/{BENCH_JSON} "
                           "to --bench") from None
    return result


def report_file(out: Path | None, bench: Path) -> Path:
    """``report --out``: a folder gets report.html (the plots go beside it); a path ending in
    .html is the report itself; by default, the bench result's folder."""
    if out is None:
        return bench.parent / REPORT_HTML
    out = Path(out)
    if out.suffix.lower() in (".html", ".htm"):
        return out
    if out.exists() and not out.is_dir():
        raise InvalidInput(f"--out {printable(out)} is a file that is not .html: name a folder (report.html and "
                           "the plots go in it) or an .html file")
    return out / REPORT_HTML


def cmd_report(args: argparse.Namespace) -> int:
    from vcp_toolkit.bench.report import headline_markdown, write_report

    from vcp_toolkit.bench.money import bench_fee_params

    bench = bench_file(args.bench)
    result = load_bench(bench)
    overrides = fee_overrides(args)
    if args.markdown:
        print(headline_markdown(result, bench_fee_params(result, overrides)), end="")
        return EXIT_OK
    path = write_report(bench, report_file(args.out, bench), overrides)
    if args.json:
        print_json({"report": str(path), "plots_folder": str(path.parent), "bench": str(bench)})
    else:
        print(f"wrote {path} (plots embedded, and as PNG files beside it) from {bench}")
    return EXIT_OK
