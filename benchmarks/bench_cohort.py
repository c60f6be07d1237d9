"""Cohort throughput: patients per second with 1 and 2 local Dask workers.

    python benchmarks/bench_cohort.py [--n 100000] [--batch-size 5000] [--evaluator MOD:ATTR]

The evaluator is the healing model's (``needlesim.studies.evaluate_batch``) when it
exists; otherwise the analytic test double, which measures the plumbing only
(sampling, evaluation call, Parquet parts, scheduling): the table title says which.
Cluster start-up and a warm-up batch on every worker (JIT compilation) are not
timed; the timed run writes every part but no summary. Besides wall-clock rates the
table gives the workers' CPU time (patients per CPU second does not depend on what
else runs on the machine) and the load average around each run.
"""

from __future__ import annotations

import argparse
import logging
import os
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


def _cpu_seconds() -> float:
    """CPU time of this (worker) process so far."""
    return time.process_time()


def measure(
    workers: int, n: int, batch_size: int, evaluator: BatchEvaluator
) -> tuple[float, float]:
    """Wall seconds and worker CPU seconds to run ``n`` patients on a fresh local cluster."""
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
            cpu0 = client.run(_cpu_seconds)
            start = time.perf_counter()
            run_cohort(STANDARD, n, out, scheduler=client, batch_size=batch_size,
                       evaluator=evaluator, progress=False, summary=False)  # fmt: skip
            wall = time.perf_counter() - start
            cpu1 = client.run(_cpu_seconds)
            return wall, sum(cpu1[w] - cpu0[w] for w in cpu1 if w in cpu0)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="patients per run")
    parser.add_argument("--batch-size", type=int, default=5_000, help="patients per batch")
    parser.add_argument("--evaluator", default=None, help="module:attr (default: the model)")
    args = parser.parse_args()

    fallback = False
    try:
        evaluator = resolve_evaluator(args.evaluator)
    except ModelUnavailableError:
        evaluator = resolve_evaluator("needlesim.testing.analytic:analytic_evaluator")
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
    loads = [os.getloadavg()[0]]
    for workers in (1, 2):
        seconds, cpu = measure(workers, args.n, args.batch_size, evaluator)
        rows.append((workers, seconds, args.n / seconds, cpu))
        loads.append(os.getloadavg()[0])
    table = Table(title=title)
    columns = ("workers", "patients", "batches", "seconds", "patients/s", "vs 1 worker",
               "min per 100k", "worker CPU s", "patients/CPU s")  # fmt: skip
    for col in columns:
        table.add_column(col, justify="right")
    batches = len(plan_batches(args.n, args.batch_size))
    for workers, seconds, rate, cpu in rows:
        table.add_row(str(workers), f"{args.n:,}", str(batches), f"{seconds:.2f}",
                      f"{rate:,.0f}", f"{rate / rows[0][2]:.2f}x", f"{1e5 / rate / 60:.1f}",
                      f"{cpu:.1f}", f"{args.n / cpu:,.0f}" if cpu > 0 else "-")  # fmt: skip
    console = Console(width=max(Console().width, 120))
    console.print(table)
    console.print(
        f"CPUs available to this process: {available_cpus()}; batch size {args.batch_size}; "
        f"1-min load average before / after each run: "
        + " / ".join(f"{x:.1f}" for x in loads)
        + " (a load above the number of workers: other processes shared the CPUs)"
    )


if __name__ == "__main__":
    main()
