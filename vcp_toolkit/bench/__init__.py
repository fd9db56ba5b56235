"""Measuring verification cost: the sweep (runner), its arithmetic (costs), the targets, the
anchors it is compared with, and the report."""

from vcp_toolkit.bench.costs import Prices
from vcp_toolkit.bench.runner import FULL, QUICK, BenchConfig, run_bench
from vcp_toolkit.bench.timing import Timing, measure

__all__ = ["BenchConfig", "FULL", "Prices", "QUICK", "Timing", "measure", "run_bench"]
