"""`vcp verify` on a real zk attestation (EZKL), end to end on Anvil: the file is recognised by its
header, --rpc-url and --json are honoured, and an unreachable node is "could not check" (exit 3),
never "valid" (issue 10, points 7 and 11)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from vcp_toolkit.chain.nodes import LocalNode, free_port
from vcp_toolkit.model.synthetic import random_model

pytestmark = [pytest.mark.chain, pytest.mark.node]


def _vcp(*args, env=None):
    return subprocess.run([sys.executable, "-m", "vcp_toolkit.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=900, env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)


def _one_line(proc) -> str:
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    return proc.stderr.strip()


def test_verify_zk_file_against_the_chain(tmp_path):
    model = random_model([64, 16, 10], seed=90)  # the model tests/test_zk.py sets up: its circuit is cached
    model.save(tmp_path / "small.q.npz")
    common = ["--model", tmp_path / "small.q.npz"]
    key = {"VCP_PRIVATE_KEY": "0x" + "5b" * 32}
    with LocalNode("anvil") as node:
        dep = ["--rpc-url", node.rpc_url, "--deployments", tmp_path / "d.json"]
        assert _vcp("deploy", *dep, *common, "--zk", env=key).returncode == 0
        proc = _vcp("prove", "--backend", "zk", *dep, *common, "--input", "digits:6", "--out", tmp_path / "zk.json",
                    env=key)
        assert proc.returncode == 0, proc.stderr
        zk_file = tmp_path / "zk.json"
        proc = _vcp("verify", zk_file, *common)  # no --backend: the header says zk
        assert proc.returncode == 0 and proc.stdout.startswith("valid: the zk proof verifies"), proc.stderr
        proc = _vcp("verify", zk_file, *common, *dep)
        assert proc.returncode == 1 and "not recorded" in _one_line(proc)
        assert _vcp("submit", zk_file, *dep, env=key).returncode == 0
        proc = _vcp("verify", "--backend", "zk", zk_file, *common, *dep)
        assert proc.returncode == 0 and "recorded on-chain" in proc.stdout, proc.stderr
        proc = _vcp("verify", "--backend", "zk", zk_file, *common, *dep, "--json")
        report = json.loads(proc.stdout)
        assert proc.returncode == 0 and report["kind"] == "zk" and report["recorded_onchain"] is True
    dead = ["--rpc-url", f"http://127.0.0.1:{free_port()}", "--deployments", tmp_path / "d.json"]
    for extra in ((), ("--json",)):
        proc = _vcp("verify", "--backend", "zk", zk_file, *common, *dead, *extra)
        assert proc.returncode == 3 and _one_line(proc).startswith("vcp: could not check: ")
        assert "valid" not in proc.stdout
