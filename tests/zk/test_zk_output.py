"""EZKL prints from Rust straight to file descriptors 1 and 2 (a "Numerical Fidelity Report" table
on calibration): vcp hides that unless asked (`vcp -v`). Fast: a stand-in `ezkl` module that
writes to the descriptors the way the Rust side does is put first on the path of a child process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vcp_toolkit.model.synthetic import random_model

TABLE = "<---- Numerical Fidelity Report (stand-in) ---->"
FAKE_EZKL = f'''
import os


def _native(text):  # what Rust's println!/eprintln! do: write(2) on the descriptors, past sys.stdout
    os.write(1, (text + "\\n").encode())
    os.write(2, (text + "\\n").encode())


class PyRunArgs:
    pass


def gen_settings(onnx, settings, py_run_args=None):
    open(settings, "w").write('{{"run_args": {{"logrows": 6, "input_scale": 7}}}}')


def calibrate_settings(*args, **kwargs):
    _native("{TABLE}")


def compile_circuit(*args):
    raise RuntimeError("the stand-in stops here")


def gen_witness(*args):
    _native("{TABLE} witness")


def prove(*args):
    _native("{TABLE} proof")
'''


@pytest.fixture
def fake_ezkl(tmp_path) -> dict[str, str]:
    """The environment of a child process whose `import ezkl` is the stand-in, with its own cache."""
    (tmp_path / "fake").mkdir()
    (tmp_path / "fake" / "ezkl.py").write_text(FAKE_EZKL)
    env = {k: v for k, v in os.environ.items() if not k.startswith("VCP_")}
    return {**env, "PYTHONPATH": str(tmp_path / "fake"), "VCP_ZK_CACHE": str(tmp_path / "cache"),
            "VCP_PRIVATE_KEY": "0x" + "5a" * 32}


def _prove_zk(tmp_path: Path, env: dict[str, str], *flags: str) -> subprocess.CompletedProcess:
    model = random_model([4, 3, 2], seed=16)
    model.save(tmp_path / "tiny.q.npz")
    (tmp_path / "x.json").write_text(json.dumps([0.1, -0.2, 0.3, 0.5]))
    args = [*flags, "prove", "--backend", "zk", "--model", "tiny.q.npz", "--input", "x.json", "--chain-id", "1",
            "--registry", "0x" + "5a" * 20, "--out", "zk.json", "--journal", "j.sqlite"]
    return subprocess.run([sys.executable, "-m", "vcp_toolkit.cli", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_circuit_setup_prints_nothing_of_ezkl_without_v(tmp_path, fake_ezkl):
    proc = _prove_zk(tmp_path, fake_ezkl)
    assert TABLE not in proc.stdout + proc.stderr and proc.stdout == ""
    line = proc.stderr.strip()
    assert proc.returncode == 1 and "\n" not in line and "the stand-in stops here" in line and "vcp -v" in line


def test_v_lets_ezkl_through(tmp_path, fake_ezkl):
    proc = _prove_zk(tmp_path, fake_ezkl, "-v")
    assert proc.returncode == 1 and TABLE in proc.stdout and TABLE in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("vcp: error: EZKL pipeline failed: the stand-in")


def test_witness_and_proof_print_nothing_of_ezkl(tmp_path, fake_ezkl):
    code = ("from vcp_toolkit.zk.backend import witness_and_proof; import sys; "
            "print('before', flush=True); witness_and_proof('i', 'c', 'pk', 'p', 's', 'w'); print('after')")
    for extra, shown in (({}, False), ({"VCP_VERBOSE": "1"}, True)):
        proc = subprocess.run([sys.executable, "-c", code], env={**fake_ezkl, **extra}, capture_output=True,
                              text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("before\n") and proc.stdout.endswith("after\n")  # vcp's own lines stay
        assert (f"{TABLE} proof" in proc.stdout + proc.stderr) is shown
