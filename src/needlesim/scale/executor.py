"""Where batches run: in this process, on a local Dask cluster, or on any Dask scheduler.

``scheduler`` is one of

* ``None``: a :class:`distributed.LocalCluster` started for the call and closed
  after it (worker processes, one thread each; ``workers`` of them, default: the
  CPUs available to this process);
* ``"inline"``: no Dask, batches run one after the other in this process (for
  debugging, small jobs, or one process that owns a GPU);
* an address (``"tcp://host:8786"``): an existing cluster, e.g. one started by
  ``dask scheduler`` / ``dask worker`` or by dask-jobqueue on a batch queue;
* a :class:`distributed.Client`: used as it is and left open.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from ..io.cpus import available_cpus
from ..io.progress import progress_bar

if TYPE_CHECKING:
    from distributed import Client

T = TypeVar("T")
R = TypeVar("R")

INLINE = "inline"

_SINGLE_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    # the size of the XLA CPU client's intra-op thread pool (default: every CPU); with
    # one worker per core a second thread only adds synchronisation (measured on the
    # cohort model: 25 % more CPU time per patient with 2 threads on 2 cores)
    "PJRT_NPROC": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false",
}


def worker_env() -> dict[str, str]:
    """Environment of local workers: one thread per worker for BLAS and XLA.

    Variables already set in this process are kept (the user's choice wins).
    """
    return {k: os.environ.get(k, v) for k, v in _SINGLE_THREAD_ENV.items()}


@contextmanager
def open_client(workers: int | None = None, scheduler: Any = None) -> Iterator[Client]:
    """A Dask client for ``scheduler`` (see the module docstring); closed on exit if opened here.

    ``workers`` only sizes a local cluster; with an address or a client the
    cluster's own workers are used.
    """
    from distributed import Client, LocalCluster

    if isinstance(scheduler, Client):
        yield scheduler
        return
    if isinstance(scheduler, str):
        with Client(scheduler) as client:
            yield client
        return
    if scheduler is not None:
        raise TypeError(f"scheduler must be None, an address or a Client, got {scheduler!r}")
    n_workers = workers if workers is not None else available_cpus()
    if n_workers < 1:
        raise ValueError(f"workers must be >= 1, got {n_workers}")
    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
            env=worker_env(),
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def map_ordered(
    fn: Callable[[T], R],
    items: Sequence[T],
    *,
    scheduler: Any = INLINE,
    workers: int | None = None,
    retries: int = 2,
    progress: bool = False,
    description: str = "batches",
) -> list[R]:
    """``[fn(item) for item in items]``, run on ``scheduler``; results in input order.

    For small results (e.g. Sobol outputs); cohorts write their results on the
    workers instead (:func:`needlesim.scale.run_cohort`).
    """
    results: dict[int, R] = {}
    with progress_bar(progress) as bar:
        task = bar.add_task(description, total=len(items))
        if scheduler == INLINE:
            for i, item in enumerate(items):
                results[i] = fn(item)
                bar.advance(task)
        else:
            from distributed import as_completed

            with open_client(workers, scheduler) as client:
                futures = [client.submit(fn, item, retries=retries, pure=False) for item in items]
                index = {f.key: i for i, f in enumerate(futures)}
                for future in as_completed(futures):
                    results[index[future.key]] = future.result()
                    bar.advance(task)
                    future.release()
    return [results[i] for i in range(len(items))]
