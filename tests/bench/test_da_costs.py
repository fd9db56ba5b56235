"""The bench's data-availability rows: each model's bundle published in calldata and fetched back,
its gas held to the calldata it carries, and the report's table priced per chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vcp_toolkit.bench.da_costs import cnn_bundle, da_rows, dense_bundle, reveal_gas_by_model
from vcp_toolkit.bench.output import human
from vcp_toolkit.bench.report import render
from vcp_toolkit.chain.blob_encoding import blobs_needed
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
    for row in rows:  # no chain with blobs in this call: each row says so rather than inventing a figure
        assert row["blob"]["supported"] is False and row["blob"]["why"].startswith("not supported on this chain")


@pytest.mark.node
def test_blob_rows_measured_on_anvil():
    """The same bundles in blobs on Anvil: whole blobs of blob gas, the anchor call's gas, and the
    report's blob table priced at the fee parameters' blob base fee."""
    with open_chain("embedded") as chain, open_chain("anvil") as anvil:
        rows = da_rows(chain, ((64, 16, 10),), ("lenet",), blob_chain=anvil)
    for row in rows:
        blob = row["blob"]
        assert blob["supported"] and blob["chain"] == "anvil" and blob["hardfork"] == "osaka"
        assert blob["blobs"] == blobs_needed([len(b) for b in (dense_bundle((64, 16, 10)) if row["kind"] == "dense"
                                                                 else cnn_bundle("lenet"))])
        assert blob["blob_gas"] == 131_072 * blob["blobs"]
        assert 21_000 < blob["gas"] < 21_000 + 8_000 * row["objects"]  # per item claimed, whatever its size
    # The bytes are not in calldata: lenet's 10 KB cost the anchor call a fraction of their calldata gas.
    assert rows[1]["blob"]["gas"] < rows[1]["calldata_gas"] / 3
    result = json.loads(FIXTURE.read_text())
    result.update(da=rows)
    html, _ = render(result)
    section = html.split("In EIP-4844 blobs", 1)[1]
    assert "measured on anvil (osaka)" in section and human(rows[1]["blob"]["gas"]) in section
    assert "62,500,000 wei per blob gas" in section
    with open_chain("embedded") as chain, open_chain("ganache") as ganache:
        (ganache_row,) = da_rows(chain, ((64, 16, 10),), (), blob_chain=ganache)
    assert "not supported on this chain" in ganache_row["blob"]["why"] and "Cancun" in ganache_row["blob"]["why"]


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
