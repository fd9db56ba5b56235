"""What the user sees: exit codes, tables, JSON, number formatting, escaped echoes."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sys
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_UNCHECKED = 3  # vcp verify: a check could not be carried out (a file unreadable, the node unreachable)


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str))  # escapes every control and non-ASCII character


def table(title: str, rows: Iterable[tuple[str, str]]) -> None:
    """Two columns, name and value. A boxed rich table on a terminal wide enough for every row;
    piped, or on a narrow terminal, plain aligned lines, so no value (a 0x-hex root) is ever cut."""
    import shutil

    rows = [(str(k), str(v)) for k, v in rows]
    key_width = max((len(k) for k, _ in rows), default=0)
    needed = key_width + max((len(v) for _, v in rows), default=0) + 7  # borders and padding
    if not sys.stdout.isatty() or needed > shutil.get_terminal_size().columns:
        print(title)
        for k, v in rows:
            print(f"  {k:<{key_width}}  {v}")
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    out = Table(title=Text(title), show_header=False, title_justify="left")
    out.add_column(style="bold")
    out.add_column(justify="right")
    for k, v in rows:
        out.add_row(Text(k), Text(v))  # Text: a "[name]" in a value is shown, not read as markup
    Console().print(out)


def number(value: Any) -> str:
    """The one number format for people (``36,570``, ``1.234``): vcp_toolkit.bench.output.human."""
    from vcp_toolkit.bench.output import human

    return human(value)


def us(seconds: float) -> str:
    """A duration in µs below a millisecond, in ms below 10 s, else in s."""
    if seconds >= 10:
        return f"{seconds:,.1f} s"
    return f"{seconds * 1e6:,.1f} µs" if seconds < 1e-3 else f"{seconds * 1e3:,.2f} ms"


def counts(tally: Mapping[str, int]) -> str:
    """``landed 3, pending 1``: a tally, sorted by name."""
    return ", ".join(f"{k} {v}" for k, v in sorted(tally.items()))


def printable(value: Any) -> str:
    """A value from a file or the command line, safe to echo to a terminal."""
    from vcp_toolkit.attest.files import printable as escape

    return escape(value)


_OS_FIXES = {errno.ENOENT: "check the path", errno.EISDIR: "it is a folder: name a file",
             errno.ENOTDIR: "a part of the path is a file, not a folder", errno.EACCES: "check its permissions",
             errno.EPERM: "check its permissions", errno.ENOSPC: "the disk is full: free some space",
             errno.EROFS: "the file system is read-only: choose another place", errno.EEXIST: "it exists already"}


def os_error_text(exc: OSError) -> str:
    """One line for an OSError: the file it is about (the destination of a rename) and a fix."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    where = exc.filename2 if exc.filename2 is not None else exc.filename
    fix = _OS_FIXES.get(exc.errno)
    if where is None:
        return printable(reason)
    return printable(f"{where}: {reason}" + (f" ({fix})" if fix else ""))


def out_folder(out: Path, writes: str) -> Path:
    """An ``--out`` that names a folder (created when missing); an existing file there is refused."""
    from vcp_toolkit.errors import InvalidInput

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InvalidInput(f"--out {printable(out)} is a file; this command writes {writes} into a folder: "
                           "name a folder")
    return out


@contextlib.contextmanager
def third_party_output(verbose: bool) -> Iterator[None]:
    """``-v``: $VCP_VERBOSE is set while the command runs, so EZKL's own output (which bypasses
    sys.stdout, and may come from a child process: the environment reaches it) is let through."""
    if not verbose:
        yield
        return
    from vcp_toolkit.zk.backend import VERBOSE_ENV

    if os.environ.get(VERBOSE_ENV):
        yield
        return
    os.environ[VERBOSE_ENV] = "1"
    try:
        yield
    finally:
        os.environ.pop(VERBOSE_ENV, None)


def say(message: str) -> None:
    """A progress line of a long-running command, flushed at once."""
    print(message, flush=True)


def warn(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
