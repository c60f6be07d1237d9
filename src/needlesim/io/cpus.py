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
    """Threads to solve independent chunks of patients on: ``NEEDLESIM_THREADS`` when set,
    else ``PJRT_NPROC`` when set (a local Dask worker of ``needlesim cohort`` is given one
    core this way, so its chunks run one after the other instead of oversubscribing),
    else one per available CPU; never more than the available CPUs."""
    cpus = available_cpus()
    for name in ("NEEDLESIM_THREADS", "PJRT_NPROC"):
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return min(cpus, int(value))
    return cpus
