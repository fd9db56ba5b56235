"""What the user sees: exit codes, tables, JSON, number formatting, escaped echoes."""

from __future__ import annotations

import json
import sys
from typing import Any, Iterable, Mapping

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_UNCHECKED = 3  # vcp verify: a check could not be carried out (a file unreadable, the node unreachable)


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str))  # escapes every control and non-ASCII character


def table(title: str, rows: Iterable[tuple[str, str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    out = Table(title=title, show_header=False, title_justify="left")
    out.add_column(style="bold")
    out.add_column(justify="right")
    for k, v in rows:
        out.add_row(k, v)
    Console().print(out)


def us(seconds: float) -> str:
    """A duration in µs below a millisecond, else in ms."""
    return f"{seconds * 1e6:,.1f} µs" if seconds < 1e-3 else f"{seconds * 1e3:,.2f} ms"


def counts(tally: Mapping[str, int]) -> str:
    """``landed 3, pending 1``: a tally, sorted by name."""
    return ", ".join(f"{k} {v}" for k, v in sorted(tally.items()))


def printable(value: Any) -> str:
    """A value from a file or the command line, safe to echo to a terminal."""
    from vcp_toolkit.attest.files import printable as escape

    return escape(value)


def say(message: str) -> None:
    """A progress line of a long-running command, flushed at once."""
    print(message, flush=True)


def warn(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
