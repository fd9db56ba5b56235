"""`vcp bench` holds `vcp estimate` to what it measures in the same run: for every model and chain
of the run, each figure the estimate gives beside the one measured, and the relative error.

Gas is estimated by a dry run on the embedded EVM (`vcp_toolkit.bench.estimate`) on the schedule of
the chain it is compared with, so the errors show what differs between that dry run and a real
node's transactions (salts, accounts already written). The zk figures are predictions from the
committed calibration (`vcp_toolkit.bench.zk_predict`) against the EZKL runs of this bench.
"""

from __future__ import annotations

from typing import Any, Callable

from vcp_toolkit.bench.estimate import Estimate, estimate
from vcp_toolkit.bench.zk_predict import calibrated_model, relative_error
from vcp_toolkit.errors import InvalidInput

ZK_FIGURES = {"prove_s": "zk prove time (s)", "peak_rss_mb": "zk prover peak memory (MB)",
              "proof_bytes": "zk proof bytes", "verifier_gas": "zk verifier gas", "registry_gas": "zk registry gas"}
TOLERANCE = 0.10


def _line(model: str, chain: str, figure: str, estimated: float, measured: float) -> dict[str, Any]:
    return {"model": model, "chain": chain, "figure": figure, "estimated": estimated, "measured": measured,
            "error": relative_error(estimated, measured)}


def _dense_lines(e: Estimate, rows: list[dict[str, Any]], chain: str) -> list[dict[str, Any]]:
    """The estimate of one dense model against its measured rows on one chain."""
    lines = []
    for r in rows:
        if r["mode"] == "signed_single":
            lines.append(_line(r["model"], chain, "signed attestation gas", e.signed.gas, r["gas_per_tx"]))
        elif r["mode"] == "signed_batched" and r["batch"] in e.batches:
            lines.append(_line(r["model"], chain, f"batch of {r['batch']} gas", e.batches[r["batch"]].gas,
                               r["gas_per_tx"]))
            if r["batch"] == max(e.batches):
                lines.append(_line(r["model"], chain, f"inclusion check (N={r['batch']}) gas", e.inclusion_check.gas,
                                   r["inclusion_check_gas"]))
        elif r["mode"] == "optimistic_happy":
            lines.append(_line(r["model"], chain, "optimistic, no dispute gas", sum(t.gas for t in e.optimistic),
                               r["gas_per_tx"]))
        elif r["mode"] == "optimistic_dispute":
            first = next(p for p in e.fraud_proofs if p.position == 1)  # the bench lies in the first hidden layer
            lines.append(_line(r["model"], chain, "fraud proof, hidden dense layer gas", first.tx.gas, r["gas_per_tx"]))
    return lines


def _deploy_lines(e: Estimate, deploy: dict[str, int], chain: str) -> list[dict[str, Any]]:
    by_name = {c.name: c.deploy_gas for c in e.contracts}
    return [_line("contracts", chain, "AttestationRegistry deploy gas", by_name["AttestationRegistry"], deploy["registry"]),
            _line("contracts", chain, "OptimisticInference deploy gas", by_name["OptimisticInference"],
                  deploy["optimistic"])]


def dense_checks(result: dict[str, Any], model_for: Callable, batch_sizes: tuple[int, ...]) -> list[dict[str, Any]]:
    """Every dense model of the run on every chain whose schedule the embedded EVM runs."""
    lines: list[dict[str, Any]] = []
    estimates: dict[tuple[str, str], Estimate] = {}  # chains of one schedule share a dry run
    measured = [r for r in result["rows"] if r.get("mode") in ("signed_single", "signed_batched",
                                                               "optimistic_happy", "optimistic_dispute")]
    for chain, schedule in sorted({(r["chain"], r["hardfork"]) for r in measured}):
        for model in sorted({r["model"] for r in measured if r["chain"] == chain}):
            try:
                if (model, schedule) not in estimates:
                    widths = tuple(int(w) for w in model.split("->"))
                    estimates[model, schedule] = estimate(model_for(widths), schedule, batch_sizes)
            except InvalidInput:  # not a schedule vcp knows: nothing to compare
                continue
            e = estimates[model, schedule]
            lines += _dense_lines(e, [r for r in measured if r["chain"] == chain and r["model"] == model], chain)
            if chain in result.get("deploy_gas", {}) and not any(x["model"] == "contracts" and x["chain"] == chain
                                                                 for x in lines):
                lines += _deploy_lines(e, result["deploy_gas"][chain], chain)
    return lines


def cnn_checks(cnn_disputes: dict[str, Any]) -> list[dict[str, Any]]:
    """The estimate's costliest fraud proof per operator kind against the bench's CNN dispute rows."""
    from vcp_toolkit.bench.graph_disputes import worst_by_kind
    from vcp_toolkit.model.builtin.graphs import builtin_graph

    lines = []
    for name, measured in (cnn_disputes.get("models") or {}).items():
        e = estimate(builtin_graph(name), cnn_disputes.get("schedule"), ())
        for kind, row in worst_by_kind(measured["disputes"]).items():
            lines.append(_line(name, cnn_disputes.get("chain", "embedded"), f"fraud proof, {kind} gas",
                               e.worst_fraud_proofs()[kind].tx.gas, row["gas"]))
    return lines


def _dense_instances(model: str) -> int:
    """A dense circuit's public values: its input and its output."""
    widths = [int(w) for w in model.split("->")]
    return widths[0] + widths[-1]


def zk_checks(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Predictions from the committed calibration against every zk row this run measured (the
    circuit's logrows as EZKL calibrated it in the run)."""
    lines = []
    measured = [(r["model"], "dense", r, _dense_instances(r["model"])) for r in result["rows"] if r.get("mode") == "zk"]
    for attempts in ((result.get("cnn") or {}).get("zk") or []):  # built-in CNNs: 28x28 in, 10 out
        measured += [(a["graph"], "graph", a, 28 * 28 + 10) for a in attempts["attempts"] if a.get("proven")]
    for name, kind, row, instances in measured:
        predicted = calibrated_model(kind).predict(row["logrows"], row.get("rows", 0), instances)
        observed = {"prove_s": row["prove_s"]["median"], "peak_rss_mb": row.get("prove_peak_rss_mb"),
                    "proof_bytes": row.get("proof_bytes"), "verifier_gas": row.get("verifier_only_gas"),
                    "registry_gas": row.get("gas_per_tx")}
        lines += [_line(name, row.get("chain", "zk chain"), label, getattr(predicted, key), observed[key])
                  for key, label in ZK_FIGURES.items() if observed.get(key)]
    return lines


def estimate_checks(result: dict[str, Any], model_for: Callable, batch_sizes: tuple[int, ...]) -> dict[str, Any]:
    """All the lines, and the worst absolute error among gas figures and among zk predictions."""
    lines = dense_checks(result, model_for, batch_sizes) + cnn_checks(result.get("cnn_disputes") or {})
    zk = zk_checks(result)
    gas_errors = [abs(x["error"]) for x in lines]
    zk_errors = [abs(x["error"]) for x in zk]
    return {"lines": lines + zk, "worst_gas_error": max(gas_errors, default=None),
            "worst_zk_error": max(zk_errors, default=None), "tolerance": TOLERANCE}
