"""Median-of-repeats timing, shared by the demo and the benchmark."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Timing:
    """Median seconds per call over ``repeats`` runs after ``warmup`` runs, with the spread."""

    median_s: float
    min_s: float
    max_s: float
    repeats: int


def measure(fn: Callable[[], object], repeats: int = 51, warmup: int = 5) -> Timing:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return Timing(statistics.median(samples), min(samples), max(samples), repeats)
