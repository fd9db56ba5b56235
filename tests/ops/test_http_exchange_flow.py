"""The optimistic flow from the CLI with no shared disk: Anvil and two `vcp exchange serve`
processes on their own loopback addresses, a requester, a prover publishing to both stores, a
watcher reading only the second. A lie is proven from what the watcher fetched; then the first
store is stopped and the next job still goes through the second."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from contextlib import ExitStack
from pathlib import Path

import pytest

pytestmark = [pytest.mark.node, pytest.mark.chain]
PASSWORD = "store-flow-password"


def env() -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k != "VCP_PRIVATE_KEY"}
    return {**base, "VCP_KEYSTORE_PASSWORD": PASSWORD}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def background(stack: ExitStack, cwd: Path, *argv: str) -> tuple[subprocess.Popen, str]:
    """Start `vcp ARGV`: the process and the first URL it prints; SIGTERM when the stack closes."""
    proc = subprocess.Popen([sys.executable, "-m", "vcp_toolkit.cli", *argv], cwd=cwd, env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    stack.callback(stop, proc)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    while True:
        try:
            found = re.search(r"http://127\.0\.0\.\d+:\d+", lines.get(timeout=120))
        except queue.Empty:
            pytest.fail(f"vcp {' '.join(argv)} printed no URL")
        if found:
            return proc, found.group(0)


def stop(proc: subprocess.Popen) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def vcp(cwd: Path, *argv: str) -> str:
    done = subprocess.run([sys.executable, "-m", "vcp_toolkit.cli", *argv], cwd=cwd, env=env(), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, f"vcp {' '.join(argv)}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_prover_and_watcher_share_only_an_http_store(tmp_path):
    with ExitStack() as stack:
        _, rpc = background(stack, tmp_path, "node", "anvil", "--port", str(free_port()))
        server_a, store_a = background(stack, tmp_path, "exchange", "serve", "--dir", "a", "--host", "127.0.0.2")
        _, store_b = background(stack, tmp_path, "exchange", "serve", "--dir", "b", "--host", "127.0.0.3")
        assert store_a.startswith("http://127.0.0.2:") and store_b.startswith("http://127.0.0.3:")
        for who in ("operator", "requester", "prover", "watcher"):
            vcp(tmp_path, "keygen", "--out", f"{who}.json", "--kdf", "pbkdf2")
        node = ["--rpc-url", rpc]
        prover = ["serve", *node, "--keystore", "prover.json", "--state", "p.json", "--once",
                  "--exchange", store_a, "--exchange", store_b]
        watcher = ["watch", *node, "--keystore", "watcher.json", "--state", "w.json", "--once", "--exchange", store_b]
        vcp(tmp_path, "deploy", *node, "--keystore", "operator.json", "--challenge-window", "5")
        opened = vcp(tmp_path, "request", *node, "--keystore", "requester.json", "--exchange", store_a,
                     "--input", "digits:0")
        assert f"input published in {store_a}" in opened
        served = vcp(tmp_path, *prover, "--cheat", "wrong_output")
        assert "job 1: answered" in served and "[CHEAT: wrong_output]" in served
        watched = vcp(tmp_path, *watcher)
        assert re.search(r"job 1: .*fraud proven, prover slashed", watched) and "reveal requested" not in watched

        # Store A stops; the next job is published, answered and checked through B alone.
        assert stop(server_a) == 0
        opened = vcp(tmp_path, "request", *node, "--keystore", "requester.json", "--exchange", store_a,
                     "--exchange", store_b, "--input", "digits:1")
        assert "job 2 opened" in opened
        served = vcp(tmp_path, *prover)
        assert "job 2: answered" in served and "CHEAT" not in served
        watched = vcp(tmp_path, *watcher)
        assert "job 2: result verified" in watched and "reveal requested" not in watched
