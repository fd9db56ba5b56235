"""The built-in models (CNNs and the ViT) by name: the committed quantized graphs (the canonical fixed-point models) and
how they relate to re-quantizing the committed ONNX files on this machine."""

from __future__ import annotations

import numpy as np
import pytest

from vcp_toolkit.errors import InvalidInput
from vcp_toolkit.model.builtin.graphs import builtin_graph, onnx_path, quantize_builtin
from vcp_toolkit.model.datasets import load_mnist_split
from vcp_toolkit.model.graph.files import graph_bytes

# Fixed-point correct out of the 1,000 held-out images, of the committed graph files: integers, the
# same on every machine. Run of 2026-11-23: `.venv/bin/python -m pytest tests/model/graph/test_graph_builtin.py`.
HELD_OUT_CORRECT = {"lenet": 981, "rescnn": 985, "vit": 981}


@pytest.mark.parametrize("name", sorted(HELD_OUT_CORRECT))
def test_committed_graph_accuracy_is_exact(name):
    split = load_mnist_split()
    graph = builtin_graph(name)
    assert builtin_graph(name) is graph  # cached
    assert int(np.sum(graph.predict(split.x_test) == split.y_test)) == HELD_OUT_CORRECT[name]
    assert graph.metadata["source"] == onnx_path(name).name and graph.name.endswith("-mnist")


@pytest.mark.parametrize("name", sorted(HELD_OUT_CORRECT))
def test_requantizing_gives_the_committed_graph(name):
    """Weights depend on the float weights only: equal everywhere. Scales come from float
    calibration: equal here; elsewhere a rescale may move by one step, so outputs must agree on
    nearly every image instead of bit for bit."""
    fresh, committed = quantize_builtin(name), builtin_graph(name)
    for a, b in zip(fresh.nodes, committed.nodes, strict=True):
        assert (a.name, a.op.kind, a.inputs) == (b.name, b.op.kind, b.inputs)
        if hasattr(a.op, "weight"):
            assert np.array_equal(a.op.weight, b.op.weight)
    x = load_mnist_split().x_test
    assert np.mean(fresh.predict(x) == committed.predict(x)) >= 0.995
    if graph_bytes(fresh) != graph_bytes(committed):
        pytest.xfail("this machine's float calibration differs from the one that made the committed file")


def test_unknown_builtin_name_is_refused():
    with pytest.raises(InvalidInput, match="no built-in model named 'alexnet': pick one of lenet, lenet5, rescnn, vit"):
        builtin_graph("alexnet")
