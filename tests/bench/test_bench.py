"""The benchmark's arithmetic on small fixed inputs, its targets, its outputs and its report.
Nothing here times anything: performance lives in `vcp bench` itself."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from vcp_toolkit.bench.anchors import ezkl_for, ezkl_verify_gas_at_most
from vcp_toolkit.bench.costs import Prices, amortized, floor_and_ratio, spread
from vcp_toolkit.bench.output import flatten, to_csv
from vcp_toolkit.bench.targets import evaluate_targets
from vcp_toolkit.chain.gas import calldata_gas, submit_floor


def test_floor_and_calldata_gas():
    data = bytes([0, 0, 1, 2]) + bytes(28)
    assert calldata_gas(data) == 30 * 4 + 2 * 16
    assert submit_floor(data) == 21_000 + 152 + 3_000 + 22_100
    floor, ratio = floor_and_ratio(59_000, data)
    assert floor == 46_252 and ratio == pytest.approx(59_000 / 46_252)


def test_amortization_and_prices():
    assert amortized(59_036, 1024) == pytest.approx(57.65234375)
    with pytest.raises(ValueError):
        amortized(1, 0)
    prices = Prices(gas_price_gwei=2.0, eth_usd=3_000.0)
    assert prices.eth(1_000_000) == pytest.approx(0.002)
    assert prices.usd(1_000_000) == pytest.approx(6.0)


def test_spread():
    s = spread([3.0, 1.0, 2.0, 10.0, 4.0])
    assert s["median"] == 3.0 and s["min"] == 1.0 and s["max"] == 10.0 and s["n"] == 5
    assert spread([5.0])["iqr"] == 0.0


def test_anchor_lookup():
    assert ezkl_for([64, 16, 10])["verify_gas"] == 608_296
    assert ezkl_for([1, 2]) is None
    assert ezkl_verify_gas_at_most(1_000) == 608_296
    assert ezkl_verify_gas_at_most(50_000) == 1_383_003
    assert ezkl_verify_gas_at_most(10**7) == 1_383_003


def _fixed_result(single_ratio=1.2, per_inference=60.0, anvil_rate=150.0):
    demo = "64->32->10"
    return {
        "rows": [
            {"chain": "embedded", "mode": "signed_single", "model": demo, "params": 2410, "batch": 1,
             "gas_floor_ratio": single_ratio},
            {"chain": "embedded", "mode": "signed_batched", "model": demo, "params": 2410, "batch": 1024,
             "gas_per_inference": per_inference, "inclusion_check_gas": 36_000, "attested_per_s": 25_000.0,
             "verify_to_prove": 1.1},
            {"chain": "anvil", "mode": "throughput", "single_attestations_per_s": anvil_rate,
             "batched_inferences_per_s": 20_000.0},
            {"chain": "embedded", "mode": "optimistic_dispute", "model": "64->16->10", "params": 1210,
             "gas_per_tx": 100_000},
        ],
        "disputes": [{"chain": "embedded", "width": 64, "params": 4810, "gas": 110_000},
                     {"chain": "embedded", "width": 1024, "params": 1_059_850, "gas": 170_000}],
        "cnn_disputes": {"models": {"lenet": {"disputes": [{"kind": "conv", "gas": 190_000},
                                                          {"kind": "dense", "gas": 150_000}]},
                                    "vit": {"disputes": [{"kind": "token_dense", "gas": 260_000},
                                                        {"kind": "matmul", "gas": 230_000}]}}},
        "cnn": {"inference": [{"model": "lenet", "ratio": 2.5}, {"model": "vit", "ratio": 4.4}]},
        "estimates": {"lines": [{"figure": "signed attestation gas", "error": 0.001},
                                {"figure": "zk prove time (s)", "error": -0.08}]},
    }


def test_targets_from_fixed_rows():
    targets = {t["name"]: t for t in evaluate_targets(_fixed_result())}
    assert len(targets) == 15 and all(t["met"] for t in targets.values())
    assert targets["vcp estimate against this run: worst relative error (gas, zk predictions)"]["value"] == 0.08
    assert targets["CNN fraud proof, costliest operator, gas (fresh accounts)"]["value"] == 190_000
    assert targets["ViT fraud proof, costliest operator, gas (fresh accounts)"]["value"] == 260_000
    assert targets["ViT fixed point / onnxruntime float, batch 256, one core"]["value"] == 4.4
    slow = {**_fixed_result(), "cnn": {"inference": [{"model": "lenet", "ratio": 2.5},
                                                     {"model": "rescnn", "ratio": 4.2}, {"model": "vit", "ratio": 5.5}]}}
    slow_targets = {t["name"]: t for t in evaluate_targets(slow)}
    assert not slow_targets["CNN fixed point / onnxruntime float, batch 256, one core"]["met"]
    assert not slow_targets["ViT fixed point / onnxruntime float, batch 256, one core"]["met"]
    assert targets["dispute gas / EZKL verify gas for the same model size"]["value"] == pytest.approx(
        max(100_000 / 608_296, 110_000 / 607_576, 170_000 / 1_383_003))
    missed = {t["name"]: t for t in evaluate_targets(_fixed_result(1.3, 65.0, 99.0))}
    assert not missed["signed single attestation: gas / floor"]["met"]
    assert not missed["batched N=1024: amortized gas per inference"]["met"]
    assert not missed["Anvil: single attestations landed per second"]["met"]
    off = {**_fixed_result(), "estimates": {"lines": [{"figure": "zk verifier gas", "error": 0.11}]}}
    assert not {t["name"]: t for t in evaluate_targets(off)}[
        "vcp estimate against this run: worst relative error (gas, zk predictions)"]["met"]
    empty = evaluate_targets({"rows": [], "disputes": []})
    assert all(t["value"] is None and not t["met"] for t in empty)


def test_csv_flattening():
    rows = [{"a": 1, "t": {"median": 2.0, "min": 1.0}}, {"a": 3, "b": "x"}]
    assert flatten(rows[0]) == {"a": 1, "t.median": 2.0, "t.min": 1.0}
    lines = to_csv(rows).splitlines()
    assert lines[0] == "a,t.median,t.min,b" and lines[2] == "3,,,x"


@pytest.mark.chain
@pytest.mark.node
def test_quick_bench_and_report_from_the_cli(tmp_path):
    out = tmp_path / "bench"
    proc = subprocess.run([sys.executable, "-m", "vcp_toolkit.cli", "bench", "--quick", "--json", "--out", str(out),
                           "--repeats", "2"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert {t["name"] for t in result["targets"]} == {t["name"] for t in evaluate_targets(_fixed_result())}
    for target in result["targets"]:
        assert set(target) >= {"name", "value", "limit", "met"} and target["value"] is not None
    modes = {(r["chain"], r["mode"]) for r in result["rows"]}
    for chain in ("embedded", "anvil"):
        for mode in ("signed_single", "signed_batched", "optimistic_happy", "optimistic_dispute", "throughput"):
            assert (chain, mode) in modes
    assert result["environment"]["evm_version"] == "shanghai" and result["zk"]["available"] is True
    assert result["environment"]["hardforks"] == {"embedded": "prague", "anvil": "osaka"}
    assert {r["hardfork"] for r in result["rows"] if r["mode"] != "throughput"} == {"prague", "osaka"}
    assert {s: v["chain"] for s, v in result["schedules"].items()} == \
        {"shanghai": "embedded", "prague": "embedded", "osaka": "anvil"}
    zk_gas = {s: next(r["gas"] for r in v["rows"] if r["mode"] == "zk") for s, v in result["schedules"].items()}
    assert zk_gas["shanghai"] == zk_gas["prague"] < zk_gas["osaka"]
    # EIP-7883: a ModExp of 32-byte operands and a 254-bit exponent (an inversion in the BN254
    # scalar field) costs 16 * 253 = 4,048 on Osaka against 16 * 253 // 3 = 1,349 before
    assert (zk_gas["osaka"] - zk_gas["prague"]) % (16 * 253 - 16 * 253 // 3) == 0
    fees = {(f["mode"], f["batch"]) for f in result["fees"] if f["model"] == "64->32->10"}
    assert {("signed_single", 1), ("signed_batched", 1024), ("optimistic_happy", 1), ("optimistic_dispute", 1)} <= fees
    assert any(f["mode"] == "zk" for f in result["fees"]) and result["fee_params"]["as_of"]
    zk_rows = [r for r in result["rows"] if r["mode"] == "zk"]
    assert [r["model"] for r in zk_rows] == ["64->16->10"] and zk_rows[0]["chain"] == "anvil"
    assert zk_rows[0]["proof_bytes"] == 3072 and zk_rows[0]["verifier_only_gas"] < zk_rows[0]["gas_per_tx"]
    assert (out / "bench.json").exists() and (out / "bench.csv").read_text().startswith("chain,hardfork,mode")

    report = tmp_path / "report.html"
    proc = subprocess.run([sys.executable, "-m", "vcp_toolkit.cli", "report", "--bench", str(out / "bench.json"),
                           "--out", str(report)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    text = report.read_text()
    assert text.count("data:image/png;base64,") == 4 and "Targets" in text and "EZKL reproduced" in text
    import matplotlib.image as mpimg

    for name in ("gas_per_inference", "prover_overhead", "time_split", "dispute_gas"):
        image = mpimg.imread(tmp_path / f"{name}.png")  # the plots open
        assert image.shape[0] > 100 and image.shape[1] > 100


def test_report_rejects_a_non_bench_file(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text("{}")
    proc = subprocess.run([sys.executable, "-m", "vcp_toolkit.cli", "report", "--bench", str(bad), "--out",
                           str(tmp_path / "r.html")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
