"""Cohort throughput: patients per second with 1 and 2 local Dask workers.

    python benchmarks/bench_cohort.py [--n 100000] [--batch-size 10000] [--evaluator MOD:ATTR]

The evaluator is the healing model's (``needlesim.studies.evaluate_batch``) when it
exists; otherwise the analytic test double, which measures the plumbing only
(sampling, evaluation call, Parquet parts, scheduling): the table title says which.
Cluster start-up and a warm-up batch on every worker (JIT compilation) are not
timed; the timed run writes every part but no summary.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from needlesim.config import Population, Protocol, Study
from needlesim.scale import ModelUnavailableError, plan_batches, resolve_evaluator, run_cohort
from needlesim.scale.batches import sample_batch
from needlesim.scale.evaluator import BatchEvaluator, evaluator_name, is_test_double
from needlesim.scale.executor import available_cpus, worker_env

# The standard course: a 1.5 mm roller, 3 sessions 4 weeks apart (median protocol of the
# acne-scar needling review, Harris et al. 2015).
STANDARD = Study(
    name="standard-course",
    population=Population(fitzpatrick=[1, 2, 3, 4, 5, 6], indication="atrophic_acne_scars"),
    protocol=Protocol.model_validate(
        {"device": {"type": "roller", "needle_length_mm": 1.5}, "sessions": 3, "interval_days": 28}
    ),
    simulation={"seed": 2026},
)


def _warm_up(evaluator: BatchEvaluator, batch_size: int) -> bool:
    """Evaluate one full-size batch on this worker (compiles the model for that shape)."""
    batch = plan_batches(batch_size, batch_size)[0]
    patients = sample_batch(STANDARD.population, batch, seed=0)
    evaluator(patients, STANDARD.protocol, None)
    return True


def measure(workers: int, n: int, batch_size: int, evaluator: BatchEvaluator) -> float:
    """Seconds to run ``n`` patients on a fresh local cluster of ``workers`` processes."""
    from distributed import Client, LocalCluster

    out = Path(tempfile.mkdtemp(prefix=f"bench-cohort-{workers}w-"))
    try:
        with (
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                         dashboard_address=None, silence_logs=logging.ERROR,
                         env=worker_env()) as cluster,
            Client(cluster) as client,
        ):  # fmt: skip
            client.run(_warm_up, evaluator, batch_size)
            start = time.perf_counter()
            run_cohort(STANDARD, n, out, scheduler=client, batch_size=batch_size,
                       evaluator=evaluator, progress=False, summary=False)  # fmt: skip
            return time.perf_counter() - start
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="patients per run")
    parser.add_argument("--batch-size", type=int, default=10_000, help="patients per batch")
    parser.add_argument("--evaluator", default=None, help="module:attr (default: the model)")
    args = parser.parse_args()

    fallback = False
    try:
        evaluator = resolve_evaluator(args.evaluator)
    except ModelUnavailableError:
        evaluator = resolve_evaluator("needlesim.scale.testing:analytic_evaluator")
        fallback = True
    name = evaluator_name(evaluator)
    title = f"needlesim cohort throughput: {STANDARD.name}, evaluator {name}"
    if is_test_double(evaluator):
        title += (
            "\nANALYTIC TEST DOUBLE"
            + (" (the model is not available yet)" if fallback else "")
            + ": measures the plumbing only, not the model"
        )
    rows = []
    for workers in (1, 2):
        seconds = measure(workers, args.n, args.batch_size, evaluator)
        rows.append((workers, seconds, args.n / seconds))
    table = Table(title=title)
    for col in ("workers", "patients", "batches", "seconds", "patients/s", "vs 1 worker"):
        table.add_column(col, justify="right")
    batches = len(plan_batches(args.n, args.batch_size))
    for workers, seconds, rate in rows:
        table.add_row(str(workers), f"{args.n:,}", str(batches), f"{seconds:.2f}",
                      f"{rate:,.0f}", f"{rate / rows[0][2]:.2f}x")  # fmt: skip
    console = Console()
    console.print(table)
    console.print(f"CPUs available to this process: {available_cpus()}")


if __name__ == "__main__":
    main()
