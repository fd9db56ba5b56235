"""CNN operator graphs on the command line: ``vcp quantize`` writes a graph file, ``vcp inspect`` reports
it with agreement and accuracy on ``--eval`` inputs, ``--model lenet`` resolves, and every hostile
input is one line on stderr, exit 2, no traceback."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from vcp_toolkit.model.builtin.graphs import builtin_graph
from vcp_toolkit.model.datasets import load_mnist_split
from vcp_toolkit.model.graph import load_graph, quantize_graph, read_onnx_graph
from vcp_toolkit.model.graph.files import graph_bytes

ROOT = Path(__file__).resolve().parents[2]
POOLNET = ROOT / "tests" / "fixtures" / "onnx" / "cnn" / "poolnet_torchscript.onnx"
MLP = ROOT / "tests" / "fixtures" / "onnx" / "sklearn_mlp.onnx"
SIGMOID = ROOT / "tests" / "fixtures" / "onnx" / "unsupported_sigmoid.onnx"
LEAKS = ("Traceback", "Errno", "internal error")


@pytest.fixture
def vcp(capsys, monkeypatch, tmp_path):
    """``vcp_toolkit.cli.main`` in this process, cwd a temp folder: (exit code, stdout, stderr)."""
    from vcp_toolkit.cli import main

    for name in list(os.environ):
        if name.startswith("VCP_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)

    def run(*args):
        old = signal.getsignal(signal.SIGTERM)
        capsys.readouterr()
        try:
            code = main([str(a) for a in args])
        finally:
            signal.signal(signal.SIGTERM, old)
        out = capsys.readouterr()
        return code, out.out, out.err
    return run


@pytest.fixture(scope="module")
def split():
    return load_mnist_split()


def small_cnn(path: Path) -> Path:
    """A 1x8x8 conv net (not MNIST-shaped: it has no default calibration)."""
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.standard_normal(s).astype(np.float32), n)
             for n, s in (("w", (2, 1, 3, 3)), ("b", (2,)), ("fw", (4, 128)), ("fb", (4,)))]
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"], name="relu"),
             helper.make_node("Flatten", ["r"], ["f"], name="flat"),
             helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], name="fc", transB=1)]
    graph = helper.make_graph(nodes, "small", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def test_quantize_writes_the_graph_the_library_makes(vcp, tmp_path, split):
    code, out, err = vcp("quantize", POOLNET, "--out", "p.graph.npz")
    assert code == 0 and err == "" and "wrote p.graph.npz: poolnet_torchscript, 9 nodes" in out, (out, err)
    written = load_graph(tmp_path / "p.graph.npz")
    expected = quantize_graph(read_onnx_graph(POOLNET), split.x_train[:500])
    x = written.quantize_input(split.x_test[:200])
    assert np.array_equal(written.run(x).output, expected.run(x).output)
    assert written.metadata["source"] == POOLNET.name and written.name == "poolnet_torchscript"


def test_quantize_a_builtin_name_writes_the_committed_graph(vcp, tmp_path):
    code, out, err = vcp("quantize", "lenet", "--out", "l.npz", "--json")
    assert code == 0 and json.loads(out)["params"] == builtin_graph("lenet").param_count, err
    assert (tmp_path / "l.npz").read_bytes() == graph_bytes(builtin_graph("lenet"))


def test_inspect_reports_held_out_agreement_and_accuracy(vcp, tmp_path, split):
    np.savez(tmp_path / "held.npz", x=split.x_test, y=split.y_test)
    code, out, err = vcp("inspect", "lenet", "--eval", "held.npz", "--json")
    assert code == 0 and err == "", err
    result = json.loads(out)
    agree = result["agreement"]
    assert (agree["inputs"], agree["samples"]) == ("eval", 1000)
    assert agree["accuracy"]["fixed_point"] == 0.981  # the committed graph: integers, the same everywhere
    assert agree["top1"] >= 0.99 and agree["float_import_vs_onnxruntime_top1"] >= 0.998
    assert result["ops"] == {"conv": 2, "maxpool": 2, "flatten": 1, "dense": 3}
    assert [n["shape"] for n in result["nodes"]][:2] == [[6, 28, 28], [6, 14, 14]]
    code, out, err = vcp("inspect", "lenet", "--eval", "held.npz")
    assert code == 0 and "top-1 agreement with onnxruntime" in out and "on 1000 eval inputs" in out


def test_inspect_an_onnx_cnn_and_a_graph_file(vcp, tmp_path, split):
    np.save(tmp_path / "imgs.npy", split.x_test[:50].reshape(50, -1))  # flattened images are reshaped
    code, out, err = vcp("inspect", POOLNET, "--eval", "imgs.npy", "--json")
    agree = json.loads(out)["agreement"]
    assert code == 0 and agree["samples"] == 50 and agree["top1"] >= 0.9 and agree["accuracy"] is None, err
    vcp("quantize", POOLNET, "--out", "p.npz")
    np.savez(tmp_path / "held.npz", x=split.x_test[:100], y=split.y_test[:100])
    code, out, err = vcp("inspect", "p.npz", "--eval", "held.npz", "--json")
    agree = json.loads(out)["agreement"]
    assert code == 0 and agree["top1"] is None and 0 <= agree["accuracy"]["fixed_point"] <= 1, err


def test_dense_models_resolve_as_before(vcp, tmp_path):
    code, out, err = vcp("inspect", MLP, "--json")
    assert code == 0 and json.loads(out)["widths"] == [64, 32, 10], err
    code, out, err = vcp("export", "--model", MLP, "--out", "m.onnx")
    assert code == 0 and (tmp_path / "m.onnx").is_file(), err


def test_prove_and_verify_a_cnn_from_the_command_line(vcp, tmp_path, split, monkeypatch):
    """`vcp prove --model lenet --input mnist:N` then `vcp verify`: the CNN's own checks; an image
    file gives the same attestation body as the sample; tampering and another model are caught."""
    monkeypatch.setenv("VCP_PRIVATE_KEY", "0x" + "5a" * 32)
    domain = ("--chain-id", "31337", "--registry", "0x" + "34" * 20)
    code, out, err = vcp("prove", "--model", "lenet", "--input", "mnist:7", *domain, "--out", "a.json")
    assert code == 0 and "wrote" in out, err
    code, out, err = vcp("verify", "a.json", "--model", "lenet", "--json")
    report = json.loads(out)
    assert code == 0 and report["valid"] and report["label"] == int(split.y_test[7]), err
    assert {"model root", "re-execution", "trace root", "signature"} <= set(report["checks_passed"])
    code, out, err = vcp("verify", "a.json", "--model", "rescnn")
    assert code == 1 and "model root" in err
    code, out, err = vcp("verify", "a.json")  # the default dense model
    assert code == 1 and "model root" in err
    np.save(tmp_path / "seven.npy", split.x_test[7])  # (1, 28, 28) floats, quantized like mnist:7
    code, out, err = vcp("prove", "--model", "lenet", "--input", "seven.npy", *domain, "--out", "b.json")
    assert code == 0, err
    first, second = (json.loads((tmp_path / n).read_text())["attestation"] for n in ("a.json", "b.json"))
    assert first["modelRoot"] == second["modelRoot"] and first["traceRoot"] != ""
    bundle = json.loads((tmp_path / "a.trace.json").read_text())
    bundle["trace"][1][0] = (bundle["trace"][1][0] + 1) % 128  # one conv output element moved
    (tmp_path / "a.trace.json").write_text(json.dumps(bundle))
    code, out, err = vcp("verify", "a.json", "--model", "lenet")
    assert code == 1 and "invalid" in err


@pytest.fixture
def hostile(tmp_path, split) -> Path:
    os.mkfifo(tmp_path / "fifo.npz")
    (tmp_path / "adir").mkdir()
    (tmp_path / "empty.npz").write_bytes(b"")
    np.savez(tmp_path / "held.npz", x=split.x_test[:20], y=split.y_test[:20])
    (tmp_path / "cut.npz").write_bytes((tmp_path / "held.npz").read_bytes()[:4000])
    np.save(tmp_path / "pickle.npy", np.array([{"a": 1}] * 8, dtype=object), allow_pickle=True)
    nan = split.x_test[:4].copy()
    nan[0, 0, 0, 0] = np.nan
    np.save(tmp_path / "nan.npy", nan)
    np.save(tmp_path / "odd.npy", np.zeros((3, 100)))
    np.save(tmp_path / "zeros.npy", np.zeros((4, 1, 28, 28)))
    np.savez(tmp_path / "short_y.npz", x=split.x_test[:20], y=split.y_test[:19])
    np.savez(tmp_path / "float_y.npz", x=split.x_test[:20], y=split.y_test[:20].astype(np.float64))
    np.savez(tmp_path / "big_y.npz", x=split.x_test[:20], y=split.y_test[:20] + 10)
    np.savez(tmp_path / "other.npz", images=split.x_test[:20])
    (tmp_path / "bad.graph.npz").write_bytes(graph_bytes(builtin_graph("lenet"))[:-300])
    (tmp_path / "tricky.onnx").write_bytes(b"\x08\x07" * 50)
    small_cnn(tmp_path / "small.onnx")
    return tmp_path


CASES = {  # name: (arguments, words the one line holds)
    "eval FIFO": (("inspect", "lenet", "--eval", "fifo.npz"), ("fifo.npz", "named pipe (FIFO)", "numpy.save")),
    "eval folder": (("inspect", "lenet", "--eval", "adir"), ("adir", "a folder")),
    "eval missing": (("inspect", "lenet", "--eval", "nope.npz"), ("nope.npz", "No such file", "check the path")),
    "eval empty": (("inspect", "lenet", "--eval", "empty.npz"), ("empty.npz", "is empty")),
    "eval /dev/zero": (("inspect", "lenet", "--eval", "/dev/zero"), ("/dev/zero", "a device")),
    "eval truncated": (("inspect", "lenet", "--eval", "cut.npz"), ("cut.npz", "truncated or damaged")),
    "eval pickle": (("inspect", "lenet", "--eval", "pickle.npy"), ("pickle.npy", "Python objects")),
    "eval NaN": (("inspect", "lenet", "--eval", "nan.npy"), ("nan.npy", "NaN")),
    "eval wrong size": (("inspect", "lenet", "--eval", "odd.npy"), ("odd.npy", "do not split into inputs of 1x28x28")),
    "labels short": (("inspect", "lenet", "--eval", "short_y.npz"), ("short_y.npz", "must be 20 integers")),
    "labels float": (("inspect", "lenet", "--eval", "float_y.npz"), ("float_y.npz", "float64")),
    "labels out of range": (("inspect", "lenet", "--eval", "big_y.npz"), ("big_y.npz", "class indices in 0..9")),
    "eval other arrays": (("inspect", "lenet", "--eval", "other.npz"), ("other.npz", "must hold array 'x'")),
    "builtin with calibration": (("inspect", "rescnn", "--calibration", "held.npz"), ("already quantized",)),
    "graph with validation": (("inspect", "lenet", "--validation", "held.npz"), ("--eval",)),
    "damaged graph file": (("inspect", "bad.graph.npz"), ("bad.graph.npz",)),
    "prove a CNN on digits": (("prove", "--model", "lenet", "--input", "digits:0", "--chain-id", "1", "--registry",
                               "0x" + "5a" * 20, "--out", "a.json"), ("this CNN takes 1x28x28 images", "mnist:N")),
    "prove a CNN past the split": (("prove", "--model", "lenet", "--input", "mnist:1000", "--chain-id", "1",
                                    "--registry", "0x" + "5a" * 20, "--out", "a.json"), ("N must be in 0..999",)),
    "prove a CNN, mnist:x": (("prove", "--model", "lenet", "--input", "mnist:x", "--chain-id", "1", "--registry",
                              "0x" + "5a" * 20, "--out", "a.json"), ("mnist:N with N an integer",)),
    "prove a CNN, wrong size": (("prove", "--model", "lenet", "--input", "odd.npy", "--chain-id", "1", "--registry",
                                 "0x" + "5a" * 20, "--out", "a.json"), ("odd.npy", "expected 784 values")),
    "prove a CNN, NaN image": (("prove", "--model", "lenet", "--input", "nan.npy", "--chain-id", "1", "--registry",
                                "0x" + "5a" * 20, "--out", "a.json"), ("nan.npy",)),
    "prove dense on mnist": (("prove", "--input", "mnist:0", "--chain-id", "1", "--registry", "0x" + "5a" * 20,
                              "--out", "a.json"), ("mnist:N is for the 28x28 CNNs",)),
    "export a CNN file": (("export", "--model", "rescnn", "--out", "x.onnx"), ("`vcp export` runs dense models",)),
    "quantize not onnx": (("quantize", "held.npz", "--out", "g.npz"), ("takes an .onnx CNN",)),
    "quantize FIFO onnx": (("quantize", "fifo.npz", "--out", "g.npz"), ("takes an .onnx CNN",)),
    "quantize unsupported op": (("quantize", SIGMOID, "--out", "g.npz"), ("Sigmoid node", "unsupported op")),
    "quantize garbage onnx": (("quantize", "tricky.onnx", "--out", "g.npz"), ("tricky.onnx", "not an ONNX model")),
    "quantize needs calibration": (("quantize", "small.onnx", "--out", "g.npz"), ("1x8x8", "--calibration")),
    "calibration wrong shape": (("quantize", POOLNET, "--calibration", "odd.npy", "--out", "g.npz"),
                                ("odd.npy", "rows of 784")),
    "calibration all zero": (("quantize", POOLNET, "--calibration", "zeros.npy", "--out", "g.npz"), ("all zero",)),
    "unknown builtin-like name": (("quantize", "alexnet", "--out", "g.npz"), ("takes an .onnx CNN",)),
    "out is a FIFO": (("quantize", "lenet", "--out", "fifo.npz"), ("fifo.npz", "not a regular file")),
    "out is a folder": (("quantize", "lenet", "--out", "adir"), ("adir", "not a regular file")),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_inputs_give_one_line(vcp, hostile, name):
    args, words = CASES[name]
    code, out, err = vcp(*args)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("vcp: error: "), (code, err)
    assert not any(leak in err or leak in out for leak in LEAKS), err
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert not (hostile / "g.npz").exists() and not (hostile / "a.json").exists()
    assert (hostile / "fifo.npz").is_fifo() and (hostile / "adir").is_dir()


def test_the_script_itself_prints_one_line(hostile):
    import subprocess

    proc = subprocess.run([str(Path(sys.executable).parent / "vcp"), "inspect", "lenet", "--eval", "fifo.npz"],
                          cwd=hostile, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "named pipe (FIFO)" in proc.stderr and "Traceback" not in proc.stderr
