"""`vcp report`: a self-contained HTML page (plots embedded as PNG) from a `vcp bench` result."""

from __future__ import annotations

import base64
import html
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vcp_toolkit.bench.anchors import CITED_VERIFY_GAS, EZKL_MEASURED, EZKL_VERSION
from vcp_toolkit.bench.output import human
from vcp_toolkit.bench.plots import MODE_LABELS, arrows, figures, to_png
from vcp_toolkit.errors import InvalidInput
from vcp_toolkit.attest.files import write_atomic

_HEX = re.compile(r"0x[0-9a-fA-F]{24,}")  # hashes, roots, keys: shortened, the full value in a tooltip
_MODEL = re.compile(r"\d+(->\d+)+")  # model widths: one unbreakable identifier
_NUMBER = re.compile(r"[≤≥]? ?\$?-?[\d,]*\.?\d+(e[-+]?\d+)?( (µs|ms|s|MB))?|n/a")


def _td(value: Any) -> tuple[str, bool]:
    """One cell's HTML, and whether it is a number (numbers align right and never wrap)."""
    text = value if isinstance(value, str) else human(value)
    if _HEX.fullmatch(text):
        short = f"{text[:10]}…{text[-6:]}"
        return f'<td class="id"><code title="{html.escape(text)}">{short}</code></td>', False
    if _MODEL.fullmatch(text) or text in MODE_LABELS.values():
        return f'<td class="id">{html.escape(arrows(text))}</td>', False
    if text == "NO":
        return '<td class="miss">NO</td>', False
    if _NUMBER.fullmatch(text):
        return f'<td class="n">{html.escape(text)}</td>', True
    return f"<td>{html.escape(text)}</td>", False


def html_table(headers: list[str], rows: list[list[Any]], full: bool = True) -> str:
    """A table as wide as the page (``full``) or as its content; a column of numbers is right-aligned,
    header included."""
    cells = [[_td(c) for c in row] for row in rows]
    numeric = [bool(rows) and all(row[i][1] for row in cells) for i in range(len(headers))]
    head = "".join(f'<th{" class=n" if num else ""}>{html.escape(h)}</th>' for h, num in zip(headers, numeric))
    body = "".join("<tr>" + "".join(td for td, _ in row) + "</tr>" for row in cells)
    table = "<table>" if full else '<table class="fit">'
    return f'<div class="table">{table}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def render(result: dict[str, Any], fee_params: Any = None) -> tuple[str, dict[str, bytes]]:
    """(HTML text, {file name: PNG bytes}); dollars at ``fee_params`` (default: the bench's own)."""
    from vcp_toolkit.bench.money import bench_fee_params

    params = fee_params or bench_fee_params(result)
    pngs = {name: to_png(fig) for name, fig in figures(result).items()}
    zk_rows = [r for r in result["rows"] if r["mode"] == "zk"]
    sections = _Sections(
        targets=_targets_table(result), rows=_rows_table(result), throughput=_throughput_table(result),
        disputes=_disputes_table(result), anchors=_anchors_table(), compare=_compare_table(result, zk_rows),
        reproduced=_reproduced_table(zk_rows), trust=_trust_table(), figs=_figures(pngs),
        schedules=_schedules_section(result), fees=_fees_section(result, params), cnn=_cnn_section(result) + _cnn_runs(result),
        estimates=_estimates_section(result), da=_da_section(result, params))
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
    schedules: str
    fees: str
    cnn: str
    estimates: str
    da: str


def _targets_table(result: dict[str, Any]) -> str:
    return html_table(["target", "value", "limit", "met"],
                  [[t["name"], human(t["value"]), ("≤ " if t["better"] == "lower" else "≥ ") + human(t["limit"]),
                    "yes" if t["met"] else "NO"] for t in result["targets"]], full=False)


