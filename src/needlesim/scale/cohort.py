"""Virtual trials on Dask: batches of patients evaluated and written by the workers.

:func:`run_cohort` splits ``n`` patients into batches (:mod:`.batches`), submits one
task per batch that is not yet on disk, and waits for the tiny records the
tasks return. Each task samples its batch, evaluates every arm, and writes
``out_dir/part-bNNNNN.parquet`` itself (:mod:`.parts`): no patient data passes
through the scheduler or the client.

Robustness:

* a task whose worker dies is rescheduled by Dask; a task that raises is retried
  (``retries``); after the run every part is checked and missing ones are run
  again (``rounds``), so a lost worker loses no patients;
* a re-run into the same folder checks each existing part (readable, right
  batch, config hash and patients) and evaluates only what is missing;
* results do not depend on the number of workers or the order of completion
  (patient ``i``'s draws depend only on the study seed and ``i``).
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from ..config import ConfigError, Problem, Study
from ..io import config_hash, write_json
from ..io.progress import progress_bar
from .arms import ArmsStudy, study_arms
from .batches import Batch, plan_batches, sample_batch
from .evaluator import (
    OBSERVABLES,
    BatchEvaluator,
    evaluator_name,
    is_test_double,
    normalise_outcomes,
    resolve_evaluator,
)
from .executor import INLINE, open_client
from .parts import part_is_complete, part_path, write_part

DEFAULT_BATCH_SIZE = 1000
MANIFEST = "cohort.json"


@dataclass(frozen=True)
class BatchJob:
    """Everything a worker needs to produce one part (small; sent with each task)."""

    study: Study
    seed: int
    config_hash: str
    out_dir: str
    evaluator: BatchEvaluator


def evaluate_batch_frame(job: BatchJob, batch: Batch) -> pd.DataFrame:
    """The rows of one batch: every arm's outcomes for the batch's sampled patients.

    Columns: ``arm`` (arms studies only), ``patient_id``, ``day``, every observable,
    ``seed``, ``config_hash``; sorted by arm, patient and day.
    """
    patients = sample_batch(job.study.population, batch, job.seed)
    seeds = patients["seed"].to_numpy(dtype=np.int64)
    frames = []
    for arm in study_arms(job.study):
        raw = job.evaluator(patients, arm.protocol, None)
        out = normalise_outcomes(raw, patients)
        out["seed"] = seeds[out["patient_id"].to_numpy() - batch.first_id]
        out["config_hash"] = job.config_hash
        if isinstance(job.study, ArmsStudy):
            out.insert(0, "arm", arm.name)
        frames.append(out)
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def run_batch(job: BatchJob, batch: Batch) -> dict[str, Any]:
    """Task body (runs on a worker): evaluate one batch and write its part; return a record."""
    frame = evaluate_batch_frame(job, batch)
    path = part_path(Path(job.out_dir), batch.index)
    n_arms = len(study_arms(job.study))
    meta = {
        "batch": batch.index,
        "first_id": batch.first_id,
        "patients": batch.size,
        "rows": len(frame),
        "arms": n_arms,
        "config_hash": job.config_hash,
        "needlesim_version": __version__,
    }
    rows = write_part(frame, path, meta)
    return {"batch": batch.index, "rows": rows, "path": str(path), "worker": _worker_name()}


def _worker_name() -> str:
    """The Dask worker running this task, or ``host:pid`` outside a worker."""
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class CohortResult:
    """What :func:`run_cohort` did."""

    out_dir: Path
    n: int
    batch_size: int
    n_batches: int
    config_hash: str
    evaluated: tuple[int, ...]
    skipped: tuple[int, ...]
    elapsed_s: float
    summary_path: Path | None
    records: tuple[dict[str, Any], ...] = field(default=(), repr=False)

    @property
    def patients_per_s(self) -> float:
        """Patients evaluated per second in this call (skipped batches excluded)."""
        evaluated = sum(r["patients"] for r in self.records)
        return evaluated / self.elapsed_s if self.elapsed_s > 0 else float("nan")


def effective_study(study: Study, n: int | None) -> Study:
    """The study with ``population.n`` set to ``n`` (its own n if None)."""
    if n is None:
        return study
    if not 1 <= n <= 10_000_000:
        raise ConfigError([Problem("--n", f"{n} is out of range; allowed: 1 to 10000000")])
    population = study.population.model_copy(update={"n": int(n)})
    return study.model_copy(update={"population": population})


def _check_manifest(out_dir: Path, manifest: dict[str, Any]) -> None:
    """Refuse to mix two different runs in one folder."""
    path = out_dir / MANIFEST
    if not path.is_file():
        return
    import json

    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    keys = ("config_hash", "n", "batch_size", "evaluator")
    changed = [k for k in keys if old.get(k) != manifest[k]]
    if changed:
        what = ", ".join(f"{k}: {old.get(k)!r} -> {manifest[k]!r}" for k in changed)
        raise ConfigError(
            [
                Problem(
                    "--out",
                    f"{out_dir} holds another cohort run ({what}); use another folder "
                    "or the same study, --n, --batch-size and evaluator",
                )
            ]
        )


def _missing(batches: list[Batch], out_dir: Path, chash: str, n_arms: int) -> list[Batch]:
    return [
        b for b in batches if not part_is_complete(part_path(out_dir, b.index), b, chash, n_arms)
    ]


def run_cohort(
    study: Study,
    n: int | None,
    out_dir: str | Path,
    *,
    workers: int | None = None,
    scheduler: Any = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    evaluator: BatchEvaluator | str | None = None,
    retries: int = 3,
    rounds: int = 2,
    progress: bool = True,
    summary: bool = True,
    plots: bool = True,
) -> CohortResult:
    """Run ``n`` virtual patients of ``study`` (every arm) and write them to ``out_dir``.

    ``scheduler``: ``None`` (a local cluster of ``workers`` processes), ``"inline"``,
    a scheduler address or a :class:`distributed.Client` (see
    :mod:`needlesim.scale.executor`). ``evaluator``: a :data:`BatchEvaluator`, a
    ``module:attr`` name, or ``None`` for the model's. ``retries``: Dask retries of a
    task that raises; ``rounds``: passes over missing parts after the first.

    Writes the parts, ``cohort.json`` (what was run), ``summary.json`` and the
    plots (and, for an arms study, ``comparison.json`` and ``effects.png``).
    """
    if batch_size < 1:
        raise ConfigError([Problem("--batch-size", f"{batch_size} is not allowed; must be >= 1")])
    if workers is not None and workers < 1:
        raise ConfigError([Problem("--workers", f"{workers} is not allowed; must be >= 1")])
    study = effective_study(study, n)
    fn = resolve_evaluator(evaluator)
    out = Path(out_dir)
    chash = config_hash(study)
    seed = study.simulation.seed
    total = study.population.n
    batches = plan_batches(total, batch_size)
    arms = study_arms(study)
    manifest: dict[str, Any] = {
        "study": study.name,
        "n": total,
        "batch_size": batch_size,
        "n_batches": len(batches),
        "seed": seed,
        "config_hash": chash,
        "evaluator": evaluator_name(fn),
        "test_double": is_test_double(fn),
        "arms": [a.name for a in arms] if isinstance(study, ArmsStudy) else None,
        "needlesim_version": __version__,
    }
    _check_manifest(out, manifest)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / MANIFEST, {**manifest, "study_config": study.model_dump(mode="json")})

    start = time.perf_counter()
    todo = _missing(batches, out, chash, len(arms))
    skipped = tuple(sorted(set(b.index for b in batches) - {b.index for b in todo}))
    job = BatchJob(study, seed, chash, str(out.resolve()), fn)
    records: list[dict[str, Any]] = []
    if todo:
        records = _execute(
            job,
            todo,
            batches,
            out,
            chash,
            len(arms),
            workers,
            scheduler,
            retries,
            rounds,
            progress,
            len(skipped),
        )
    elapsed = time.perf_counter() - start

    summary_path = None
    if summary:
        summary_path = _write_summary(out, study, manifest, plots)
    return CohortResult(
        out_dir=out,
        n=total,
        batch_size=batch_size,
        n_batches=len(batches),
        config_hash=chash,
        evaluated=tuple(sorted(r["batch"] for r in records)),
        skipped=skipped,
        elapsed_s=elapsed,
        summary_path=summary_path,
        records=tuple(records),
    )


def _execute(
    job: BatchJob,
    todo: list[Batch],
    batches: list[Batch],
    out: Path,
    chash: str,
    n_arms: int,
    workers: int | None,
    scheduler: Any,
    retries: int,
    rounds: int,
    progress: bool,
    done_before: int,
) -> list[dict[str, Any]]:
    """Run the missing batches (then re-check and re-run what is still missing)."""
    records: dict[int, dict[str, Any]] = {}
    errors: list[str] = []
    with progress_bar(progress) as bar:
        task = bar.add_task("batches", total=len(batches), completed=done_before)
        if scheduler == INLINE:
            for batch in todo:
                records[batch.index] = {**run_batch(job, batch), "patients": batch.size}
                bar.advance(task)
            return [records[i] for i in sorted(records)]
        from distributed import as_completed

        with open_client(workers, scheduler) as client:
            for round_ in range(1 + max(rounds, 0)):
                token = uuid.uuid4().hex[:8]
                futures = {
                    client.submit(
                        run_batch,
                        job,
                        b,
                        key=f"needlesim-batch-{b.index:05d}-{token}",
                        retries=retries,
                    ): b
                    for b in todo
                }
                for future in as_completed(futures):
                    batch = futures[future]
                    if future.status == "finished":
                        records[batch.index] = {**future.result(), "patients": batch.size}
                        bar.advance(task)
                    else:
                        errors.append(f"batch {batch.index}: {future.exception()!r}")
                    future.release()
                todo = _missing(todo, out, chash, n_arms)
                if not todo:
                    break
                bar.console.print(
                    f"[yellow]{len(todo)} batch(es) missing after round {round_ + 1}; re-running"
                )
    if todo:
        detail = "; ".join(errors[:3])
        raise RuntimeError(
            f"{len(todo)} batch(es) could not be completed ({[b.index for b in todo][:10]}): "
            f"{detail}"
        )
    return [records[i] for i in sorted(records)]


def _write_summary(out: Path, study: Study, manifest: dict[str, Any], plots: bool) -> Path:
    from .summary import summarize_cohort

    header = {k: manifest[k] for k in manifest if k != "n_batches"}
    path, _ = summarize_cohort(out, header, plots=plots)
    if isinstance(study, ArmsStudy):
        from .compare import compare_arms, plot_effects

        effects = compare_arms(
            out, reference=study.reference_arm, seed=study.simulation.seed, observables=OBSERVABLES
        )
        records = [
            {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()}
            for r in effects.to_dict(orient="records")
        ]
        write_json(
            out / "comparison.json",
            {**header, "reference": study.reference_arm, "method": _METHOD, "effects": records},
        )
        if plots and not effects.empty:
            plot_effects(effects, out / "effects.png", f"{study.name}: effect sizes")
    return path


_METHOD = (
    "paired over the same virtual patients; diff = mean(arm) - mean(reference); "
    "smd = diff / sqrt((sd_arm^2 + sd_reference^2) / 2); percentile bootstrap 95% intervals "
    "(2000 resamples of patients, or of 2000 equal groups of consecutive patients beyond "
    "2000 patients)"
)
