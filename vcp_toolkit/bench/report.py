"""`vcp report`: a self-contained HTML page (plots embedded as PNG) from a `vcp bench` result."""

from __future__ import annotations

import base64
import html
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vcp_toolkit.bench.anchors import CITED_VERIFY_GAS, EZKL_MEASURED, EZKL_VERSION
from vcp_toolkit.errors import InvalidInput
from vcp_toolkit.attest.files import write_atomic

MODE_LABELS = {"signed_single": "signed, one per tx", "signed_batched": "signed, batched",
               "optimistic_happy": "optimistic (no dispute)", "optimistic_dispute": "optimistic fraud proof",
               "zk": "zk-SNARK (EZKL, this run)"}


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    _figure().close(fig)
    return buffer.getvalue()


def _anchor_lines(ax, with_cited: bool = True) -> None:
    colors = ["#b22222", "#d2691e", "#8b0000"]
    for color, (widths, row) in zip(colors, EZKL_MEASURED.items()):
        ax.axhline(row["verify_gas"], color=color, linestyle="--", linewidth=1,
                   label=f"EZKL {EZKL_VERSION} verify, {'->'.join(map(str, widths))} (measured)")
    if with_cited:
        for style, (name, gas) in zip([":", "-."] * 3, CITED_VERIFY_GAS.items()):
            if "SP1" in name or "RISC Zero (" in name:
                ax.axhline(gas, color="gray", linestyle=style, linewidth=1, label=name)


def plot_gas_per_inference(result: dict[str, Any]) -> bytes:
    plt = _figure()
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    chain = result["rows"][0]["chain"] if result["rows"] else "embedded"
    demo = [r for r in result["rows"] if r["chain"] == chain and r.get("model") == "64->32->10"]
    batched = sorted((r for r in demo if r["mode"] == "signed_batched"), key=lambda r: r["batch"])
    if batched:
        ax.plot([r["batch"] for r in batched], [r["gas_per_inference"] for r in batched], "o-",
                label="signed, batched (vcp)")
    zk_rows = [r for r in result["rows"] if r["mode"] == "zk"]
    if zk_rows:
        ax.plot([1] * len(zk_rows), [r["gas_per_inference"] for r in zk_rows], "D", color="black", markersize=7,
                label="zk verify in the registry (this run, " + ", ".join(r["model"] for r in zk_rows) + ")")
    for mode, marker in (("signed_single", "s"), ("optimistic_happy", "^"), ("optimistic_dispute", "v")):
        for r in demo:
            if r["mode"] == mode:
                ax.plot([1], [r["gas_per_inference"]], marker, markersize=8, label=f"{MODE_LABELS[mode]} (vcp)")
    _anchor_lines(ax)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("inferences per on-chain transaction (batch size)")
    ax.set_ylabel("gas per inference")
    ax.set_title(f"On-chain gas per inference, demo model, {chain}")
    ax.legend(fontsize=7, loc="lower left")
    ax.grid(True, which="both", alpha=0.3)
    return _png(fig)