def _rows_table(result: dict[str, Any]) -> str:
    main = [r for r in result["rows"] if r["mode"] != "throughput"]
    return html_table(
        ["chain", "mode", "model", "params", "batch", "gas/tx", "gas/inference", "floor ratio", "USD/inference",
         "prove (median)", "verify off-chain (median)", "overhead vs plain"],
        [[r["chain"], MODE_LABELS.get(r["mode"], r["mode"]), r["model"], human(r["params"]), r["batch"],
          human(r.get("gas_per_tx")), human(r.get("gas_per_inference")), human(r.get("gas_floor_ratio")),
          _usd(r.get("cost_usd_per_inference")), _seconds((r.get("prove_s") or {}).get("median")),
          _seconds((r.get("verify_offchain_s") or {}).get("median")), human(r.get("overhead_vs_plain"))] for r in main])


def _throughput_table(result: dict[str, Any]) -> str:
    return html_table(["chain", "single attestations landed/s", "batched inferences landed/s (N=1024)"],
                  [[r["chain"], human(r["single_attestations_per_s"]), human(r["batched_inferences_per_s"])]
                   for r in result["rows"] if r["mode"] == "throughput"], full=False)


def _disputes_table(result: dict[str, Any]) -> str:
    return html_table(["chain", "width", "params", "fraud proof gas", "calldata bytes"],
                  [[d["chain"], d["width"], human(d["params"]), human(d["gas"]), human(d["calldata_bytes"])]
                   for d in result.get("disputes", [])], full=False)


def _cnn_section(result: dict[str, Any]) -> str:
    """Per built-in CNN and operator kind, the costliest one-element fraud proof (fresh accounts)."""
    from vcp_toolkit.bench.graph_disputes import worst_by_kind

    cnn = result.get("cnn_disputes") or {}
    if not cnn.get("models"):
        return "<p>Not measured in this run.</p>"
    rows, reveals = [], []
    for name, model in cnn["models"].items():
        for kind, r in worst_by_kind(model["disputes"]).items():
            rows.append([name, kind, r["node"], human(r["gas"]), human(r["calldata_bytes"]), r["tiles"]])
        reveal = model["reveal"]
        reveals.append(f"{html.escape(name)}: {human(reveal['gas'])} gas for {human(reveal['trace_bytes'])} trace bytes")
    table = html_table(["model", "operator", "node", "fraud proof gas", "calldata bytes", "tiles opened"], rows,
                       full=False)
    return f"{table}<p>Revealing a whole trace on-chain: {'; '.join(reveals)}.</p>"


def _estimates_section(result: dict[str, Any]) -> str:
    """Each figure `vcp estimate` gives (a dry run; zk predicted from the calibration) beside this run's."""
    lines = (result.get("estimates") or {}).get("lines") or []
    if not lines:
        return "<p>Not measured in this run.</p>"
    return html_table(["model", "chain", "figure", "estimated", "measured", "error"],
                      [[x["model"], x["chain"], x["figure"], human(x["estimated"]), human(x["measured"]),
                        f"{x['error']:+.2%}"] for x in lines], full=False)


def _da_section(result: dict[str, Any], params: Any) -> str:
    """Per model: the bundle for an HTTP store, the same bytes in calldata (gas, dollars), and the
    forced reveal measured in this run."""
    from vcp_toolkit.bench.da_costs import reveal_gas_by_model
    from vcp_toolkit.bench.money import CHAINS, PricedTx, price

    rows = result.get("da") or []
    if not rows:
        return "<p>Not measured in this run.</p>"
    reveals = reveal_gas_by_model(result)
    cells = []
    for r in rows:
        cost = price("da_calldata", r["model"], 1, r["hardfork"],
                     [PricedTx("publish", r["calldata_gas"], bytes.fromhex(r["raw"][2:]))], params)
        cells.append([r["model"], r["objects"], human(r["bytes"]), human(r["calldata_gas"]),
                      *(_usd(float(cost.usd[c])) for c in CHAINS), human(reveals.get(r["model"]))])
    return html_table(["model", "objects (HTTP store)", "bytes", "calldata gas", "calldata USD, Ethereum",
                       "OP Stack", "Arbitrum", "forced reveal gas (fallback)"], cells, full=False) \
        + _da_blob_table(rows, params)


