"""`vcp demo --model lenet|rescnn|vit`: the signed (single and batched) and optimistic modes on a
built-in CNN or the ViT print their table (or JSON) and exit 0; what they do not support is
refused in one line."""

from __future__ import annotations

import json

import pytest

from vcp_toolkit.cli import main

pytestmark = pytest.mark.chain


def run(capsys, monkeypatch, tmp_path, *args) -> tuple[int, str, str]:
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_signed_cnn_demo(capsys, monkeypatch, tmp_path):
    code, out, err = run(capsys, monkeypatch, tmp_path, "demo", "--model", "lenet", "--repeats", "1", "--json")
    assert code == 0, err
    result = json.loads(out)
    model, signed = result["model"], result["signed"]
    assert model["name"] == "lenet5-mnist" and model["params"] == 61_706 and model["held_out"] == 1_000
    assert model["accuracy_quantized"] >= 0.965 and abs(model["accuracy_float"] - model["accuracy_quantized"]) <= 0.01
    assert signed["verified_offchain"] and signed["forged_rejected_offchain"] and signed["forged_rejected_onchain"]
    assert signed["forged_error_onchain"] == "RegistrySignerMismatch"
    assert (tmp_path / ".vcp" / "demo" / "embedded-lenet-attestation.json").exists()
    batched = signed["batched"]
    assert batched["count"] == 16 and batched["records_verified"] and batched["forged_record_rejected"]


def test_vit_demo_signed_and_batched(capsys, monkeypatch, tmp_path):
    code, out, err = run(capsys, monkeypatch, tmp_path, "demo", "--model", "vit", "--repeats", "1", "--json")
    assert code == 0, err
    result = json.loads(out)
    model, signed = result["model"], result["signed"]
    assert model["name"] == "vit-mnist" and model["params"] == 27_978 and model["nodes"] == 53
    assert model["accuracy_quantized"] >= 0.95 and model["accuracy_float"] - model["accuracy_quantized"] <= 0.015
    assert signed["verified_offchain"] and signed["forged_rejected_onchain"]
    assert signed["batched"]["records_verified"] and signed["batched"]["forged_record_rejected"]


def test_vit_demo_optimistic_catches_a_lie_in_every_operator(capsys, monkeypatch, tmp_path):
    code, out, err = run(capsys, monkeypatch, tmp_path, "demo", "--model", "vit", "--mode", "optimistic",
                         "--repeats", "1", "--json")
    assert code == 0, err
    o = json.loads(out)["optimistic"]
    names = {c["name"] for c in o["cheats"]}
    for role in ("attention score", "softmax", "attention weighted sum", "layernorm", "gelu", "token-wise dense",
                 "add"):
        assert f"wrong {role} element" in names
    assert all(c["caught"] and c["slashed"] and c["gas_fraud_proof"] <= 300_000 for c in o["cheats"])
    assert o["honest"]["verified_by_watcher"] and o["honest"]["finalized"] and o["balance_equals_owed"]


def test_optimistic_cnn_demo_table(capsys, monkeypatch, tmp_path):
    code, out, err = run(capsys, monkeypatch, tmp_path, "demo", "--model", "rescnn", "--mode", "optimistic",
                         "--repeats", "1")
    assert code == 0, err
    for kind in ("conv", "add", "gap", "flatten", "dense"):
        assert f"cheat: wrong {kind} element" in out
    assert out.count("caught=True slashed=True") == 5 and "honest job: verified by the watcher / finalized" in out


@pytest.mark.parametrize("args, message", [
    (("--mode", "zk"), "--mode zk --model lenet: the zk demo runs on the digits MLP"),
    (("--srs", "x.srs"), "--srs applies to --mode zk only"),
    (("--repeats", "0"), "--repeats must be at least 1"),
])
def test_what_cnn_demos_refuse(capsys, monkeypatch, tmp_path, args, message):
    code, out, err = run(capsys, monkeypatch, tmp_path, "demo", "--model", "lenet", *args)
    assert code == 2 and message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
