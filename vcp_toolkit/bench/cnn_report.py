"""The report's CNN rows beyond disputes: fixed point against onnxruntime, and EZKL on the CNN."""

from __future__ import annotations

import html
from typing import Any

from vcp_toolkit.bench.output import human


def _ms(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds * 1000:.1f} ms"


def _inference_table(rows: list[dict[str, Any]]) -> str:
    from vcp_toolkit.bench.report import html_table

    return html_table(["model", "batch", "fixed point (exact)", "onnxruntime float", "ratio", "images/s",
                       "batch = one by one", "one image: fixed / float", "prove per image (ratio to float)"],
                      [[r["model"], r["batch"], _ms(r["fixed_point_s"]), _ms(r["onnxruntime_s"]), f"{r['ratio']:.2f}x",
                        human(r["fixed_point_images_per_s"]), "yes" if r["batch_exact"] else "NO",
                        _single(r), _prove(r)] for r in rows],
                      full=False)


def _single(r: dict[str, Any]) -> str:
    if "single_ratio" not in r:
        return ""
    return f"{_ms(r['single_fixed_point_s'])} / {_ms(r['single_onnxruntime_s'])} ({r['single_ratio']:.1f}x)"


def _prove(r: dict[str, Any]) -> str:
    return f"{_ms(r['prove_per_image_s'])} ({r['prove_ratio']:.1f}x)" if "prove_ratio" in r else ""


def _attempt_cells(model: str, a: dict[str, Any]) -> list[Any]:
    prove = (a.get("prove_s") or {}).get("median")
    if not a["proven"]:
        return [model, html.escape(a["graph"]), human(a["params"]), a["logrows"], human(a["rows"]),
                "not proven: " + html.escape(a["why"]), "", "", "", ""]
    return [model, html.escape(a["graph"]), human(a["params"]), a["logrows"], human(a["rows"]),
            f"{prove:.1f} s" if prove is not None else "", f"{a['prove_peak_rss_mb'] / 1024:.1f} GB",
            human(a["proof_bytes"]), human(a["gas_per_tx"]), human(a["verifier_bytes"])]


def cnn_runs_section(result: dict[str, Any]) -> str:
    from vcp_toolkit.bench.report import html_table

    cnn = result.get("cnn") or {}
    if not cnn.get("inference") and not cnn.get("zk") and not cnn.get("vit_zk"):
        return ""
    parts = ["<h3>Exact fixed-point inference against onnxruntime (one core)</h3>",
             _inference_table(cnn.get("inference", []))]
    rows = [_attempt_cells(z["model"], a) for z in cnn.get("zk", []) for a in z["attempts"]]
    if rows:
        parts += ["<h3>EZKL on the same quantized CNN (the whole model, then narrower cuts until one fits)</h3>",
                  html_table(["model", "circuit", "params", "logrows", "rows", "prove", "peak memory",
                              "proof bytes", "verify gas (registry)", "verifier bytes"], rows, full=False)]
    return "".join(parts) + _vit_section(cnn.get("vit_zk"))


def _vit_section(vit: dict[str, Any] | None) -> str:
    from vcp_toolkit.bench.report import html_table
    from vcp_toolkit.bench.vit_zk import HEADERS, row_cells

    if not vit:
        return ""
    rows = [[html.escape(str(c)) if isinstance(c, str) else human(c) for c in row_cells(a)] for a in vit["attempts"]]
    return ("<h3>EZKL on the vision transformer (vit.onnx as exported: EZKL's default settings, then cheaper "
            "ones until one is proven)</h3>" + html_table(HEADERS, rows, full=False))
