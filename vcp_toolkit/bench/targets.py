"""The performance targets, checked against a benchmark result (never in timed unit tests)."""

from __future__ import annotations

from typing import Any, Callable

from vcp_toolkit.bench.anchors import ezkl_for, ezkl_verify_gas_at_most

DEMO = "64->32->10"


def _rows(result: dict[str, Any], **match: Any) -> list[dict[str, Any]]:
    return [r for r in result["rows"] if all(r.get(k) == v for k, v in match.items())]


def _target(name: str, value: float | None, limit: float, better: str) -> dict[str, Any]:
    met = value is not None and (value <= limit if better == "lower" else value >= limit)
    return {"name": name, "value": value, "limit": limit, "better": better, "met": met}


def _worst(values: list[float], pick: Callable[[list[float]], float]) -> float | None:
    return pick(values) if values else None


def evaluate_targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    singles = _rows(result, mode="signed_single", model=DEMO)
    batched = _rows(result, mode="signed_batched", model=DEMO, batch=1024)
    anvil = _rows(result, mode="throughput", chain="anvil")
    disputes = result.get("disputes", [])
    dispute_rows = _rows(result, mode="optimistic_dispute")
    measured_zk = {r["model"]: r["gas_per_tx"] for r in result["rows"] if r.get("mode") == "zk"}
    ratios = []
    for row in dispute_rows:
        ezkl = ezkl_for([int(w) for w in row["model"].split("->")])
        zk_gas = measured_zk.get(row["model"]) or (ezkl["verify_gas"] if ezkl else ezkl_verify_gas_at_most(row["params"]))
        ratios.append(row["gas_per_tx"] / zk_gas)
    ratios += [d["gas"] / ezkl_verify_gas_at_most(d["params"]) for d in disputes]
    by_width = {d["width"]: d["gas"] for d in disputes}
    return [
        _target("signed single attestation: gas / floor", _worst([r["gas_floor_ratio"] for r in singles], max),
                1.25, "lower"),
        _target("batched N=1024: amortized gas per inference", _worst([r["gas_per_inference"] for r in batched], max),
                64, "lower"),
        _target("batched N=1024: one inclusion check, gas", _worst([r["inclusion_check_gas"] for r in batched], max),
                40_000, "lower"),
        _target("fraud proof at width 64, gas", by_width.get(64), 120_000, "lower"),
        _target("fraud proof at width 1024, gas", by_width.get(1024), 300_000, "lower"),
        _target("prover: attested inferences per second (batch 1024, one core)",
                _worst([r["attested_per_s"] for r in batched], min), 20_000, "higher"),
        _target("off-chain verification of 1024 / time to produce it",
                _worst([r["verify_to_prove"] for r in batched], max), 1.5, "lower"),
        _target("Anvil: single attestations landed per second",
                _worst([r["single_attestations_per_s"] for r in anvil], min), 100, "higher"),
        _target("Anvil: batched inferences landed per second",
                _worst([r["batched_inferences_per_s"] for r in anvil], min), 10_000, "higher"),
        _target("dispute gas / EZKL verify gas for the same model size", _worst(ratios, max), 1.0, "lower"),
        _target("CNN fraud proof, costliest operator, gas (fresh accounts)",
                _worst(_graph_proof_gas(result, transformers=False), max), 200_000, "lower"),
        _target("CNN fixed point / onnxruntime float, batch 256, one core",
                _worst(_inference_ratios(result, transformers=False), max), 3.0, "lower"),
        _target("ViT fraud proof, costliest operator, gas (fresh accounts)",
                _worst(_graph_proof_gas(result, transformers=True), max), 300_000, "lower"),
        _target("ViT fixed point / onnxruntime float, batch 256, one core",
                _worst(_inference_ratios(result, transformers=True), max), 5.0, "lower"),
        _target("vcp estimate against this run: worst relative error (gas, zk predictions)",
                _worst([abs(x["error"]) for x in (result.get("estimates") or {}).get("lines", [])], max), 0.10, "lower"),
    ]


def _graph_proof_gas(result: dict[str, Any], transformers: bool) -> list[float]:
    from vcp_toolkit.model.builtin.graphs import TRANSFORMERS

    models = (result.get("cnn_disputes") or {}).get("models", {})
    return [row["gas"] for name, model in models.items() if (name in TRANSFORMERS) == transformers
            for row in model["disputes"]]


def _inference_ratios(result: dict[str, Any], transformers: bool) -> list[float]:
    from vcp_toolkit.model.builtin.graphs import TRANSFORMERS

    return [r["ratio"] for r in (result.get("cnn") or {}).get("inference", [])
            if (r["model"] in TRANSFORMERS) == transformers]
