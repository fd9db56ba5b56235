"""The test session never touches the user's state: `vcp` run the way the tests run it (no cwd, no
--journal, no --out) writes into the session's temporary directory, not the repository's .vcp/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, user_state


def vcp(*args: str, **env: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "vcp_toolkit.cli", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env}, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    return proc


def test_session_runs_outside_the_repository(isolated_cwd):
    assert Path.cwd() == isolated_cwd
    assert not Path.cwd().resolve().is_relative_to(REPO)


@pytest.mark.chain
def test_cli_defaults_leave_the_users_journal_alone(tmp_path):
    before = user_state()
    out = tmp_path / "att.json"
    vcp("prove", "--input", "digits:3", "--out", str(out), "--chain-id", "31337", "--registry", "0x" + "11" * 20,
        VCP_PRIVATE_KEY="0x" + "42" * 32)  # journaled in the default journal
    status = json.loads(vcp("status", "--json").stdout)
    assert any(Path(entry["path"]).resolve() == out.resolve() for entry in status["entries"])
    vcp("verify", str(out))
    vcp("demo", "--json", "--repeats", "1")  # default --out .vcp/demo
    assert user_state() == before, "a CLI run with default paths wrote into the repository's .vcp/"
    assert (Path.cwd() / ".vcp" / "journal.sqlite").is_file() and (Path.cwd() / ".vcp" / "demo").is_dir()