def plot_overhead(result: dict[str, Any]) -> bytes:
    plt = _figure()
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    chain = result["rows"][0]["chain"] if result["rows"] else "embedded"
    for mode, batch in (("signed_single", 1), ("signed_batched", 1024), ("optimistic_happy", 1)):
        rows = sorted((r for r in result["rows"] if r["chain"] == chain and r["mode"] == mode and r["batch"] == batch),
                      key=lambda r: r["params"])
        if rows:
            ax.plot([r["params"] for r in rows], [r["overhead_vs_plain"] for r in rows], "o-",
                    label=f"{MODE_LABELS[mode]}" + (f", N={batch}" if batch > 1 else ""))
    measured = sorted((r["params"], r["overhead_vs_plain"]) for r in result["rows"] if r["mode"] == "zk")
    if measured:
        ax.plot(*zip(*measured), "D-", color="black", label="zk-SNARK (EZKL, this run) / plain inference")
    zk = sorted((row["params"], row["prove_s"]) for row in EZKL_MEASURED.values())
    plain = {r["params"]: r["plain_inference_s"] for r in result["rows"]
             if r["chain"] == chain and r["mode"] == "signed_single"}
    points = [(p, s / plain[min(plain, key=lambda q: abs(q - p))]) for p, s in zk] if plain else []
    if points:
        ax.plot(*zip(*points), "x--", color="#b22222",
                label=f"EZKL {EZKL_VERSION} prove time / vcp plain inference (measured elsewhere)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("model parameters")
    ax.set_ylabel("prover time / plain fixed-point inference")
    ax.set_title("Prover overhead against plain inference")
    ax.legend(fontsize=7)
    ax.grid(True, which="both", alpha=0.3)
    return _png(fig)


def plot_time_split(result: dict[str, Any]) -> bytes:
    plt = _figure()
    fig, ax = plt.subplots(figsize=(7.5, 4.0))
    chain = result["rows"][0]["chain"] if result["rows"] else "embedded"
    rows = sorted((r for r in result["rows"] if r["chain"] == chain and r["mode"] == "signed_single"),
                  key=lambda r: r["params"])
    labels = [r["model"] for r in rows]
    bottom = [0.0] * len(rows)
    for key, label in (("inference_s", "inference"), ("commit_s", "commitments"), ("sign_s", "EIP-712 signing")):
        values = [r["prover_split_s"][key] * 1e6 for r in rows]
        ax.bar(labels, values, bottom=bottom, label=label)
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.set_ylabel("µs per attested inference (median)")
    ax.set_title("Where the prover's time goes (one attestation per inference)")
    ax.legend(fontsize=8)
    return _png(fig)


def plot_dispute_gas(result: dict[str, Any]) -> bytes:
    plt = _figure()
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    chains = sorted({d["chain"] for d in result.get("disputes", [])})
    for chain in chains:
        rows = sorted((d for d in result["disputes"] if d["chain"] == chain), key=lambda d: d["width"])
        ax.plot([d["width"] for d in rows], [d["gas"] for d in rows], "o-", label=f"vcp fraud proof ({chain})")
    _anchor_lines(ax)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("width of the disputed layer (inputs of the re-executed neuron)")
    ax.set_ylabel("gas of the fraud-proof transaction")
    ax.set_title("One-transaction dispute gas against zk verification")
    ax.legend(fontsize=7)
    ax.grid(True, which="both", alpha=0.3)
    return _png(fig)


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def render(result: dict[str, Any]) -> tuple[str, dict[str, bytes]]:
    """(HTML text, {file name: PNG bytes})."""
    pngs = {"gas_per_inference.png": plot_gas_per_inference(result), "prover_overhead.png": plot_overhead(result),
            "time_split.png": plot_time_split(result), "dispute_gas.png": plot_dispute_gas(result)}
    zk_rows = [r for r in result["rows"] if r["mode"] == "zk"]
    sections = _Sections(
        targets=_targets_table(result), rows=_rows_table(result), throughput=_throughput_table(result),
        disputes=_disputes_table(result), anchors=_anchors_table(), compare=_compare_table(result, zk_rows),
        reproduced=_reproduced_table(zk_rows), trust=_trust_table(), figs=_figures(pngs))
    return _page(result, sections), pngs


@dataclass(frozen=True)
class _Sections:
    """The report's HTML pieces, each rendered on its own."""

    targets: str
    rows: str
    throughput: str
    disputes: str
    anchors: str
    compare: str
    reproduced: str
    trust: str
    figs: str


def _targets_table(result: dict[str, Any]) -> str:
    return _table(["target", "value", "limit", "met"],
                  [[t["name"], _fmt(t["value"]), ("≤ " if t["better"] == "lower" else "≥ ") + _fmt(t["limit"]),
                    "yes" if t["met"] else "NO"] for t in result["targets"]])


def _rows_table(result: dict[str, Any]) -> str:
    main = [r for r in result["rows"] if r["mode"] != "throughput"]
    return _table(
        ["chain", "mode", "model", "params", "batch", "gas/tx", "gas/inference", "floor ratio", "USD/inference",
         "prove (median s)", "verify off-chain (median s)", "overhead vs plain"],
        [[r["chain"], MODE_LABELS.get(r["mode"], r["mode"]), r["model"], _fmt(r["params"]), r["batch"],
          _fmt(r.get("gas_per_tx")), _fmt(r.get("gas_per_inference")), _fmt(r.get("gas_floor_ratio")),
          _fmt(r.get("cost_usd_per_inference")), _fmt((r.get("prove_s") or {}).get("median")),
          _fmt((r.get("verify_offchain_s") or {}).get("median")), _fmt(r.get("overhead_vs_plain"))] for r in main])


def _throughput_table(result: dict[str, Any]) -> str:
    return _table(["chain", "single attestations landed/s", "batched inferences landed/s (N=1024)"],
                  [[r["chain"], _fmt(r["single_attestations_per_s"]), _fmt(r["batched_inferences_per_s"])]
                   for r in result["rows"] if r["mode"] == "throughput"])


def _disputes_table(result: dict[str, Any]) -> str:
    return _table(["chain", "width", "params", "fraud proof gas", "calldata bytes"],
                  [[d["chain"], d["width"], _fmt(d["params"]), _fmt(d["gas"]), _fmt(d["calldata_bytes"])]
                   for d in result.get("disputes", [])])


def _anchors_table() -> str:
    return _table(["system", "verify gas", "prover", "source"],
                  [[f"EZKL {EZKL_VERSION}, {'->'.join(map(str, w))}", _fmt(a["verify_gas"]),
                    f"{a['prove_s']} s prove, {a['setup_s']} s setup", "measured (ANCHORS.md)"]
                   for w, a in EZKL_MEASURED.items()]
                  + [[name, _fmt(gas), "", "cited"] for name, gas in CITED_VERIFY_GAS.items()])


_FINALITY = {"signed_single": "receipt", "optimistic_dispute": "1 tx in the window", "zk": "receipt"}


def _compare_table(result: dict[str, Any], zk_rows: list[dict[str, Any]]) -> str:
    """Each zk row beside the signed and optimistic rows of the same model and chain."""
    side_by_side = []
    for z in zk_rows:
        same = [r for r in result["rows"] if r["model"] == z["model"] and r["chain"] == z["chain"]
                and r["mode"] in ("signed_single", "optimistic_happy", "optimistic_dispute")]
        for r in same + [z]:
            final = f"{r.get('finality_blocks')} blocks" if r["mode"] == "optimistic_happy" else _FINALITY[r["mode"]]
            side_by_side.append([z["model"], MODE_LABELS[r["mode"]], _fmt((r.get("prove_s") or {}).get("median")),
                                 _fmt(r.get("proof_bytes", 65 if r["mode"] == "signed_single" else None)),
                                 _fmt((r.get("verify_offchain_s") or {}).get("median")), _fmt(r.get("gas_per_tx")),
                                 _fmt(r.get("verifier_deploy_gas")), final])
    return _table(["model", "mode", "prover s", "proof bytes", "verify off-chain s", "gas", "verifier deploy gas",
                   "final after"], side_by_side) if side_by_side else "<p>No zk rows in this run.</p>"


def _reproduced_table(zk_rows: list[dict[str, Any]]) -> str:
    """This run's EZKL figures next to ANCHORS.md's for the same model."""
    def anchor(z: dict[str, Any]) -> dict[str, Any]:
        return EZKL_MEASURED.get(tuple(int(w) for w in z["model"].split("->"))) or {}

    return _table(["model", "prove s (this run)", "prove s (ANCHORS)", "verifier gas (this run, Shanghai)",
                   "verify gas (ANCHORS, Prague)", "proof bytes", "proving key bytes", "peak RSS MB"],
                  [[z["model"], _fmt(z["prove_s"]["median"]), _fmt(anchor(z).get("prove_s")),
                    _fmt(z.get("verifier_only_gas")), _fmt(anchor(z).get("verify_gas")),
                    _fmt(z["proof_bytes"]), _fmt(z["proving_key_bytes"]), _fmt(z["prove_peak_rss_mb"])]
                   for z in zk_rows]) if zk_rows else ""


def _trust_table() -> str:
    return _table(["mode", "what it guarantees", "whom you trust", "final after"], [
        ["signed (EIP-712)", "an authorised key claimed this output for this input and model", "the prover",
         "the receipt"],
        ["optimistic", "the result stands unless one re-executed neuron (or the input/output link) disproves it",
         "one honest watcher during the window; data availability (forced reveal)", "the challenge window"],
        ["zk (EZKL, anchor)", "the output follows from the committed model and input", "the proof system and its setup",
         "the proof"],
    ])


def _figures(pngs: dict[str, bytes]) -> str:
    return "".join(
        f'<figure><img alt="{name}" src="data:image/png;base64,{base64.b64encode(png).decode()}"></figure>'
        for name, png in pngs.items())


def _page(result: dict[str, Any], s: _Sections) -> str:
    env = result["environment"]
    prices = result["config"]["prices"]
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>vcp benchmark</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}}table{{border-collapse:collapse;
margin:1em 0;font-size:13px}}td,th{{border:1px solid #ccc;padding:3px 6px;text-align:right}}th{{background:#f3f3f3}}
td:first-child,th:first-child{{text-align:left}}img{{max-width:100%}}figure{{margin:1em 0}}</style></head><body>
<h1>vcp benchmark</h1>
<p>vcp {html.escape(env['vcp'])} on {html.escape(env['platform'])} ({env['cpus']} CPUs), Python {env['python']},
numpy {env['numpy']}, web3 {env['web3']}, py-evm {env['py-evm']}, {html.escape(env['solc'])},
hardfork {env['hardfork']}. Times are medians over {result['config']['repeats']} repeats after
{result['config']['warmup']} warm-up runs. Costs at {prices['gas_price_gwei']} gwei and ${prices['eth_usd']:,.0f}/ETH.
Run time {result['wall_time_s']:.0f} s.</p>
<h2>Targets</h2>{s.targets}
<h2>Plots</h2>{s.figs}
<h2>Every row</h2>{s.rows}
<h2>Throughput (landed end to end, submissions pipelined)</h2>{s.throughput}
<h2>Dispute gas by width</h2>{s.disputes}
<h2>Signed, optimistic and zk on the same model and chain</h2>{s.compare}
<p>The zk verify gas includes the registry's binding of the proof to vcp's input and output commitments
(about 60,000 gas on top of EZKL's verifier).</p>
<h2>EZKL reproduced</h2>{s.reproduced}
<h2>Anchors</h2><p>zk backend: {html.escape(result['zk']['why'])}.</p>{s.anchors}
<h2>What each mode guarantees</h2>{s.trust}
</body></html>
"""


def write_report(bench_path: Path, out_path: Path) -> Path:
    try:
        result = json.loads(Path(bench_path).read_text())
        result["rows"], result["targets"], result["environment"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"{bench_path} is not a vcp bench result ({exc}); run `vcp bench` first") from exc
    text, pngs = render(result)
    out_path = Path(out_path)
    write_atomic(out_path, text.encode())
    for name, png in pngs.items():
        write_atomic(out_path.parent / name, png)
    return out_path


def headline_markdown(result: dict[str, Any]) -> str:
    """The README's headline tables, from a bench result (``vcp report --markdown``)."""
    env = result["environment"]
    lines = [f"vcp {env['vcp']}, {env['cpus']} CPUs, Python {env['python']}, {env['solc']}, hardfork "
             f"{env['hardfork']}; medians of {result['config']['repeats']} repeats; "
             f"{result['config']['prices']['gas_price_gwei']} gwei, "
             f"${result['config']['prices']['eth_usd']:,.0f}/ETH.", ""]
    lines += ["| target | value | limit | met |", "|---|---|---|---|"]
    for t in result["targets"]:
        limit = ("≤ " if t["better"] == "lower" else "≥ ") + _fmt(t["limit"])
        lines.append(f"| {t['name']} | {_fmt(t['value'])} | {limit} | {'yes' if t['met'] else 'NO'} |")
    lines += ["", "| chain | mode | model | batch | gas/tx | gas/inference | USD/inference | prove (median) | "
              "verify off-chain (median) |", "|---|---|---|---|---|---|---|---|---|"]
    keep = [r for r in result["rows"] if r["mode"] != "throughput" and
            (r["model"] == "64->32->10" or r["mode"] == "zk") and r.get("batch", 1) in (1, 1024)]
    for r in keep:
        lines.append(
            f"| {r['chain']} | {MODE_LABELS.get(r['mode'], r['mode'])} | {r['model']} | {r['batch']} | "
            f"{_fmt(r.get('gas_per_tx'))} | {_fmt(r.get('gas_per_inference'))} | "
            f"{_fmt(r.get('cost_usd_per_inference'))} | {_seconds((r.get('prove_s') or {}).get('median'))} | "
            f"{_seconds((r.get('verify_offchain_s') or {}).get('median'))} |")
    lines += ["", "| width of the disputed layer | 16 | 64 | 256 | 1024 | 4096 |", "|---|---|---|---|---|---|"]
    chains = sorted({d["chain"] for d in result.get("disputes", [])})
    for chain in chains[:1]:
        gas = {d["width"]: d["gas"] for d in result["disputes"] if d["chain"] == chain}
        lines.append("| fraud-proof gas | " + " | ".join(_fmt(gas.get(w)) for w in (16, 64, 256, 1024, 4096)) + " |")
    return "\n".join(lines) + "\n"


def _seconds(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value < 1e-3:
        return f"{value * 1e6:,.0f} µs"
    if value < 1:
        return f"{value * 1e3:,.1f} ms"
    return f"{value:,.1f} s"