def _da_blob_table(rows: list[dict[str, Any]], params: Any) -> str:
    """The same bundles in EIP-4844 blobs (BlobAnchor), where the run had a chain with blobs."""
    from vcp_toolkit.chain.fees import ethereum_blob_fee

    cells, where = [], set()
    for r in rows:
        blob = r.get("blob") or {"supported": False, "why": "not measured in this run"}
        if not blob.get("supported"):
            cells.append([r["model"], blob["why"], "", "", ""])
            continue
        where.add(f"{blob['chain']} ({blob['hardfork']})")
        fee = ethereum_blob_fee(blob["gas"], blob["blob_gas"], params)
        cells.append([r["model"], blob["blobs"], human(blob["blob_gas"]), human(blob["gas"]),
                      _usd(float(fee.total_usd))])
    measured = f"measured on {', '.join(sorted(where))}" if where else "not measured"
    return (f"<p>In EIP-4844 blobs (BlobAnchor: one type-3 transaction per bundle, {measured}). Blob gas "
            f"is 131,072 a blob whatever it holds; priced at a blob base fee of "
            f"{params.l1_blob_base_fee_wei:,} wei per blob gas and the anchor call at "
            f"{params.l1_base_fee_wei + params.l1_priority_fee_wei:,} wei per gas (fee parameters of "
            f"{html.escape(params.as_of)}). Blobs are pruned after ~18 days: they cover a challenge "
            f"window, not an archive.</p>"
            + html_table(["model", "blobs", "blob gas", "anchor tx gas", "blob USD, Ethereum"], cells, full=False))


def _cnn_runs(result: dict[str, Any]) -> str:
    from vcp_toolkit.bench.cnn_report import cnn_runs_section

    return cnn_runs_section(result)


def _anchors_table() -> str:
    return html_table(["system", "verify gas", "prover", "source"],
                  [[f"EZKL {EZKL_VERSION}, {'→'.join(map(str, w))}", human(a["verify_gas"]),
                    f"{a['prove_s']} s prove, {a['setup_s']} s setup", "measured outside vcp (docs/anchors.md)"]
                   for w, a in EZKL_MEASURED.items()]
                  + [[name, human(gas), "", "cited"] for name, gas in CITED_VERIFY_GAS.items()])


_FINALITY = {"signed_single": "receipt", "optimistic_dispute": "1 tx in the window", "zk": "receipt"}


def _compare_table(result: dict[str, Any], zk_rows: list[dict[str, Any]]) -> str:
    """Each zk row beside the signed and optimistic rows of the same model and chain."""
    side_by_side = []
    for z in zk_rows:
        same = [r for r in result["rows"] if r["model"] == z["model"] and r["chain"] == z["chain"]
                and r["mode"] in ("signed_single", "optimistic_happy", "optimistic_dispute")]
        for r in same + [z]:
            final = f"{r.get('finality_blocks')} blocks" if r["mode"] == "optimistic_happy" else _FINALITY[r["mode"]]
            side_by_side.append([z["model"], MODE_LABELS[r["mode"]], _seconds((r.get("prove_s") or {}).get("median")),
                                 human(r.get("proof_bytes", 65 if r["mode"] == "signed_single" else None)),
                                 _seconds((r.get("verify_offchain_s") or {}).get("median")), human(r.get("gas_per_tx")),
                                 human(r.get("verifier_deploy_gas")), final])
    return html_table(["model", "mode", "prover time", "proof bytes", "verify off-chain", "gas", "verifier deploy gas",
                   "final after"], side_by_side) if side_by_side else "<p>No zk rows in this run.</p>"


