"""The bench's data-availability rows: each model's bundle published in calldata and fetched back,
its gas held to the calldata it carries, and the report's table priced per chain."""

from __future__ import annotations

import json
from pathlib import Path

from vcp_toolkit.bench.da_costs import cnn_bundle, da_rows, dense_bundle, reveal_gas_by_model
from vcp_toolkit.bench.output import human
from vcp_toolkit.bench.report import render
from vcp_toolkit.chain.nodes import open_chain

FIXTURE = Path(__file__).parent / "fixtures" / "bench_full.json"


def test_rows_for_a_dense_model_and_a_cnn():
    with open_chain("embedded") as chain:
        rows = da_rows(chain, ((64, 16, 10),), ("lenet",))
    dense, lenet = rows
    assert dense["objects"] == len(dense_bundle((64, 16, 10))) and dense["bytes"] == sum(map(len, dense_bundle((64, 16, 10))))
    assert lenet["objects"] == 8 + 1 and lenet["bytes"] == sum(map(len, cnn_bundle("lenet")))  # 8 nodes + input
    for row in rows:
        assert row["calldata_bytes"] > row["bytes"] and row["hardfork"] == "prague"
        calldata = bytes.fromhex(row["raw"][2:])  # the signed transaction carries the whole bundle
        assert row["calldata_gas"] >= 21_000 + 4 * row["bytes"] and len(calldata) > row["bytes"]
    assert lenet["calldata_gas"] > dense["calldata_gas"]


def test_the_report_prices_the_rows_and_shows_the_fallback():
    with open_chain("embedded") as chain:
        rows = da_rows(chain, ((64, 16, 10),), ())
    result = json.loads(FIXTURE.read_text())  # a real bench result, without DA rows
    result.update(da=rows, cnn_disputes={"models": {"lenet": {"reveal": {"gas": 591_336, "trace_bytes": 9_278},
                                                                "disputes": []}}})
    assert reveal_gas_by_model(result) == {"lenet": 591_336}
    html, _ = render(result)
    section = html.split("Data availability", 1)[1]
    assert "64→16→10" in section
    assert human(rows[0]['calldata_gas']) in section and 'forced reveal gas' in section
