"""The ``vcp`` command line. Every error is one line on stderr and a non-zero exit, no traceback
(set VCP_DEBUG=1 to see one). Exit codes: 0 ok, 1 failed or invalid, 2 bad usage or input
(``vcp verify``: 3 could not check).

The CLI only parses and prints: ``parser`` builds the arguments, ``context`` connects, finds
deployments, resolves keys and loads models and inputs, one module per group of commands
(``signed``, ``verify``, ``optimistic``, ``setup``, ``measure``, ``models``, ``demo``) calls the
library, and ``render`` prints tables and JSON. ``COMMANDS`` and ``build_parser`` are importable from here.

One rule for outputs: ``--out`` is a folder when a command writes several files (demo, run, bench,
report) and a file when it writes one (prove, export, keygen); ``--json`` puts the result on stdout
and nothing else; numbers go through ``render.number``; third-party output shows only with ``-v``."""

from __future__ import annotations

import os
import signal
import sys
import traceback
from typing import Sequence

from vcp_toolkit.cli.demo import cmd_demo
from vcp_toolkit.cli.estimate import cmd_estimate
from vcp_toolkit.cli.graphs import cmd_quantize
from vcp_toolkit.cli.exchange import cmd_exchange
from vcp_toolkit.cli.measure import cmd_bench, cmd_report
from vcp_toolkit.cli.models import cmd_export, cmd_inspect
from vcp_toolkit.cli.optimistic import cmd_request, cmd_serve, cmd_watch, cmd_withdraw
from vcp_toolkit.cli.parser import build_parser
from vcp_toolkit.cli.render import EXIT_FAILED, EXIT_OK, EXIT_USAGE, os_error_text, third_party_output
from vcp_toolkit.cli.setup import cmd_deploy, cmd_keygen, cmd_mine, cmd_node
from vcp_toolkit.cli.signed import cmd_prove, cmd_resume, cmd_run, cmd_status, cmd_submit
from vcp_toolkit.cli.verify import cmd_verify
from vcp_toolkit.errors import InvalidInput, UsageError, VcpError, VerificationFailed

__all__ = ["COMMANDS", "EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "UsageError", "build_parser", "main"]

COMMANDS = {"demo": cmd_demo, "prove": cmd_prove, "verify": cmd_verify, "submit": cmd_submit,
            "deploy": cmd_deploy, "keygen": cmd_keygen, "node": cmd_node, "mine": cmd_mine, "serve": cmd_serve,
            "watch": cmd_watch,
            "request": cmd_request, "withdraw": cmd_withdraw, "bench": cmd_bench, "report": cmd_report, "estimate": cmd_estimate,
            "inspect": cmd_inspect, "export": cmd_export, "quantize": cmd_quantize, "status": cmd_status, "resume": cmd_resume, "run": cmd_run,
            "exchange": cmd_exchange}


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds `with` blocks and `finally`, so started nodes and processes are stopped


def main(argv: Sequence[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    signal.signal(signal.SIGHUP, _exit_on_sigterm)  # a closed terminal or SSH session: stop what was started
    try:
        args = build_parser().parse_args(argv)
        with third_party_output(args.verbose):
            return COMMANDS[args.command](args)
    except InvalidInput as exc:
        print(f"vcp: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except VerificationFailed as exc:
        print(f"vcp: invalid: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except VcpError as exc:
        print(f"vcp: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:  # a node gone mid-command, a full disk: still one line, naming the file
        print(f"vcp: error: {os_error_text(exc)}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("vcp: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: still one line, with the traceback on request
        if os.environ.get("VCP_DEBUG"):
            traceback.print_exc()
        print(f"vcp: internal error: {type(exc).__name__}: {exc} (set VCP_DEBUG=1 for a traceback)", file=sys.stderr)
        return EXIT_FAILED
