"""The bench's CNN runs: the narrowed CNNs the zk baseline falls back to, the inference row (no time
asserted) and the search for the largest circuit that fits, with EZKL's settings and the machine's
memory stood in for."""

from __future__ import annotations

import numpy as np
import pytest

from vcp_toolkit.bench import cnn_runs
from vcp_toolkit.bench.cnn_report import cnn_runs_section
from vcp_toolkit.bench.narrowed import narrowed
from vcp_toolkit.errors import InvalidModel, ZkError
from vcp_toolkit.model.builtin.graphs import builtin_graph
from vcp_toolkit.model.datasets import load_mnist_split


@pytest.fixture(scope="module")
def lenet_and_images():
    graph = builtin_graph("lenet")
    return graph, graph.quantize_input(load_mnist_split().x_test[:64])


def test_narrowing_to_the_whole_keeps_every_integer(lenet_and_images):
    graph, x = lenet_and_images
    whole = narrowed(graph, 1.0)
    assert whole.param_count == graph.param_count
    for name, tensor in graph.run(x).trace.items():
        assert np.array_equal(whole.run(x).trace[name], tensor)


def test_a_narrowed_cnn_keeps_the_first_channels_of_each_layer(lenet_and_images):
    graph, x = lenet_and_images
    half = narrowed(graph, 0.5)
    full_trace, half_trace = graph.run(x).trace, half.run(x).trace
    first = graph.nodes[0].name  # the first conv reads the whole input: its kept channels are unchanged
    assert half_trace[first].shape[1] == 3 and np.array_equal(half_trace[first], full_trace[first][:, :3])
    shapes = [half_trace[n.name].shape[1] for n in half.nodes]
    assert shapes == [3, 3, 8, 8, 200, 60, 42, 10]
    assert half.param_count < graph.param_count / 3 and half.metadata["fraction"] == 0.5


@pytest.mark.parametrize("fraction", [0.0, -1.0, 1.5])
def test_narrowing_refuses_fractions_outside_the_unit_interval(fraction):
    with pytest.raises(InvalidModel, match="fraction"):
        narrowed(builtin_graph("lenet"), fraction)


def test_narrowing_refuses_residual_graphs():
    with pytest.raises(InvalidModel, match="residual"):
        narrowed(builtin_graph("rescnn"), 0.5)


def test_inference_row_is_exact_and_complete():
    row = cnn_runs.inference_row("lenet", repeats=1)
    assert row["batch"] == 256 and row["batch_exact"] is True
    assert row["fixed_point_s"] > 0 and row["onnxruntime_s"] > 0
    assert row["ratio"] == pytest.approx(row["fixed_point_s"] / row["onnxruntime_s"])


def _sizes_by_params(graph):
    """Stand-in settings: a circuit of 2**20 rows for the whole LeNet, half as many per halving."""
    logrows = 20 if graph.param_count > 50_000 else 19 if graph.param_count > 20_000 else 18
    return {"logrows": logrows, "rows": 2**logrows - 1000}


def test_the_search_records_what_does_not_fit_and_stops_at_the_largest_that_does(monkeypatch):
    monkeypatch.setattr(cnn_runs, "zk_settings", _sizes_by_params)
    monkeypatch.setattr(cnn_runs, "available_memory", lambda: 20 * 2**30)
    proven_graphs = []

    def chain_bench(graph):
        proven_graphs.append(graph.name)
        if graph.param_count > 20_000:
            raise ZkError("EZKL's process died after 3 s, most likely killed for lack of memory")
        return {"prove_s": {"median": 2.0}, "prove_peak_rss_mb": 4096.0, "proof_bytes": 4000, "gas_per_tx": 500_000,
                "verifier_bytes": 20_000}

    attempts = cnn_runs.zk_attempts("lenet", chain_bench)
    assert [a["fraction"] for a in attempts] == [1.0, 0.75, 0.5]
    assert not attempts[0]["proven"] and "needs about 25 GiB" in attempts[0]["why"]  # never tried: 2**20 rows
    assert not attempts[1]["proven"] and "lack of memory" in attempts[1]["why"]  # tried, killed
    assert attempts[2]["proven"] and attempts[2]["gas_per_tx"] == 500_000
    assert proven_graphs == [attempts[1]["graph"], attempts[2]["graph"]]
    html = cnn_runs_section({"cnn": {"inference": [], "zk": [{"model": "lenet", "attempts": attempts}]}})
    assert "not proven: needs about 25 GiB" in html and "500,000" in html


def test_no_cnn_runs_no_section():
    assert cnn_runs_section({}) == "" and cnn_runs_section({"cnn": {}}) == ""
