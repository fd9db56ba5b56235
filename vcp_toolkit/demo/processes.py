"""Separate `vcp` processes for the network demo: started, killed (SIGKILL, as a crash) and restarted
with the same arguments, each writing to its own log file."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from vcp_toolkit.chain.nodes import die_with_parent
from vcp_toolkit.errors import VcpError

URL = re.compile(r"http://\d+\.\d+\.\d+\.\d+:\d+")
STOP_TIMEOUT_S = 20.0


class ProcessFailed(VcpError):
    """A demo process exited or never printed what it was expected to."""


class VcpProcess:
    """``python -m vcp_toolkit.cli ARGV`` in ``cwd``; stdout and stderr appended to ``log`` (so a
    restart keeps the history). Started in its own process group, so a kill reaches its children,
    and told to stop when the process that started it dies, however it dies."""

    def __init__(self, name: str, argv: list[str], cwd: Path, env: dict[str, str], log: Path) -> None:
        self.name, self.argv, self.cwd, self.env, self.log = name, argv, cwd, env, log
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> "VcpProcess":
        with self.log.open("ab") as out:
            out.write(f"--- start {self.starts + 1} at {time.time():.3f}\n".encode())
            out.flush()
            self.process = subprocess.Popen([sys.executable, "-m", "vcp_toolkit.cli", *self.argv], cwd=self.cwd,
                                            env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True,
                                            preexec_fn=die_with_parent)
        self.starts += 1
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_for_url(self, timeout_s: float = 60.0) -> str:
        """The last URL this process printed since its latest start (a server says where it listens)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = URL.findall(self.text().rsplit("--- start", 1)[-1])
            if found:
                return found[-1]
            if not self.running:
                raise ProcessFailed(f"{self.name} exited before listening: {self.last_line()}")
            time.sleep(0.05)
        raise ProcessFailed(f"{self.name} printed no URL within {timeout_s:.0f} s")

    def last_line(self) -> str:
        lines = [line for line in self.text().splitlines() if line.strip()]
        return lines[-1] if lines else "no output"

    def kill(self) -> None:
        """SIGKILL the whole group: a crash, with no chance to clean up."""
        self._signal_group(signal.SIGKILL)
        if self.process is not None:
            self.process.wait()

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after STOP_TIMEOUT_S; the exit code."""
        self.terminate()
        return self.reap(time.monotonic() + STOP_TIMEOUT_S)

    def terminate(self) -> None:
        if self.running:
            self._signal_group(signal.SIGTERM)

    def reap(self, deadline: float) -> int | None:
        """Wait for the exit until ``deadline`` (monotonic), then SIGKILL; the exit code."""
        if self.process is None:
            return None
        try:
            self.process.wait(timeout=max(deadline - time.monotonic(), 0.01))
        except subprocess.TimeoutExpired:
            self.kill()
        return self.process.returncode

    def _signal_group(self, sig: int) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass


def stop_all(processes: list[VcpProcess]) -> None:
    """SIGTERM to all at once, one deadline for all, then SIGKILL; Ctrl-C meanwhile cannot cut it short."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        for proc in processes:
            proc.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for proc in processes:
            proc.reap(deadline)
    finally:
        signal.signal(signal.SIGINT, previous)
