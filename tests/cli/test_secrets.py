"""No secret reaches output, logs, the journal, state files or error messages: a whole flow is run
with a keystore and with an environment key, and every byte it prints or writes is searched."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vcp_toolkit.chain.nodes import LocalNode
from vcp_toolkit.attest.keys import SigningKey, load_keystore

pytestmark = [pytest.mark.chain, pytest.mark.node]
PASSWORD = "correct horse battery staple 42"


def _vcp(args, env, cwd):
    return subprocess.run([sys.executable, "-m", "vcp_toolkit.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **env}, cwd=cwd)


def test_no_secret_anywhere(tmp_path):
    env_key = "0x" + "6e" * 32
    outputs: list[str] = []
    keystore = tmp_path / "prover.json"
    with LocalNode("anvil") as node:
        dep = ["--rpc-url", node.rpc_url, "--deployments", tmp_path / "d.json"]
        ks = {"VCP_KEYSTORE_PASSWORD": PASSWORD}
        steps = [
            (["keygen", "--out", keystore, "--kdf", "pbkdf2"], ks),
        ]
        for args, env in steps:
            proc = _vcp(args, env, tmp_path)
            assert proc.returncode == 0, proc.stderr
            outputs += [proc.stdout, proc.stderr]
        key = load_keystore_with(keystore)
        flow = [
            (["deploy", *dep, "--prover", key.address, "--keystore", keystore], ks),
            (["prove", *dep, "--input", "digits:2", "--out", tmp_path / "att.json", "--keystore", keystore], ks),
            (["submit", tmp_path / "att.json", *dep, "--keystore", keystore], ks),
            (["status"], {}),
            (["resume", *dep, "--keystore", keystore], ks),
            (["verify", tmp_path / "att.json", *dep], {}),
            (["prove", *dep, "--input", "digits:3", "--out", tmp_path / "b.json"], {"VCP_PRIVATE_KEY": env_key}),
        ]
        for args, env in flow:
            proc = _vcp(args, env, tmp_path)
            outputs += [proc.stdout, proc.stderr]
        failing = [
            (["prove", *dep, "--input", "digits:2", "--out", tmp_path / "c.json", "--keystore", keystore],
             {"VCP_KEYSTORE_PASSWORD": PASSWORD + "x"}),
            (["submit", tmp_path / "att.json", *dep], {"VCP_PRIVATE_KEY": env_key[:-2]}),
            (["submit", tmp_path / "att.json", *dep, "--keystore", keystore], {"VCP_KEYSTORE_PASSWORD": PASSWORD,
                                                                               "VCP_DEBUG": "1"}),
        ]
        for args, env in failing:
            proc = _vcp(args, env, tmp_path)
            outputs += [proc.stdout, proc.stderr]
    secrets_ = [key.reveal().hex(), env_key[2:], PASSWORD]
    text = "\n".join(outputs).lower()
    for secret in secrets_:
        assert secret.lower() not in text
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p != keystore]
    assert any(p.suffix == ".sqlite" for p in files) and any(p.name == "d.json" for p in files)
    for path in files:
        raw = path.read_bytes()
        for secret in secrets_:
            assert secret.encode() not in raw.lower() and secret.encode() not in raw
        assert key.reveal() not in raw and bytes.fromhex(env_key[2:]) not in raw
    assert key.reveal().hex() not in keystore.read_text()  # the keystore holds it encrypted only


def load_keystore_with(path: Path) -> SigningKey:
    os.environ["VCP_KEYSTORE_PASSWORD"] = PASSWORD
    try:
        return load_keystore(path)
    finally:
        del os.environ["VCP_KEYSTORE_PASSWORD"]
