"""The README's "Using it" block runs as written, one line after another, as a user would type it:
with the development install and with the packaged wheel in a fresh venv. Only the port changes
(a free one instead of 8545). Any non-zero exit, traceback or third-party warning fails."""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
NOISE = ("Traceback", "Warning:", "DeprecationWarning")


def usage_commands() -> list[list[str]]:
    """The commands of the "Using it" block as words (shell comments dropped)."""
    section = README.read_text().split("## Using it", 1)[1].split("\n## ", 1)[0]
    block = re.findall(r"```sh\n(.*?)```", section, flags=re.S)[0]
    return [words for words in (shlex.split(line, comments=True) for line in block.splitlines()) if words]


def test_the_block_covers_every_stage_a_user_meets():
    commands = {words[1] for words in usage_commands() if words[0] == "vcp"}
    assert commands >= {"node", "keygen", "deploy", "prove", "verify", "submit", "run", "status", "resume",
                        "request", "serve", "watch", "mine", "withdraw"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, node: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert node.poll() is None, f"the node exited: {node.stdout.read() if node.stdout else ''}"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    pytest.fail(f"nothing listens on port {port} after {timeout} s")


def run_usage_block(work: Path, env: dict[str, str]) -> list[tuple[str, subprocess.CompletedProcess]]:
    """Each line in ``work`` with ``env``; a line ending in ``&`` starts in the background (a node)."""
    port = str(_free_port())
    env = dict(env)
    done, background = [], []
    try:
        for words in ([re.sub(r"\b8545\b", port, w) for w in words] for words in usage_commands()):
            line = shlex.join(words)
            if words[0] == "export":
                name, _, value = words[1].partition("=")
                env[name] = value
            elif words[-1] == "&":
                background.append(subprocess.Popen(words[:-1], cwd=work, env=env, text=True,
                                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
                _wait_for_port(int(port), background[-1])
            else:
                proc = subprocess.run(words, cwd=work, env=env, capture_output=True, text=True, timeout=600,
                                      stdin=subprocess.DEVNULL)
                done.append((line, proc))
                assert proc.returncode == 0, f"`{line}` exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
                assert not [n for n in NOISE if n in proc.stdout + proc.stderr], f"`{line}`:\n{proc.stderr}"
    finally:
        for node in background:
            node.terminate()
            node.wait(timeout=30)
    return done


def _check_outcome(done: list[tuple[str, subprocess.CompletedProcess]]) -> None:
    said = {line.split()[1] + (" --rpc-url" if "--rpc-url" in line and line.startswith("vcp verify") else ""):
            proc.stdout for line, proc in done}
    assert said["verify --rpc-url"].startswith("valid:") and "recorded on-chain" in said["verify --rpc-url"]
    assert "this run: proved 8, landed 8" in said["run"]
    assert "job 1: finalized" in said["serve"] and "job 1: result verified" in said["watch"]
    assert said["withdraw"].startswith("withdrew ")


def _dev_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


@pytest.mark.chain
@pytest.mark.node
def test_the_usage_block_runs_with_the_development_install(tmp_path):
    _check_outcome(run_usage_block(tmp_path, _dev_env()))


@pytest.mark.slow
@pytest.mark.chain
@pytest.mark.node
def test_the_usage_block_runs_with_the_installed_wheel(installed, tmp_path):
    _, _, env = installed
    _check_outcome(run_usage_block(tmp_path, env))
