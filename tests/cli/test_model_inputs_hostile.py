"""``vcp prove`` handed model, calibration and input files that are not what they claim (issue 16,
item 4): exit 2 with one line on stderr naming the file and the fix; no traceback, no Python
error text, no hang on a FIFO, and nothing written."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vcp_toolkit.model.builtin import QUANTIZED_WEIGHTS

VCP = Path(sys.executable).parent / "vcp"
ROOT = Path(__file__).resolve().parents[2]
ONNX = ROOT / "tests" / "fixtures" / "onnx" / "sklearn_mlp.onnx"
OFFLINE = ("--chain-id", "1", "--registry", "0x" + "5a" * 20, "--out", "att.json")
LEAKS = ("Traceback", "Errno", "Error:", "internal error")  # Python's words, not vcp's


def vcp_prove(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VCP_")}
    env["VCP_PRIVATE_KEY"] = "0x" + "11" * 32  # a key, so a file that loads goes on to prove
    # the timeout turns a hang on a FIFO into a failure
    return subprocess.run([str(VCP), "prove", *args, *OFFLINE], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    os.mkfifo(root / "fifo")
    os.mkfifo(root / "fifo.npy")
    (root / "adir").mkdir()
    (root / "empty.json").write_bytes(b"")
    (root / "empty.q.npz").write_bytes(b"")
    (root / "empty.onnx").write_bytes(b"")
    (root / "cut.q.npz").write_bytes(QUANTIZED_WEIGHTS.read_bytes()[:3000])
    (root / "loop1").symlink_to("loop2")
    (root / "loop2").symlink_to("loop1")
    np.save(root / "object.npy", np.array([{"x": 1}] * 64, dtype=object), allow_pickle=True)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**14, 64)})
    (root / "huge.npy").write_bytes(header.getvalue() + b"\0" * 512)
    (root / "ragged.json").write_text("[[1, 2], [3]]")
    (root / "model.onnx").write_bytes(ONNX.read_bytes())
    return root


CASES = {  # name: (arguments, words the one line must hold)
    "model FIFO": (("--model", "fifo", "--input", "digits:0"), ("fifo", "named pipe (FIFO)", "pass ")),
    "calibration FIFO": (("--model", "model.onnx", "--calibration", "fifo", "--input", "digits:0"),
                         ("calibration file fifo", "named pipe (FIFO)", "numpy.save")),
    "input FIFO": (("--input", "fifo.npy"), ("fifo.npy", "named pipe (FIFO)", "digits:N")),
    "empty json model": (("--model", "empty.json", "--input", "digits:0"), ("empty.json", "is empty", "pass ")),
    "empty q.npz": (("--model", "empty.q.npz", "--input", "digits:0"), ("empty.q.npz", "is empty", "pass ")),
    "empty onnx": (("--model", "empty.onnx", "--input", "digits:0"), ("empty.onnx", "is empty", "pass ")),
    "truncated q.npz": (("--model", "cut.q.npz", "--input", "digits:0"), ("cut.q.npz", "truncated", "pass ")),
    "missing model": (("--model", "missing.q.npz", "--input", "digits:0"),
                      ("missing.q.npz", "No such file or directory", "check the path")),
    "model folder": (("--model", "adir", "--input", "digits:0"), ("adir", "a folder", "pass ")),
    "model symlink loop": (("--model", "loop1", "--input", "digits:0"), ("loop1", "symbolic links", "check the path")),
    "missing calibration": (("--model", "model.onnx", "--calibration", "missing.npy", "--input", "digits:0"),
                            ("missing.npy", "No such file", "check the path")),
    "calibration folder": (("--model", "model.onnx", "--calibration", "adir", "--input", "digits:0"),
                           ("calibration file adir", "a folder", "numpy.save")),
    "input in a folder": (("--input", "adir/x.npy"), ("adir/x.npy", "No such file", "check the path")),
    "input folder": (("--input", "adir"), ("adir", "a folder", "digits:N")),
    "input pickle": (("--input", "object.npy"), ("object.npy", "Python objects", "digits:N")),
    "input huge shape": (("--input", "huge.npy"), ("huge.npy", "truncated or damaged", "digits:N")),
    "input ragged json": (("--input", "ragged.json"), ("ragged.json", "not a JSON list of numbers", "digits:N")),
    "input odd name": (("--input", "\u202e\x1bx.npy"), ("\\u202e\\x1bx.npy", "No such file", "check the path")),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_one_line_naming_the_file_and_the_fix(files, name):
    args, words = CASES[name]
    proc = vcp_prove(files, *args)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    line = lines[0]
    assert line.startswith("vcp: error: "), line
    assert not any(leak in line or leak in proc.stdout for leak in LEAKS), line
    for word in words:
        assert word in line, (word, line)
    assert not (files / "att.json").exists()


def test_a_good_onnx_model_with_calibration_still_proves(files, tmp_path):
    np.save(files / "calibration.npy", np.random.default_rng(0).standard_normal((16, 64)))
    np.save(files / "input.npy", np.random.default_rng(1).standard_normal(64))
    proc = vcp_prove(files, "--model", "model.onnx", "--calibration", "calibration.npy", "--input", "input.npy")
    assert proc.returncode == 0, proc.stderr
    assert (files / "att.json").exists()
    (files / "att.json").unlink()
