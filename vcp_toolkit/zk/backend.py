"""EZKL itself: importing it, its version, its input file, its error text, what it prints, and
the witness and proof it makes in the calling process."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np

from vcp_toolkit.errors import ToolMissing, ZkError

INSTALL_HINT = "the zk backend needs EZKL: pip install 'vcp-toolkit[zk]' (or pip install ezkl)"
VERBOSE_ENV = "VCP_VERBOSE"  # set (by `vcp -v`) to let EZKL's own output through


@contextlib.contextmanager
def native_output() -> Iterator[None]:
    """EZKL's Rust side writes straight to file descriptors 1 and 2 (a numerical fidelity table
    on calibration, progress lines), past sys.stdout, so it would land in the middle of vcp's tables
    and `--json` output. Those descriptors point at a scratch file while EZKL runs, unless
    $VCP_VERBOSE is set. Python's own writes in between go there too: nothing of vcp's prints here."""
    if os.environ.get(VERBOSE_ENV):
        yield
        return
    for stream in (sys.stdout, sys.stderr):
        _flush(stream)
    saved = [os.dup(1), os.dup(2)]
    try:
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            try:
                yield
            finally:
                for stream in (sys.stdout, sys.stderr):
                    _flush(stream)
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
    finally:
        for fd in saved:
            os.close(fd)


def _flush(stream) -> None:
    try:
        stream.flush()
    except (AttributeError, OSError, ValueError):  # None, closed, or a broken pipe: nothing to keep
        pass


def ezkl_version() -> str | None:
    try:
        import importlib.metadata

        return importlib.metadata.version("ezkl")
    except Exception:
        return None


def require_ezkl():
    try:
        import ezkl
    except ImportError as exc:
        raise ToolMissing(INSTALL_HINT) from exc
    return ezkl


def ezkl_failure(what: str, exc: Exception) -> ZkError:
    """A ZkError for an exception EZKL raised (RuntimeError/ValueError with its own text)."""
    more = "" if os.environ.get(VERBOSE_ENV) else " (run with `vcp -v` to see EZKL's own output)"
    return ZkError(f"{what}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}{more}")


def write_input(path: Path, x: np.ndarray) -> None:
    """EZKL's input file for one int8 vector."""
    path.write_text(json.dumps({"input_data": [[float(v) for v in x.reshape(-1)]]}))


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB: Linux's VmHWM, which a spawned child
    starts afresh (its ru_maxrss starts at the parent's resident size when it forked, so a prover
    started after a large setup would report the setup's memory as its own); ru_maxrss elsewhere."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def witness_and_proof(witness_in: str, compiled: str, pk: str, proof_out: str, srs: str, witness: str) -> float:
    """EZKL's witness and proof, in this process; returns the process's peak RSS (MB). The prover runs
    this in a fresh process, so it lives here, where importing it costs what importing EZKL's wrapper costs."""
    import ezkl

    with native_output():
        ezkl.gen_witness(witness_in, compiled, witness)
        ezkl.prove(witness, compiled, pk, proof_out, srs)
    return peak_rss_mb()


def run_isolated(fn, *args):
    """``fn(*args)`` in a fresh (spawned) process: (seconds, its result). The child's start-up is not
    timed. A child the kernel kills (out of memory, a crash in native code) raises ZkError at once
    instead of leaving the caller waiting for an answer that never comes."""
    import multiprocessing
    import time
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        pool.submit(time.sleep, 0).result()
        started = time.perf_counter()
        try:
            result = pool.submit(fn, *args).result()
        except BrokenProcessPool as exc:
            raise ZkError(f"EZKL's process died after {time.perf_counter() - started:.0f} s, most likely killed for "
                          "lack of memory: prove a smaller model or use a machine with more memory") from exc
        return time.perf_counter() - started, result
