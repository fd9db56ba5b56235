"""`vcp serve --http`: the attested-inference server (prover._http_server), and `vcp bench --load`,
its load benchmark (bench.load)."""

from __future__ import annotations

import argparse
import sys

from vcp_toolkit.cli.render import EXIT_OK, print_json, table
from vcp_toolkit.errors import UsageError

DEFAULT_PORT = 8080


def add_http_serve_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--http", action="store_true",
                   help="answer POST /infer over HTTP with attested results, journaled before each answer "
                        "(see docs/serving.md), instead of optimistic jobs")
    p.add_argument("--host", default="127.0.0.1", help="--http: address to listen on")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="--http: port to listen on (0: any free port, "
                                                                  "printed at start)")
    p.add_argument("--batch-window-ms", type=float, default=5.0,
                   help="--http: collect requests this long (from the first) and sign one batch root for them; "
                        "0 signs every answer on its own")
    p.add_argument("--max-batch", type=int, default=256, help="--http: close a batch at this many requests")
    p.add_argument("--chain-id", type=int, help="--http: EIP-712 chainId to sign for (with --registry; or take "
                                                "both from --rpc-url and the deployments file)")
    p.add_argument("--registry", help="--http: AttestationRegistry address to sign for (with --chain-id)")


def _refuse_optimistic_options(args: argparse.Namespace) -> None:
    given = [flag for flag, value in (("--exchange", args.exchange), ("--state", args.state),
                                      ("--cheat", args.cheat), ("--cheat-every", args.cheat_every),
                                      ("--once", args.once)) if value]
    if given:
        raise UsageError(f"{', '.join(given)} apply to optimistic serving, not to --http: drop them")
    if not args.rpc_url and (args.chain_id is None or args.registry is None):
        raise UsageError("vcp serve --http needs --chain-id and --registry, or --rpc-url with a deployments file: "
                         "the EIP-712 domain every answer is signed for")


def cmd_serve_http(args: argparse.Namespace) -> int:
    from vcp_toolkit.cli.context import Context
    from vcp_toolkit.prover import InferenceServer, Prover, ServeSettings

    _refuse_optimistic_options(args)
    settings = ServeSettings(host=args.host, port=args.port, window_ms=args.batch_window_ms,
                             max_batch=args.max_batch)
    ctx = Context(args)
    domain = ctx.domain()
    prover = Prover(ctx.model, ctx.key("sign answers"), domain)
    server = InferenceServer(prover, args.journal, settings)
    mode = f"batches of up to {settings.max_batch} every {settings.window_ms:g} ms" if settings.window_ms else \
        "one signature per answer"

    def ready(url: str) -> None:
        print(f"serving {prover.model.name} as {prover.address} on {url} ({mode}; chainId {domain.chain_id}, "
              f"registry {domain.verifying_contract}; journal {args.journal})", flush=True)

    server.run(ready)
    print("stopped: every answer sent is in the journal", file=sys.stderr)
    return EXIT_OK


# ---------------------------------------------------------------- vcp bench --load


def add_load_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--load", action="store_true",
                   help="instead of the sweep: drive `vcp serve --http` on loopback with concurrent clients and "
                        "report requests/s and latency per batch window (writes load.json)")
    p.add_argument("--load-windows", default="0,2,5,10,20", help="--load: batch windows in ms, comma-separated")
    p.add_argument("--load-seconds", type=float, default=10.0, help="--load: seconds of load per window")
    p.add_argument("--load-clients", type=int, default=64, help="--load: concurrent requests in flight")
    p.add_argument("--load-processes", type=int, default=1,
                   help="--load: processes sending them (the clients shared out), each verifying its answers")


def _windows(text: str) -> tuple[float, ...]:
    try:
        windows = tuple(float(w) for w in text.split(",") if w.strip())
    except ValueError:
        raise UsageError(f"--load-windows {text[:60]!r}: expected numbers of ms separated by commas") from None
    if not windows or any(not 0 <= w <= 1000 for w in windows):
        raise UsageError("--load-windows: give at least one window, each between 0 and 1000 ms")
    return windows


def cmd_bench_load(args: argparse.Namespace) -> int:
    from vcp_toolkit.bench.load import LoadConfig, run_load, write_load
    from vcp_toolkit.cli.render import out_folder

    config = LoadConfig(windows=_windows(args.load_windows), seconds=args.load_seconds, clients=args.load_clients,
                        processes=args.load_processes)
    out = out_folder(args.out, "load.json")
    result = run_load(config, progress=lambda msg: print(msg, file=sys.stderr, flush=True))
    path = write_load(result, out)
    if args.json:
        print_json(result)
        return EXIT_OK
    table("vcp bench --load (attested requests, verified by the client)",
          [(f"window {r['window_ms']:g} ms", f"{r['requests_per_s']:,.0f} req/s, p50 {r['p50_ms']:.1f} ms, "
            f"p99 {r['p99_ms']:.1f} ms, mean batch {r['mean_batch']:.1f}, lost {r['lost']}, "
            f"duplicated {r['duplicated']}, errors {r['errors']}") for r in result["rows"]])
    print(f"wrote {path}")
    return EXIT_OK
