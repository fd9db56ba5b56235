"""Every script in examples/ runs as a user would run it, and says what it should."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from vcp_toolkit.chain.nodes import LocalNode

DEMOS = Path(__file__).resolve().parents[2] / "examples"


def run(script: str, *args: str) -> str:
    proc = subprocess.run([sys.executable, str(DEMOS / script), *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc.stdout


def test_attest_and_verify(tmp_path):
    out = run("attest_and_verify.py", str(tmp_path))
    assert "off-chain: valid=True" in out and "on-chain: recorded=True" in out
    assert (tmp_path / "attestation.json").exists() and (tmp_path / "attestation.trace.json").exists()


@pytest.mark.chain
@pytest.mark.node
@pytest.mark.parametrize("kind", ["anvil", "ganache"])
def test_deploy_to_running_node(kind, tmp_path):
    with LocalNode(kind) as node:
        chain_id = node.chain_id
        out = run("deploy_to_node.py", node.rpc_url, str(tmp_path / "deployments.json"))
    assert f"chain {chain_id}: AttestationRegistry at 0x" in out
    assert "attestation recorded: gas" in out
    assert (tmp_path / "deployments.json").exists() and (tmp_path / "attestation.json").exists()


@pytest.mark.chain
def test_measure_cost():
    out = run("measure_cost.py", "embedded")
    assert "on-chain submit:" in out and "off-chain verification" in out
    ratio = float(out.split("ratio ")[1].split("x")[0])
    assert 1.0 < ratio <= 1.25