def _reproduced_table(zk_rows: list[dict[str, Any]]) -> str:
    """This run's EZKL figures next to docs/anchors.md for the same model."""
    def anchor(z: dict[str, Any]) -> dict[str, Any]:
        return EZKL_MEASURED.get(tuple(int(w) for w in z["model"].split("->"))) or {}

    return html_table(["model", "prove (this run)", "prove (docs/anchors.md)", "verifier gas (this run, Shanghai)",
                   "verify gas (docs/anchors.md, Prague)", "proof bytes", "proving key bytes", "peak RSS MB"],
                  [[z["model"], _seconds(z["prove_s"]["median"]), _seconds(anchor(z).get("prove_s")),
                    human(z.get("verifier_only_gas")), human(anchor(z).get("verify_gas")),
                    human(z["proof_bytes"]), human(z["proving_key_bytes"]), human(z["prove_peak_rss_mb"])]
                   for z in zk_rows]) if zk_rows else ""


def _schedules_section(result: dict[str, Any]) -> str:
    from vcp_toolkit.bench.schedule_tables import schedule_table

    headers, rows = schedule_table(result)
    if not rows:
        return "<p>No schedules compared in this run (<code>--schedules</code>).</p>"
    missing = [f"{s}: {v['why']}" for s, v in result["schedules"].items() if not v.get("rows")]
    note = f"<p>Not measured: {html.escape('; '.join(missing))}.</p>" if missing else ""
    return html_table(headers, rows) + note + SCHEDULES_NOTE


SCHEDULES_NOTE = """<p>The same signed transactions (fixed keys, salts and nonces; the same chain id) on each
schedule. Prague's EIP-7623 charges a transaction at least 21,000 + 10 gas per calldata token
(tokens = zero bytes + 4 x non-zero bytes): it binds where calldata is large and execution cheap
(an inclusion proof, a wide fraud proof). Osaka caps a transaction at 2**24 gas (EIP-7825) and
reprices ModExp (EIP-7883), which only EZKL's verifier calls; py-evm has no Osaka VM, so Osaka is
measured on Anvil.</p>"""


def _fees_section(result: dict[str, Any], params: Any) -> str:
    from vcp_toolkit.bench.money import cost_table
    from vcp_toolkit.bench.schedule_tables import fee_table

    headers, rows = fee_table(cost_table(result, params), _usd)
    if not rows:
        return "<p>No transactions with signed bytes in this run.</p>"
    p = params
    used = (f"Parameters of {p.as_of} (vcp_toolkit/chain/fee_params.json, overridable with --fee-param): "
            f"L1 base fee {p.l1_base_fee_wei / 1e9:g} gwei + tip {p.l1_priority_fee_wei / 1e9:g} gwei, "
            f"blob base fee {p.l1_blob_base_fee_wei / 1e9:g} gwei, OP scalars {p.op_base_fee_scalar} / "
            f"{p.op_blob_base_fee_scalar} and L2 gas {p.op_l2_gas_price_wei / 1e9:g} gwei, Arbitrum L1 price "
            f"{p.arb_l1_price_per_unit_wei / 1e9:g} gwei per unit and L2 base fee {p.arb_l2_base_fee_wei / 1e9:g} "
            f"gwei, brotli level {p.arb_brotli_level}, ${p.eth_usd}/ETH. Formulas: docs/fees.md.")
    return html_table(headers, rows) + f"<p>{html.escape(used)}</p>"


def _trust_table() -> str:
    return html_table(["mode", "what it guarantees", "whom you trust", "final after"], [
        ["signed (EIP-712)", "an authorised key claimed this output for this input and model", "the prover",
         "the receipt"],
        ["optimistic", "the result stands unless one re-executed neuron (or the input/output link) disproves it",
         "one honest watcher during the window; data availability (forced reveal)", "the challenge window"],
        ["zk (EZKL, anchor)", "the output follows from the committed model and input", "the proof system and its setup",
         "the proof"],
    ])


