"""Measuring verification cost: the sweep (runner), its arithmetic (costs), the targets, the
anchors it is compared with, and the report."""

from vcp.bench.costs import Prices
from vcp.bench.runner import FULL, QUICK, BenchConfig, run_bench

__all__ = ["BenchConfig", "FULL", "Prices", "QUICK", "run_bench"]
