"""Every configured batch size runs for every model (issue 16): the bench used to skip batches of
wide models over a multiply-add cap because integer matmul had no BLAS; dense layers now use
exact_matmul on float BLAS, so the cap is gone and the result says what was asked for."""

from __future__ import annotations

import pytest

from vcp_toolkit.bench.runner import FULL, BenchConfig, run_bench

WIDE = max(FULL.models, key=lambda widths: sum(a * b for a, b in zip(widths, widths[1:])))


@pytest.mark.chain
def test_the_widest_model_runs_every_batch_size():
    # The old cap (3e8 multiply-adds) allowed this model batches of at most 280.
    macs = sum(a * b for a, b in zip(WIDE, WIDE[1:]))
    batches = (1, 1024)
    assert batches[-1] * macs > 300_000_000
    config = BenchConfig(models=(WIDE,), batch_sizes=batches, chains=("embedded",), dispute_widths=(16,),
                         repeats=1, warmup=0, throughput_singles=1, throughput_batches=1, zk_models=(),
                         schedules=())
    result = run_bench(config)
    model = "->".join(map(str, WIDE))
    ran = sorted(row["batch"] for row in result["rows"] if row["mode"] == "signed_batched" and row["model"] == model)
    assert ran == list(batches)
    assert set(result["config"]) == {"models", "batch_sizes", "chains", "dispute_widths", "repeats", "warmup",
                                     "throughput_singles", "throughput_batches", "zk_models", "zk_repeats", "prices",
                                     "hardfork", "schedules", "cnn_disputes", "cnn_inference", "cnn_zk"}
    big = next(row for row in result["rows"] if row["mode"] == "signed_batched" and row["batch"] == batches[-1])
    assert big["gas_per_inference"] > 0
