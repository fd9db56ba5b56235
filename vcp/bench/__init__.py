"""Measuring verification cost: the sweep (runner), its arithmetic (costs), the targets, the
anchors it is compared with, and the report."""

from vcp.bench.costs import Prices
from vcp.bench.runner import FULL, QUICK, BenchConfig, run_bench
from vcp.bench.timing import Timing, measure

__all__ = ["BenchConfig", "FULL", "Prices", "QUICK", "Timing", "measure", "run_bench"]
