"""The tiny vision transformer on the command line (issue 13): ``vcp inspect`` recognises a transformer
ONNX file by its ops (both exporters, and the built-in name ``vit``) and reports node kinds, parameters,
float and fixed-point accuracy and top-1 agreement with onnxruntime on ``--eval N`` held-out MNIST
images; ``vcp quantize`` writes its graph file; an op the importer does not read, and every command
that cannot run a transformer yet, is one line on stderr, exit 2, no traceback."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import pytest

from vcp_toolkit.model.datasets import load_mnist_split
from vcp_toolkit.model.graph import load_graph
from vcp_toolkit.model.graph.vit_import import builtin_vit_path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "models.md"
DYNAMO = ROOT / "tests" / "fixtures" / "onnx" / "vit" / "vit_dynamo.onnx"
POOLNET = ROOT / "tests" / "fixtures" / "onnx" / "cnn" / "poolnet_torchscript.onnx"
MLP = ROOT / "tests" / "fixtures" / "onnx" / "sklearn_mlp.onnx"
FLOAT_PARAMS = 27_978  # docs/models.md, "Tiny ViT"
CPU_SLACK = 0.003  # as tests/model/test_vit_integer.py: a scale that moved on another CPU
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


def refused(result, *words: str) -> str:
    code, out, err = result
    assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith("vcp: error: "), (code, out, err)
    assert not any(leak in err for leak in LEAKS), err
    for word in words:
        assert word in err, (word, err)
    return err


def documented() -> tuple[float, float, float]:
    """(fixed-point top-1, float top-1, agreement) of docs/models.md's row for the integer vit.onnx."""
    row = next(line for line in DOC.read_text().splitlines() if line.startswith("| integer, from `vit.onnx` |"))
    cells = [float(re.fullmatch(r"\s*(\d+\.\d+)%\s*", c).group(1)) / 100 for c in row.strip("|").split("|")[1:]]
    return cells[0], cells[1], cells[2]


def test_inspect_vit_reports_kinds_params_and_accuracy(vcp, vit_integer, split):
    code, out, err = vcp("inspect", "vit", "--eval", 1000, "--json")
    assert code == 0 and err == "", err
    report = json.loads(out)
    assert report["transformer"] and report["params"] == FLOAT_PARAMS
    assert report["ops"] == dict(Counter(n.op.kind for n in vit_integer.graph.nodes))
    assert sum(report["ops"].values()) == len(report["nodes"]) == 53
    agree = report["agreement"]
    assert (agree["inputs"], agree["samples"]) == ("held-out MNIST", 1000)
    fixed = float(np.mean(vit_integer.predict(split.x_test) == split.y_test))
    assert agree["accuracy"]["fixed_point"] == fixed  # the CLI runs the same integer model
    doc_fixed, doc_float, doc_agree = documented()
    assert agree["accuracy"]["fixed_point"] >= doc_fixed - CPU_SLACK
    assert abs(agree["accuracy"]["onnxruntime"] - doc_float) <= CPU_SLACK
    assert agree["top1"] >= doc_agree - CPU_SLACK and agree["float_import_vs_onnxruntime_top1"] >= 0.999
    said = re.search(r"fixed point (\d+\.\d+)%, onnxruntime float (\d+\.\d+)%, top-1 agreement (\d+\.\d+)%",
                     " ".join(DOC.read_text().split()))
    assert said and tuple(float(g) / 100 for g in said.groups()) == documented()  # "On the command line"


def test_calibration_images_of_ones_own(vcp, split, tmp_path):
    np.savez(tmp_path / "calib.npz", x=split.x_train[:64])
    code, out, err = vcp("inspect", DYNAMO, "--calibration", tmp_path / "calib.npz", "--eval", 50, "--json")
    report = json.loads(out)
    assert code == 0 and "64 samples" in report["quantization"]["calibration"], err
    assert report["agreement"]["accuracy"]["fixed_point"] >= 0.9


def test_both_exports_are_inspected_alike(vcp):
    reports = []
    for model in (builtin_vit_path(), DYNAMO):
        code, out, err = vcp("inspect", model, "--eval", 200, "--json")
        assert code == 0 and err == "", err
        reports.append(json.loads(out))
    a, b = reports
    assert a["ops"] == b["ops"] and a["params"] == b["params"] == FLOAT_PARAMS
    assert a["agreement"] == b["agreement"]  # one integer model, one float model: same figures


def test_the_table_names_every_figure(vcp):
    code, out, err = vcp("inspect", builtin_vit_path(), "--eval", 100)
    assert code == 0 and err == "", err
    assert re.search(r"nodes / params +53 \(1 conv, .*13 token_dense.*\) / 27,978", out), out
    assert re.search(r"top-1 agreement with onnxruntime +\d+\.\d\d% on 100 held-out MNIST inputs", out), out
    assert re.search(r"accuracy on 100 held-out MNIST inputs +fixed point \d+\.\d\d%, onnxruntime float \d+\.\d\d%",
                     out), out
    assert "softmax softmax0" in out and "perm (0, 2, 1)" in out


def test_an_eval_file_gives_what_the_count_gives(vcp, split, tmp_path):
    np.savez(tmp_path / "held.npz", x=split.x_test[:40], y=split.y_test[:40])
    by_file = json.loads(vcp("inspect", "vit", "--eval", tmp_path / "held.npz", "--json")[1])["agreement"]
    by_count = json.loads(vcp("inspect", "vit", "--eval", 40, "--json")[1])["agreement"]
    assert by_file["accuracy"] == by_count["accuracy"] and by_file["top1"] == by_count["top1"]


