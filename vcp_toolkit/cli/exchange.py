"""``vcp exchange``: run an HTTP content-addressed store, and put or get a blob by hand.

``serve`` prints one line with the URL it listens on (a free port with ``--port 0``) and runs
until SIGTERM or Ctrl-C. ``put`` and ``get`` take ``--store`` once per store (a URL or a
directory): ``put`` publishes to every store, ``get`` takes the first right answer."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vcp_toolkit.cli.options import Commands, Parser, add_json_arg
from vcp_toolkit.cli.render import EXIT_OK, print_json, say

STORE_HELP = ("an HTTP store (http://host:port) or a shared directory; repeat for several (put: to every one, "
              "get: from the first with the right bytes)")


def add_exchange_arg(p: argparse.ArgumentParser, what: str, required: bool = True) -> None:
    """``--exchange STORE``, repeatable: where the optimistic commands publish and fetch."""
    p.add_argument("--exchange", action="append", required=required, metavar="STORE",
                   help=f"{what}: an HTTP store (http://host:port, see `vcp exchange serve`), calldata: or "
                        "blobs: (the chain itself, through the DataAnchor or BlobAnchor `vcp deploy` recorded; "
                        "calldata:0xADDRESS for another) or a shared directory; repeat for several (published to "
                        "every one, fetched from any with the right bytes)")


def add_exchange_parser(sub) -> None:
    group = sub.add_parser("exchange", help="the data-availability store: serve one over HTTP, put or get a blob")
    commands = group.add_subparsers(dest="exchange_command", metavar="ACTION", required=True, action=Commands,
                                    parser_class=Parser, help="serve, put or get")
    p = commands.add_parser("serve", help="serve a content-addressed blob store over HTTP until SIGTERM or Ctrl-C")
    p.add_argument("--dir", type=Path, required=True, help="folder holding the blobs (created if missing)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=0, help="port to listen on (default: %(default)s, a free port, printed at start)")
    p.add_argument("--max-bytes", type=int, default=16 * 1024 * 1024, help="largest blob accepted, in bytes")
    p.add_argument("--timeout", type=float, default=10.0,
                   help="seconds a client has to send a whole body, or a request on an idle connection")
    p.add_argument("--max-uploads", type=int, default=32,
                   help="bodies received at once (more get 503), so memory stays under this times --max-bytes")

    p = commands.add_parser("put", help="publish a file's bytes and print their keccak256 (its name in the store)")
    p.add_argument("file", type=Path, help="the file to publish")
    p.add_argument("--store", action="append", required=True, help=STORE_HELP)
    add_json_arg(p)

    p = commands.add_parser("get", help="fetch a blob by its keccak256, checked against it, into a file")
    p.add_argument("digest", help="the blob's keccak256 (64 hex digits, 0x optional)")
    p.add_argument("--store", action="append", required=True, help=STORE_HELP)
    p.add_argument("--out", type=Path, required=True, help="file to write ('-' for stdout)")


def _serve(args: argparse.Namespace) -> int:
    from vcp_toolkit.ops.http_server import StoreLimits, serve_forever

    limits = StoreLimits(max_bytes=args.max_bytes, timeout=args.timeout, max_uploads=args.max_uploads)
    if not 0 <= args.port <= 65535:
        from vcp_toolkit.errors import InvalidInput

        raise InvalidInput(f"--port must be 0..65535, not {args.port}")
    args.dir.mkdir(parents=True, exist_ok=True)
    serve_forever(args.dir, args.host, args.port, limits,
                  lambda url: say(f"serving blobs from {args.dir} on {url} (max {limits.max_bytes:,} bytes, "
                                  f"timeout {limits.timeout:g} s)"))
    say("store stopped")
    return EXIT_OK


def _put(args: argparse.Namespace) -> int:
    from vcp_toolkit.attest.files import read_bounded
    from vcp_toolkit.ops.blobdir import DEFAULT_MAX_BYTES
    from vcp_toolkit.ops.da import open_stores

    data = read_bounded(args.file, "blob", cap=DEFAULT_MAX_BYTES)
    stores = open_stores(args.store)
    digest = stores.put(data)
    if args.json:
        print_json({"digest": "0x" + digest, "stores": args.store, "failed": stores.last_failures})
    else:
        print("0x" + digest)
        for where, reason in stores.last_failures.items():
            say(f"not stored in {where}: {reason}")
    return EXIT_OK


def _get(args: argparse.Namespace) -> int:
    from vcp_toolkit.attest.files import write_atomic
    from vcp_toolkit.ops.da import open_stores

    data = open_stores(args.store).get(args.digest)
    if str(args.out) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        write_atomic(args.out, data)
    return EXIT_OK


def cmd_exchange(args: argparse.Namespace) -> int:
    return {"serve": _serve, "put": _put, "get": _get}[args.exchange_command](args)
