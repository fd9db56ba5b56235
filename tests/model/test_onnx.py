"""ONNX import, calibrated quantization, agreement with onnxruntime, export, and hostile files.

The fixtures in tests/fixtures/onnx were written by real exporters (torch.onnx TorchScript and
dynamo, skl2onnx, Keras through tf2onnx) and by onnx.helper; make_fixtures.py and
make_keras_fixture.py regenerate them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vcp_toolkit.commit.commitments import ModelCommitment
from vcp_toolkit.model.datasets import load_digits_split
from vcp_toolkit.errors import InvalidInput, InvalidModel
from vcp_toolkit.model.onnx_import import SUPPORTED_OPS, import_onnx
from vcp_toolkit.model.onnx_io import agreement, export_onnx, load_calibration, load_onnx_model, quantize_imported

FIXTURES = Path(__file__).parents[1] / "fixtures" / "onnx"
EXPORTED = sorted(p for p in FIXTURES.glob("*.onnx") if not p.name.startswith("unsupported"))


@pytest.fixture(scope="module")
def split():
    return load_digits_split()


def test_fixtures_cover_both_torch_exporters_and_sklearn():
    names = {p.name for p in EXPORTED}
    assert {"torch_flatten_torchscript.onnx", "torch_flatten_dynamo.onnx", "torch_logsoftmax_torchscript.onnx",
            "torch_logsoftmax_dynamo.onnx", "sklearn_mlp.onnx", "handmade.onnx", "keras_tf2onnx.onnx"} <= names


@pytest.mark.parametrize("path", EXPORTED, ids=lambda p: p.stem)
def test_agreement_with_onnxruntime_on_held_out_digits(path, split):
    imported = import_onnx(path)
    qmodel = quantize_imported(imported, split.x_train, {"calibration": "digits train split"})
    result = agreement(path, imported, qmodel, split.x_test)
    assert result.samples == len(split.x_test)
    # float64 numpy against onnxruntime's float32 kernels, which differ by CPU: near-ties may flip
    assert result.float_vs_reference_top1 >= 0.99
    assert result.top1_agreement >= 0.99, result
    assert result.max_abs_diff is not None and result.max_abs_diff < 1.0


def test_heads_and_ops_recognised():
    assert import_onnx(FIXTURES / "torch_logsoftmax_dynamo.onnx").head == "logsoftmax"
    assert import_onnx(FIXTURES / "handmade.onnx").head == "softmax"
    sk = import_onnx(FIXTURES / "sklearn_mlp.onnx")
    assert sk.output_name == "probabilities" and sk.head == "softmax"  # the float output, not the label
    with pytest.raises(InvalidModel, match="no output named"):
        import_onnx(FIXTURES / "sklearn_mlp.onnx", output="nope")
    flat = import_onnx(FIXTURES / "torch_flatten_torchscript.onnx")
    assert flat.input_shape[1:] == (1, 8, 8) and flat.model.input_width == 64
    assert isinstance(flat.input_shape[0], str)  # dynamic batch dimension


def test_unsupported_op_is_named_with_its_node_and_the_supported_list():
    with pytest.raises(InvalidModel) as info:
        import_onnx(FIXTURES / "unsupported_sigmoid.onnx")
    text = str(info.value)
    assert "Sigmoid" in text and "node" in text and all(op in text for op in SUPPORTED_OPS)


def test_identity_goes_into_the_model_commitment(split, tmp_path):
    path = FIXTURES / "torch_flatten_dynamo.onnx"
    a = load_onnx_model(path)
    np.save(tmp_path / "calib.npy", split.x_train)
    b = load_onnx_model(path, tmp_path / "calib.npy")
    assert a.metadata["source_sha256"] == b.metadata["source_sha256"]
    assert b.metadata["calibration"] == "calib.npy" and "calibration_sha256" in b.metadata
    assert ModelCommitment(a).root != ModelCommitment(b).root  # another calibration is another model
    copy = tmp_path / "same_weights_other_file.onnx"
    copy.write_bytes(path.read_bytes() + b"")
    assert ModelCommitment(load_onnx_model(copy)).root != ModelCommitment(a).root  # file name is identity
    assert ModelCommitment(load_onnx_model(path)).root == ModelCommitment(a).root  # deterministic


def test_export_tracks_the_integer_model(split, tmp_path):
    path = FIXTURES / "torch_logsoftmax_torchscript.onnx"
    imported = import_onnx(path)
    qmodel = quantize_imported(imported, split.x_train, {"calibration": "train"})
    out = export_onnx(qmodel, tmp_path / "q.onnx")
    again = import_onnx(out)  # vcp reads its own export
    from vcp_toolkit.model.onnx_io import run_onnxruntime

    exported = run_onnxruntime(out, again, split.x_test)
    integer = qmodel.dequantize_output(qmodel.infer(qmodel.quantize_input(split.x_test)))
    assert np.mean(np.argmax(exported, axis=1) == np.argmax(integer, axis=1)) >= 0.99
    step = qmodel.output_scale
    assert np.max(np.abs(exported - integer)) < 8 * step  # within a few output steps


def test_calibration_files(tmp_path):
    np.save(tmp_path / "ok.npy", np.ones((3, 8, 8)))
    x, how = load_calibration(tmp_path / "ok.npy", 64)
    assert x.shape == (3, 64) and how["calibration_samples"] == 3
    np.savez(tmp_path / "two.npz", a=np.ones((2, 64)), b=np.ones((2, 64)))
    np.save(tmp_path / "nan.npy", np.full((2, 64), np.nan))
    np.save(tmp_path / "wide.npy", np.ones((2, 65)))
    (tmp_path / "x.txt").write_text("1,2")
    for name, match in (("two.npz", "several arrays"), ("nan.npy", "NaN"), ("wide.npy", "flatten"),
                        ("x.txt", ".npy or .npz"), ("missing.npy", "cannot read")):
        with pytest.raises(InvalidInput, match=match):
            load_calibration(tmp_path / name, 64)
    default, how = load_calibration(None, 64)
    assert default.shape == (512, 64) and "standard-normal" in how["calibration"]


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(cut=st.floats(0.0, 1.0), flips=st.lists(st.tuples(st.floats(0, 1), st.integers(1, 255)), max_size=6),
       which=st.sampled_from(EXPORTED + [FIXTURES / "unsupported_sigmoid.onnx"]))
def test_fuzzed_files_give_a_clear_error_or_a_valid_model(tmp_path_factory, cut, flips, which):
    raw = bytearray(which.read_bytes())
    raw = raw[: max(1, int(len(raw) * cut))] if cut < 1.0 else raw
    for position, xor in flips:
        raw[int(position * (len(raw) - 1))] ^= xor
    path = tmp_path_factory.mktemp("fuzz") / "m.onnx"
    path.write_bytes(bytes(raw))
    try:
        imported = import_onnx(path)
    except InvalidModel as exc:
        assert str(exc) and "\n" not in str(exc).strip()
        return
    # What imported is a valid graph (a flipped weight byte gives a different model). Its weights
    # may still be unquantizable (e.g. a flipped exponent makes a rescale of 1e35): a clear error.
    try:
        qmodel = quantize_imported(imported, np.random.default_rng(0).random((8, imported.model.input_width)), {})
    except InvalidModel as exc:
        assert str(exc) and "\n" not in str(exc).strip()
        return
    assert qmodel.infer(qmodel.quantize_input(np.zeros((1, imported.model.input_width)))).shape[0] == 1


def test_garbage_and_empty_files(tmp_path):
    for content in (b"", b"\x00" * 100, b"not onnx at all", bytes(range(256)) * 10):
        path = tmp_path / "g.onnx"
        path.write_bytes(content)
        with pytest.raises(InvalidModel):
            import_onnx(path)
    from vcp_toolkit.errors import FileUnreadable

    with pytest.raises(FileUnreadable, match="cannot read"):  # could not be read: not the same as a bad model
        import_onnx(tmp_path / "missing.onnx")


def _vcp(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vcp_toolkit.cli", *args], capture_output=True, text=True, timeout=300,
                          cwd=cwd)


def test_cli_inspect_json_and_errors(split, tmp_path):
    np.save(tmp_path / "calib.npy", split.x_train)
    np.save(tmp_path / "val.npy", split.x_test)
    proc = _vcp("inspect", str(FIXTURES / "sklearn_mlp.onnx"), "--calibration", str(tmp_path / "calib.npy"),
                "--validation", str(tmp_path / "val.npy"), "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["params"] == 2410 and report["agreement"]["top1"] >= 0.99 and len(report["layers"]) == 2
    assert report["quantization"]["calibration"] == "calib.npy" and report["model_root"].startswith("0x")
    proc = _vcp("inspect", str(FIXTURES / "unsupported_sigmoid.onnx"))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "Sigmoid" in proc.stderr
    proc = _vcp("export", "--model", str(FIXTURES / "handmade.onnx"), "--out", str(tmp_path / "e.onnx"))
    assert proc.returncode == 0 and (tmp_path / "e.onnx").exists()


def test_cli_prove_and_verify_an_onnx_model(split, tmp_path):
    np.save(tmp_path / "calib.npy", split.x_train)
    model = str(FIXTURES / "torch_flatten_dynamo.onnx")
    common = ["--model", model, "--calibration", str(tmp_path / "calib.npy")]
    proc_env = dict(__import__("os").environ, VCP_PRIVATE_KEY="0x" + "42" * 32)
    proc = subprocess.run([sys.executable, "-m", "vcp_toolkit.cli", "prove", *common, "--input", "digits:3", "--out",
                           str(tmp_path / "att.json"), "--chain-id", "1", "--registry", "0x" + "11" * 20],
                          capture_output=True, text=True, timeout=300, env=proc_env)
    assert proc.returncode == 0, proc.stderr
    assert _vcp("verify", str(tmp_path / "att.json"), *common).returncode == 0
    # The same attestation against the same network calibrated differently: another model root.
    other = _vcp("verify", str(tmp_path / "att.json"), "--model", model)
    assert other.returncode == 1 and "model root" in other.stderr