def test_the_ops_decide_the_importer_not_the_name(vcp, tmp_path):
    shutil.copy(builtin_vit_path(), tmp_path / "lenet5.onnx")
    shutil.copy(POOLNET, tmp_path / "vit.onnx")
    code, out, err = vcp("inspect", tmp_path / "lenet5.onnx", "--json")
    assert code == 0 and json.loads(out)["transformer"] and json.loads(out)["params"] == FLOAT_PARAMS, err
    code, out, err = vcp("inspect", tmp_path / "vit.onnx", "--json")
    assert code == 0 and not json.loads(out)["transformer"] and "reshape" not in json.loads(out)["ops"], err


def with_op(source: Path, old: str, new: str, path: Path) -> tuple[Path, str]:
    """``source`` with its first ``old`` node turned into ``new`` (no attributes): (file, node name)."""
    model = onnx.load(source)
    node = next(n for n in model.graph.node if n.op_type == old)
    node.op_type = new
    del node.attribute[:]
    onnx.save(model, path)
    return path, node.name


@pytest.mark.parametrize("source, old, new", [(builtin_vit_path(), "Softmax", "Sigmoid"), (DYNAMO, "Gelu", "Relu")],
                         ids=["torchscript", "dynamo"])
def test_an_op_the_importer_does_not_read_is_one_line(vcp, tmp_path, source, old, new):
    path, node = with_op(source, old, new, tmp_path / "odd.onnx")
    for command in (("inspect", path, "--eval", 10), ("quantize", path, "--out", tmp_path / "odd.graph.npz")):
        refused(vcp(*command), f"{new} node {node!r}", f"op {new} is not supported", "odd.onnx", "Tiny ViT")
    assert not (tmp_path / "odd.graph.npz").exists()


def test_quantize_writes_a_graph_file_that_inspect_reads(vcp, vit_integer, split, tmp_path):
    code, out, err = vcp("quantize", "vit", "--out", "v.graph.npz", "--json")
    assert code == 0 and err == "", err
    summary = json.loads(out)
    assert (summary["nodes"], summary["params"], summary["name"]) == (53, FLOAT_PARAMS, "vit")
    graph = load_graph(tmp_path / "v.graph.npz")
    x = vit_integer.quantize_input(split.x_test[:100])
    assert np.array_equal(graph.run(x).output, vit_integer.run(x)[0])
    code, out, err = vcp("inspect", "v.graph.npz", "--eval", 100, "--json")
    agree = json.loads(out)["agreement"]
    assert code == 0 and agree["top1"] is None and agree["accuracy"]["onnxruntime"] is None, err
    fixed = vit_integer.predict(split.x_test[:100])
    assert agree["accuracy"]["fixed_point"] == float(np.mean(fixed == split.y_test[:100]))


def test_commands_that_cannot_run_a_transformer_say_so(vcp, vit_integer, tmp_path):
    from vcp_toolkit.model.graph.files import save_graph

    save_graph(vit_integer.graph, tmp_path / "v.graph.npz")
    for command in (("estimate", DYNAMO), ("estimate", "v.graph.npz"), ("estimate", "vit"),
                    ("export", "--model", "vit", "--out", "x.onnx")):
        refused(vcp(*command), "is a vision transformer", "`vcp prove` and `vcp verify`")


def test_prove_and_verify_the_vit_from_the_command_line(vcp, tmp_path, split, monkeypatch):
    """`vcp prove --model vit` signs an attestation of the committed ViT graph; `vcp verify`
    re-executes it; a moved trace element and another model are caught."""
    from vcp_toolkit.model.builtin.graphs import builtin_graph
    from vcp_toolkit.model.graph.files import save_graph

    monkeypatch.setenv("VCP_PRIVATE_KEY", "0x" + "5b" * 32)
    domain = ("--chain-id", "31337", "--registry", "0x" + "35" * 20)
    code, out, err = vcp("prove", "--model", "vit", "--input", "mnist:4", *domain, "--out", "a.json")
    assert code == 0 and "wrote" in out, err
    code, out, err = vcp("verify", "a.json", "--model", "vit", "--json")
    report = json.loads(out)
    assert code == 0 and report["valid"] and report["label"] == int(split.y_test[4]), err
    save_graph(builtin_graph("vit"), tmp_path / "same.graph.npz")  # the same model from a graph file
    code, out, err = vcp("verify", "a.json", "--model", "same.graph.npz")
    assert code == 0, err
    code, out, err = vcp("verify", "a.json", "--model", "lenet")
    assert code == 1 and "model root" in err
    bundle = json.loads((tmp_path / "a.trace.json").read_text())
    bundle["trace"][18][3] = (bundle["trace"][18][3] + 1) % 128  # one softmax output element moved
    (tmp_path / "a.trace.json").write_text(json.dumps(bundle))
    code, out, err = vcp("verify", "a.json", "--model", "vit")
    assert code == 1 and "invalid" in err


@pytest.mark.parametrize("args, words", [
    (("vit", "--eval", 0), ("--eval 0: pick 1 to 1,000",)),
    (("vit", "--eval", 1001), ("--eval 1001: pick 1 to 1,000",)),
    (("vit", "--eval", "missing.npz"), ("missing.npz",)),
    ((MLP, "--eval", 10), ("--eval 10", "dense model", ".npy or .npz")),
    (("vit", "--validation", "x.npy"), ("--validation", "--eval")),
], ids=["zero", "too many", "missing file", "dense model", "validation"])
def test_bad_eval_arguments_are_one_line(vcp, args, words):
    refused(vcp("inspect", *args), *words)
