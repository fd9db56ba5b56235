"""The CNN dispute rows of `vcp bench`: every operator of a built-in CNN gets its costliest fraud
proof measured (each one proven fraud), a reveal within its bound, and the report shows them."""

from __future__ import annotations

import pytest

from vcp_toolkit.bench.graph_disputes import worst_by_kind
from vcp_toolkit.bench.report import render
from vcp_toolkit.bench.runner import BenchConfig, run_bench
from vcp_toolkit.commit.graph_commitments import GraphModelCommitment
from vcp_toolkit.model.builtin.graphs import builtin_graph

pytestmark = pytest.mark.chain


def test_bench_measures_every_operator_of_a_cnn_and_the_report_shows_it():
    config = BenchConfig(models=((8, 4, 2),), batch_sizes=(1,), chains=("embedded",), dispute_widths=(4,),
                         repeats=1, warmup=0, throughput_singles=1, throughput_batches=1, schedules=(),
                         cnn_disputes=("lenet",))
    result = run_bench(config)
    cnn = result["cnn_disputes"]
    assert cnn["chain"] == "embedded" and cnn["schedule"] == "prague"
    lenet = cnn["models"]["lenet"]
    model = GraphModelCommitment(builtin_graph("lenet"))
    assert [r["node"] for r in lenet["disputes"]] == list(range(1, len(model.node_fields) + 1))
    assert all(r["fraud"] for r in lenet["disputes"])
    assert lenet["params"] == model.graph.param_count and lenet["leaves"] == model.leaf_count
    assert lenet["reveal"]["gas"] <= lenet["reveal"]["bound"] and lenet["reveal"]["trace_bytes"] == 9_278
    worst = worst_by_kind(lenet["disputes"])
    assert set(worst) == {"conv", "maxpool", "flatten", "dense"}
    page, _ = render(result)
    section = page.split("CNNs: the costliest fraud proof")[1].split("<h2>")[0]
    for kind, row in worst.items():
        assert kind in section and f"{row['gas']:,}" in section
    no_cnn = {**result, "cnn_disputes": {}}
    assert "Not measured in this run" in render(no_cnn)[0].split("CNNs: the costliest fraud proof")[1].split("<h2>")[0]
