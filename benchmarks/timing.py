"""Timing helpers shared by the benchmarks (not a benchmark: ``run_all.py`` runs ``bench_*``)."""

from __future__ import annotations

import time
from collections.abc import Callable


def timed(fn: Callable[[int], object], repeat: int) -> list[float]:
    """Wall times of ``fn(0)``, ..., ``fn(repeat - 1)`` (each call gets its index, so that
    it can ask a new question each time and no cache answers)."""
    out = []
    for i in range(repeat):
        start = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - start)
    return out
