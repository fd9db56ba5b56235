"""One EZKL stage in a child process under a time limit and a memory ceiling, so that a circuit too
large for the machine is stopped by vcp (or, failing that, by the kernel) without taking the calling
process or the machine down with it. The child's peak memory is its own (Linux's VmHWM)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from dataclasses import dataclass
from typing import Any, Callable

from vcp_toolkit.errors import ZkError
from vcp_toolkit.zk.backend import native_output, peak_rss_mb

POLL_S = 0.5


@dataclass(frozen=True)
class StageLimits:
    """How long a stage may take and how much resident memory its process may hold."""

    seconds: float
    rss_bytes: int | None = None  # None: no ceiling of vcp's own (the kernel's still applies)


class StageFailed(ZkError):
    """A stage that did not finish: EZKL's error, a limit vcp enforced, or the process's death. Its
    text starts with the stage's name; it keeps how long the stage ran and its peak memory."""

    def __init__(self, stage: str, why: str, seconds: float, peak_rss_mb: float) -> None:
        super().__init__(f"{stage}: {why}")
        self.stage, self.seconds, self.peak_rss_mb = stage, seconds, peak_rss_mb


@dataclass(frozen=True)
class StageRun:
    seconds: float  # the stage's own work, timed in the child (its start-up excluded)
    peak_rss_mb: float
    result: Any


def _child(conn, fn: Callable, args: tuple) -> None:
    try:
        with native_output():
            started = time.perf_counter()
            value = fn(*args)
            seconds = time.perf_counter() - started
        conn.send((True, value, seconds, peak_rss_mb()))
    except BaseException as exc:  # EZKL raises RuntimeError/ValueError/BaseException subclasses (PanicException)
        text = str(exc).strip().splitlines()
        conn.send((False, f"{type(exc).__name__}: {text[0] if text else ''}", 0.0, peak_rss_mb()))
    finally:
        conn.close()


def rss_bytes(pid: int) -> int:
    """The resident memory of process ``pid`` now (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _stop(proc) -> None:
    if proc.is_alive():
        os.kill(proc.pid, signal.SIGKILL)
    proc.join()


def run_guarded(stage: str, fn: Callable, args: tuple, limits: StageLimits) -> StageRun:
    """``fn(*args)`` in a fresh (spawned) process, stopped when it passes ``limits``. Any failure is
    a StageFailed: EZKL's own error, the limit vcp enforced, or the process's death (most likely the
    kernel's out-of-memory killer)."""
    ctx = multiprocessing.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, fn, args), daemon=True)
    started, sampled = time.perf_counter(), 0
    proc.start()
    send.close()
    try:
        while not receive.poll(POLL_S):
            sampled = max(sampled, rss_bytes(proc.pid))
            _check(stage, proc, time.perf_counter() - started, sampled, limits)
        ok, value, seconds, peak_mb = receive.recv()
    except EOFError:
        proc.join()
        elapsed = time.perf_counter() - started
        raise StageFailed(stage, f"{death(proc.exitcode)} after {elapsed:.0f} s at {sampled / 2**30:.1f} GiB resident",
                          elapsed, sampled / 2**20) from None
    finally:
        _stop(proc)
    if not ok:
        raise StageFailed(stage, value, time.perf_counter() - started, max(peak_mb, sampled / 2**20))
    return StageRun(seconds, max(peak_mb, sampled / 2**20), value)


def death(exitcode: int | None) -> str:
    """How a child that never answered ended."""
    if exitcode == -signal.SIGKILL:
        return "EZKL's process was killed (SIGKILL), most likely by the kernel for lack of memory"
    if exitcode is not None and exitcode < 0:
        return f"EZKL's process died of signal {signal.Signals(-exitcode).name}"
    return f"EZKL's process exited with code {exitcode} without an answer"


def _check(stage: str, proc, elapsed: float, sampled: int, limits: StageLimits) -> None:
    if elapsed > limits.seconds:
        _stop(proc)
        raise StageFailed(stage, f"stopped by vcp at its time limit of {limits.seconds:.0f} s "
                                 f"({sampled / 2**30:.1f} GiB resident)", elapsed, sampled / 2**20)
    if limits.rss_bytes is not None and sampled > limits.rss_bytes:
        _stop(proc)
        raise StageFailed(stage, f"stopped by vcp after {elapsed:.0f} s at {sampled / 2**30:.1f} GiB resident, "
                                 f"over its memory ceiling of {limits.rss_bytes / 2**30:.1f} GiB", elapsed,
                          sampled / 2**20)