def _figures(pngs: dict[str, bytes]) -> str:
    """Each plot embedded at its natural size (it is drawn as wide as the page's column)."""
    return "".join(f'<figure><img alt="{name.removesuffix(".png").replace("_", " ")}" '
                   f'src="data:image/png;base64,{base64.b64encode(png).decode()}"></figure>'
                   for name, png in pngs.items())


# The page uses the window's width (up to 1400 px): tables span it, numbers stay on one line and
# text wraps; a table wider than a narrow window scrolls inside its own box, never the page.
_CSS = """*{box-sizing:border-box}
body{font-family:sans-serif;max-width:1400px;margin:0 auto;padding:1em 32px;color:#222;line-height:1.4}
.table{overflow-x:auto;margin:1em 0}
table{border-collapse:collapse;width:100%;font-size:13px}
table.fit{width:auto;min-width:50%}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
td{overflow-wrap:break-word}
th{background:#f3f3f3}
tbody tr:nth-child(even){background:#fafafa}
.n{text-align:right}
td.n{white-space:nowrap;font-variant-numeric:tabular-nums}
td.id{white-space:nowrap}
td.miss{color:#b00;font-weight:bold}
code{font-size:12px}
figure{margin:1.5em 0}
img{display:block;max-width:100%;height:auto}"""


