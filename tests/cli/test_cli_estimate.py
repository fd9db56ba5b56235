"""``vcp estimate MODEL``: the text and JSON output agree with the library's dry run, and hostile
arguments (batch sizes, model files, fee parameters, schedules) get one line and exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vcp_toolkit.bench.estimate import estimate
from vcp_toolkit.cli.estimate import batch_sizes
from vcp_toolkit.errors import InvalidInput
from vcp_toolkit.model.builtin import demo_model

VCP = Path(sys.executable).parent / "vcp"
LEAKS = ("Traceback", "Errno", "internal error")


def vcp_estimate(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VCP_")}
    return subprocess.run([str(VCP), "estimate", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL)


def test_json_is_the_dry_run(tmp_path):
    proc = vcp_estimate(tmp_path, "digits", "--batch-sizes", "1024,16", "--hardfork", "prague", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    again = estimate(demo_model(), "prague", (16, 1024))
    assert out["schedule"] == "prague" and out["kind"] == "dense" and out["params"] == demo_model().param_count
    assert [c["code_bytes"] for c in out["contracts"]] == [c.code_bytes for c in again.contracts]
    # addresses, salts and nonces are random: their zero bytes move the gas by a few tens at most
    assert all(abs(c["deploy_gas"] - d.deploy_gas) <= 100 for c, d in zip(out["contracts"], again.contracts))
    assert sorted(out["batches"], key=int) == ["16", "1024"]
    assert abs(out["signed"]["gas"] - again.signed.gas) <= 100
    assert [p["operator"] for p in out["fraud_proofs"]] == ["dense", "output dense"]
    assert {f["mode"] for f in out["fees"]} == {"signed_single", "signed_batched", "optimistic_happy",
                                                "optimistic_dispute"}
    assert out["zk"] == {"missing": "not asked for (--zk)"} and out["notes"] == []


def test_text_names_every_section_and_the_osaka_note(tmp_path):
    proc = vcp_estimate(tmp_path, "lenet", "--batch-sizes", "8", "--fee-param", "eth_usd=2500")
    assert proc.returncode == 0, proc.stderr
    for words in ("OptimisticInference deploy", "of 24,576 bytes (EIP-170)", "batch of 8", "fraud proof, conv",
                  "fraud proof, maxpool", "fraud proof, flatten", "fraud proof, dense", "dry run on prague",
                  "signed single", "optimistic dispute", "arbitrum $"):
        assert words in proc.stdout, words
    assert proc.stderr == ""


@pytest.mark.parametrize("text", ["0", "-1", "1e3", "16,,256", "", " ", "\u0661\u0666", "99999999999999999999999",
                                  "2097152", "16;256", "0x10", "16\x00"])
def test_bad_batch_sizes_are_refused(text):
    with pytest.raises(InvalidInput, match="--batch-sizes"):
        batch_sizes(text)


def test_batch_sizes_are_sorted_and_distinct():
    assert batch_sizes(" 256, 16,256 ") == (16, 256)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("estimate")
    os.mkfifo(root / "fifo.onnx")
    (root / "adir.onnx").mkdir()
    (root / "empty.q.npz").write_bytes(b"")
    (root / "junk.onnx").write_bytes(os.urandom(300))
    (root / "dup.graph.npz").write_bytes(b"PK\x03\x04" + os.urandom(64))
    return root


@pytest.mark.parametrize("args", [
    ("missing.onnx",), ("fifo.onnx",), ("adir.onnx",), ("empty.q.npz",), ("junk.onnx",), ("dup.graph.npz",),
    ("/dev/zero",), ("digits", "--batch-sizes", "0"), ("digits", "--fee-param", "eth_usd=-1"),
    ("digits", "--fee-param", "nonsense=1"), ("digits", "--hardfork", "london"),
    ("lenet", "--calibration", "missing.npy"), ("digits", "--calibration", "x.npy"), ("\u202emodel.onnx",),
])
def test_hostile_arguments_get_one_line(hostile, args):
    proc = vcp_estimate(hostile, *args)
    assert proc.returncode == 2, (args, proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "error:" in lines[0], proc.stderr
    assert not [leak for leak in LEAKS if leak in proc.stderr], proc.stderr
    assert proc.stdout == ""
