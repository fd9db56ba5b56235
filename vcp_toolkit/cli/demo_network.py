"""``vcp demo --mode network``: provers, watchers, stores and a requester as separate processes on
one host, with crashes injected; the counts and the time from a cheat to its slash."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from vcp_toolkit.cli.render import EXIT_FAILED, EXIT_OK, number, out_folder, print_json, say, table
from vcp_toolkit.errors import InvalidInput


def _rows(report: dict) -> list[tuple[str, str]]:
    jobs, cheats, delay = report["jobs"], report["cheats"], report["cheat_to_slash"]
    rows = [
        ("jobs opened / finalized / disputed", f"{jobs['opened']} / {jobs['finalized']} / {jobs['disputed']}"),
        ("results submitted / races lost", f"{report['results_submitted']} / {report['races_lost']}"),
        ("cheats told / caught / finalized", f"{cheats['told']} / {cheats['caught']} / {cheats['finalized']}"),
        ("fraud proofs / failed challenges", f"{report['fraud_proofs']} / {report['failed_challenges']}"),
        ("reveal requests", number(report["reveal_requests"])),
        ("honest provers slashed (must be 0)", number(report["honest_provers_slashed"])),
        ("records lost (must be 0)", number(report["records_lost"])),
    ]
    if delay["count"]:
        rows.append(("cheat to slash: median / max", f"{delay['median_s']:.2f} s / {delay['max_s']:.2f} s "
                     f"({delay['median_blocks']:g} / {delay['max_blocks']} blocks)"))
    for fault in report["faults"]:
        rows.append((f"crash: {fault['process']}", f"SIGKILL after {fault['jobs_opened_before']} jobs opened, "
                                                   f"down {fault['down_s']:.1f} s, restarted"))
    rows.append(("wall time", f"{report['wall_s']:.1f} s"))
    return rows


def demo_network(args: argparse.Namespace) -> int:
    from vcp_toolkit.demo.network import NetworkPlan, run_network

    if args.model != "digits":
        raise InvalidInput(f"--mode network runs the built-in digits model, not {args.model}: leave --model out")
    plan = NetworkPlan(jobs=args.jobs, faults=not args.no_faults)
    plan.check()
    # A fresh folder per run (state files and journals of an earlier run name another chain's blocks),
    # unique even for two runs started in the same second.
    out = out_folder(args.out, "the network's logs, stores, state files and journals")
    out.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=time.strftime("network-%Y%m%d-%H%M%S-"), dir=out))
    report = run_network(plan, workdir, progress=(lambda _: None) if args.json else say).as_dict()
    if args.json:
        print_json(report)
    else:
        table("vcp network demo: Anvil, 2 stores, 3 provers (1 lying), 2 watchers, 1 requester", _rows(report))
        print(f"logs, stores, state files and journals: {workdir}")
        for problem in report["problems"]:
            print(f"PROBLEM: {problem}")
    return EXIT_OK if report["ok"] else EXIT_FAILED
