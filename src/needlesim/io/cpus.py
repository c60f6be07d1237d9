"""The CPUs this process may use."""

from __future__ import annotations

import os


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def solver_threads() -> int:
    """Threads to solve independent chunks of patients on: one per available CPU, or
    ``PJRT_NPROC`` when it is set (a local Dask worker of ``needlesim cohort`` is given
    one core this way, so its chunks run one after the other instead of oversubscribing)."""
    limit = os.environ.get("PJRT_NPROC", "")
    cpus = available_cpus()
    return max(1, min(cpus, int(limit))) if limit.isdigit() else cpus
