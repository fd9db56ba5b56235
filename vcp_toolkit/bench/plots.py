"""The report's plots, as matplotlib figures. Every legend sits outside its axes, to the right, so
no legend can cover a data point whatever the data; figures are as wide as the report's page."""

from __future__ import annotations

import io
import textwrap
from typing import Any

from vcp_toolkit.bench.anchors import CITED_VERIFY_GAS, EZKL_MEASURED, EZKL_VERSION

MODE_LABELS = {"signed_single": "signed, one per tx", "signed_batched": "signed, batched",
               "optimistic_happy": "optimistic (no dispute)", "optimistic_dispute": "optimistic fraud proof",
               "zk": "zk-SNARK (EZKL, this run)"}
WIDTH_IN = 11.0  # at DPI this is about the report's column width (1200 px), so the page shows it unscaled
DPI = 110
LEGEND_WRAP = 38  # characters per legend line: long labels wrap instead of widening the legend


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _new(height_in: float):
    fig, ax = _pyplot().subplots(figsize=(WIDTH_IN, height_in), layout="constrained")
    return fig, ax


def _legend(fig, ax) -> None:
    """One legend per figure, outside the axes; constrained layout shrinks the axes to make room."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        fig.legend(handles, [textwrap.fill(label, LEGEND_WRAP) for label in labels], loc="outside right upper",
                   fontsize=8)


def arrows(text: str) -> str:
    """Model widths as people read them: 64→16→10."""
    return text.replace("->", "→")


def _chain(result: dict[str, Any]) -> str:
    return result["rows"][0]["chain"] if result["rows"] else "embedded"


def _gas_axis(axis) -> None:
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:,.0f}"))


def _anchor_lines(ax, with_cited: bool = True) -> None:
    colors = ["#b22222", "#d2691e", "#8b0000"]
    for color, (widths, row) in zip(colors, EZKL_MEASURED.items()):
        ax.axhline(row["verify_gas"], color=color, linestyle="--", linewidth=1,
                   label=f"EZKL {EZKL_VERSION} verify, {'→'.join(map(str, widths))} (measured)")
    if with_cited:
        for style, (name, gas) in zip([":", "-."] * 3, CITED_VERIFY_GAS.items()):
            if "SP1" in name or "RISC Zero (" in name:
                ax.axhline(gas, color="gray", linestyle=style, linewidth=1, label=name)


def gas_per_inference(result: dict[str, Any]):
    fig, ax = _new(4.8)
    chain = _chain(result)
    demo = [r for r in result["rows"] if r["chain"] == chain and r.get("model") == "64->32->10"]
    batched = sorted((r for r in demo if r["mode"] == "signed_batched"), key=lambda r: r["batch"])
    if batched:
        ax.plot([r["batch"] for r in batched], [r["gas_per_inference"] for r in batched], "o-",
                label="signed, batched (vcp)")
    zk_rows = [r for r in result["rows"] if r["mode"] == "zk"]
    if zk_rows:
        ax.plot([1] * len(zk_rows), [r["gas_per_inference"] for r in zk_rows], "D", color="black", markersize=7,
                label="zk verify in the registry (this run, " + ", ".join(arrows(r["model"]) for r in zk_rows) + ")")
    for mode, marker in (("signed_single", "s"), ("optimistic_happy", "^"), ("optimistic_dispute", "v")):
        for r in demo:
            if r["mode"] == mode:
                ax.plot([1], [r["gas_per_inference"]], marker, markersize=8, label=f"{MODE_LABELS[mode]} (vcp)")
    _anchor_lines(ax)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("inferences per on-chain transaction (batch size)")
    ax.set_ylabel("gas per inference")
    ax.set_title(f"On-chain gas per inference, demo model (64→32→10), {chain}")
    ax.grid(True, which="both", alpha=0.3)
    _legend(fig, ax)
    return fig


def prover_overhead(result: dict[str, Any]):
    fig, ax = _new(4.8)
    chain = _chain(result)
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
    ax.set_title(f"Prover overhead against plain inference, {chain}")
    ax.grid(True, which="both", alpha=0.3)
    _legend(fig, ax)
    return fig


def time_split(result: dict[str, Any]):
    fig, ax = _new(4.2)
    chain = _chain(result)
    rows = sorted((r for r in result["rows"] if r["chain"] == chain and r["mode"] == "signed_single"),
                  key=lambda r: r["params"])
    labels = [arrows(r["model"]) for r in rows]
    bottom = [0.0] * len(rows)
    for key, label in (("inference_s", "inference"), ("commit_s", "commitments"), ("sign_s", "EIP-712 signing")):
        values = [r["prover_split_s"][key] * 1e6 for r in rows]
        ax.bar(labels, values, bottom=bottom, label=label)
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.set_xlabel("model")
    ax.set_ylabel("µs per attested inference (median)")
    ax.set_title(f"Where the prover's time goes (one attestation per inference), {chain}")
    _legend(fig, ax)
    return fig


def dispute_gas(result: dict[str, Any]):
    fig, ax = _new(4.8)
    chains = sorted({d["chain"] for d in result.get("disputes", [])})
    markers = "osD^v"
    for i, chain in enumerate(chains):
        rows = sorted((d for d in result["disputes"] if d["chain"] == chain), key=lambda d: d["width"])
        # Dispute gas is deterministic, so chains coincide: distinct markers and sizes keep each visible.
        ax.plot([d["width"] for d in rows], [d["gas"] for d in rows], marker=markers[i % len(markers)],
                markersize=9 - 2 * i, linestyle="-", label=f"vcp fraud proof ({chain})")
    _anchor_lines(ax)
    ax.set_xscale("log", base=2)
    _gas_axis(ax.yaxis)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("width of the disputed layer (inputs of the re-executed neuron)")
    ax.set_ylabel("gas of the fraud-proof transaction")
    ax.set_title("One-transaction dispute gas against zk verification")
    ax.grid(True, which="both", alpha=0.3)
    _legend(fig, ax)
    return fig


def figures(result: dict[str, Any]) -> dict[str, Any]:
    """{file name: matplotlib Figure} for every plot of the report, in page order."""
    return {"gas_per_inference.png": gas_per_inference(result), "prover_overhead.png": prover_overhead(result),
            "time_split.png": time_split(result), "dispute_gas.png": dispute_gas(result)}


def to_png(fig) -> bytes:
    """The figure as PNG bytes; the figure is closed (pyplot keeps every open figure alive)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    _pyplot().close(fig)
    return buffer.getvalue()