def _page(result: dict[str, Any], s: _Sections) -> str:
    env = result["environment"]
    prices = result["config"]["prices"]
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>vcp benchmark</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_CSS}</style></head><body>
<h1>vcp benchmark</h1>
<p>vcp {html.escape(env['vcp'])} on {html.escape(env['platform'])} ({env['cpus']} CPUs), Python {env['python']},
numpy {env['numpy']}, web3 {env['web3']}, py-evm {env['py-evm']}, {html.escape(env['solc'])},
{html.escape(schedules_text(env))}. Times are medians over {result['config']['repeats']} repeats after
{result['config']['warmup']} warm-up runs. Costs at {prices['gas_price_gwei']} gwei and ${prices['eth_usd']:,.0f}/ETH.
Run time {result['wall_time_s']:.0f} s.</p>
<h2>Targets</h2>{s.targets}
<h2>Plots</h2>{s.figs}
<h2>Every row</h2>{s.rows}
<h2>Throughput (landed end to end, submissions pipelined)</h2>{s.throughput}
<h2>Dispute gas by width</h2>{s.disputes}
<h2>CNNs: the costliest fraud proof of each operator, inference speed, zk</h2>{s.cnn}
<h2>vcp estimate against this run</h2>{s.estimates}
<h2>Data availability: what publishing one result's data costs</h2>{s.da}
<h2>Signed, optimistic and zk on the same model and chain</h2>{s.compare}
<p>The zk verify gas includes the registry's binding of the proof to vcp's input and output commitments
(about 60,000 gas on top of EZKL's verifier).</p>
<h2>EZKL reproduced</h2>{s.reproduced}
<h2>Anchors</h2><p>zk backend: {html.escape(result['zk']['why'])}.</p>{s.anchors}
<h2>The same transactions on Shanghai, Prague and Osaka</h2>{s.schedules}
<h2>Dollars per verified inference: Ethereum L1, OP Stack, Arbitrum</h2>{s.fees}
<h2>What each mode guarantees</h2>{s.trust}
</body></html>
"""


def write_report(bench_path: Path, out_path: Path, fee_overrides: dict[str, str] | None = None) -> Path:
    try:
        result = json.loads(Path(bench_path).read_text())
        result["rows"], result["targets"], result["environment"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"{bench_path} is not a vcp bench result ({exc}); run `vcp bench` first") from exc
    from vcp_toolkit.bench.money import bench_fee_params

    text, pngs = render(result, bench_fee_params(result, fee_overrides))
    out_path = Path(out_path)
    write_atomic(out_path, text.encode())
    for name, png in pngs.items():
        write_atomic(out_path.parent / name, png)
    return out_path


def headline_markdown(result: dict[str, Any], fee_params: Any = None) -> str:
    """The README's headline tables, from a bench result (``vcp report --markdown``)."""
    env = result["environment"]
    lines = [f"vcp {env['vcp']}, {env['cpus']} CPUs, Python {env['python']}, {env['solc']}, "
             f"{schedules_text(env)}; medians of {result['config']['repeats']} repeats; "
             f"{result['config']['prices']['gas_price_gwei']} gwei, "
             f"${result['config']['prices']['eth_usd']:,.0f}/ETH.", ""]
    lines += ["| target | value | limit | met |", "|---|---|---|---|"]
    for t in result["targets"]:
        limit = ("≤ " if t["better"] == "lower" else "≥ ") + human(t["limit"])
        lines.append(f"| {t['name']} | {human(t['value'])} | {limit} | {'yes' if t['met'] else 'NO'} |")
    lines += ["", "| chain | mode | model | batch | gas/tx | gas/inference | USD/inference | prove (median) | "
              "verify off-chain (median) |", "|---|---|---|---|---|---|---|---|---|"]
    keep = [r for r in result["rows"] if r["mode"] != "throughput" and
            (r["model"] == "64->32->10" or r["mode"] == "zk") and r.get("batch", 1) in (1, 1024)]
    for r in keep:
        lines.append(
            f"| {r['chain']} | {MODE_LABELS.get(r['mode'], r['mode'])} | {r['model']} | {r['batch']} | "
            f"{human(r.get('gas_per_tx'))} | {human(r.get('gas_per_inference'))} | "
            f"{human(r.get('cost_usd_per_inference'))} | {_seconds((r.get('prove_s') or {}).get('median'))} | "
            f"{_seconds((r.get('verify_offchain_s') or {}).get('median'))} |")
    lines += ["", "| width of the disputed layer | 16 | 64 | 256 | 1024 | 4096 |", "|---|---|---|---|---|---|"]
    chains = sorted({d["chain"] for d in result.get("disputes", [])})
    for chain in chains[:1]:
        gas = {d["width"]: d["gas"] for d in result["disputes"] if d["chain"] == chain}
        lines.append("| fraud-proof gas | " + " | ".join(human(gas.get(w)) for w in (16, 64, 256, 1024, 4096)) + " |")
    return "\n".join(lines + _money_markdown(result, fee_params)) + "\n"


def _money_markdown(result: dict[str, Any], fee_params: Any) -> list[str]:
    """The schedules side by side and the dollars per inference, as Markdown."""
    from vcp_toolkit.bench.money import bench_fee_params, cost_table
    from vcp_toolkit.bench.schedule_tables import fee_table, markdown, schedule_table

    lines: list[str] = []
    headers, rows = schedule_table(result)
    if rows:
        lines += ["", *markdown(headers, rows, human)]
    params = fee_params or bench_fee_params(result)
    headers, rows = fee_table(cost_table(result, params), _usd)
    if rows:
        lines += ["", f"Fee parameters of {params.as_of}, ${params.eth_usd}/ETH (docs/fees.md).", "",
                  *markdown(headers, rows, human)]
    return lines


def schedules_text(env: dict[str, Any]) -> str:
    """Which schedule each chain ran (a result of an older vcp names one hardfork for all)."""
    forks = env.get("hardforks")
    if not forks:
        return f"hardfork {env.get('hardfork', 'shanghai')}"
    by_chain = ", ".join(f"{chain} on {fork}" for chain, fork in forks.items())
    return f"{by_chain}; contracts compiled for {env.get('evm_version', 'shanghai')}"


def _usd(value: float | None) -> str:
    """Three significant figures without an exponent: 0.0000433, not 4.33e-05."""
    if value is None:
        return "n/a"
    if value == 0:
        return "0"
    decimals = max(0, 2 - math.floor(math.log10(abs(value))))
    return f"{value:,.{decimals}f}"


def _seconds(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value < 1e-3:
        return f"{value * 1e6:,.0f} µs"
    if value < 1:
        return f"{value * 1e3:,.1f} ms"
    return f"{value:,.1f} s"
