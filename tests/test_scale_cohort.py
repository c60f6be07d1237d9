"""Cohorts on Dask: the same data whatever the workers, no patient lost to a dead worker,
re-runs skip what is written. The evaluator is the analytic test double (not the model)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from needlesim.config import ConfigError, Population, Study
from needlesim.scale import (
    list_parts,
    plan_batches,
    read_cohort,
    run_cohort,
    sample_batch,
)
from needlesim.scale.evaluator import OBSERVABLES, is_test_double
from needlesim.testing.analytic import FOLLOW_UP_DAYS, AnalyticEvaluator, analytic_evaluator

distributed = pytest.importorskip("distributed")

N = 1000
BATCH = 100
DAYS = len(FOLLOW_UP_DAYS)
STUDY = Study(
    name="cohort-test",
    population=Population(fitzpatrick=[2, 3, 4, 5], indication="atrophic_acne_scars"),
    protocol={"device": {"type": "pen", "needle_length_mm": 1.0}, "sessions": 3},
    simulation={"seed": 11},
)


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[distributed.LocalCluster, distributed.Client]]:
    """One local cluster for the module: 2 worker processes, one thread each."""
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as lc,
        distributed.Client(lc) as client,
    ):
        yield lc, client


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The cohort evaluated in this process, without Dask."""
    out = tmp_path_factory.mktemp("inline")
    run_cohort(STUDY, N, out, scheduler="inline", batch_size=BATCH,
               evaluator=analytic_evaluator, progress=False, plots=False)  # fmt: skip
    return read_cohort(out)


def _set_workers(lc: distributed.LocalCluster, client: distributed.Client, k: int) -> None:
    lc.scale(k)
    deadline = time.monotonic() + 60
    while len(client.scheduler_info()["workers"]) != k:
        assert time.monotonic() < deadline, "cluster did not rescale"
        time.sleep(0.05)


def _part_tables(out: Path) -> list[object]:
    return [pq.read_table(p) for p in list_parts(out)]


def test_batches_are_reproducible_and_independent() -> None:
    batches = plan_batches(N, BATCH)
    assert len(batches) == 10 and batches[-1].first_id == 900
    assert plan_batches(1001, BATCH)[-1].size == 1
    a = sample_batch(STUDY.population, batches[3], seed=11)
    b = sample_batch(STUDY.population, batches[3], seed=11)
    c = sample_batch(STUDY.population, batches[4], seed=11)
    pd.testing.assert_frame_equal(a, b)
    assert a["patient_id"].tolist() == list(range(300, 400))
    assert not np.allclose(a["age_years"].to_numpy(), c["age_years"].to_numpy())
    assert a["seed"].nunique() == BATCH


def test_same_parquet_content_with_1_and_2_workers(cluster, reference, tmp_path) -> None:
    lc, client = cluster
    frames = {}
    for k in (1, 2):
        _set_workers(lc, client, k)
        out = tmp_path / f"w{k}"
        result = run_cohort(STUDY, N, out, scheduler=client, batch_size=BATCH,
                            evaluator=analytic_evaluator, progress=False, plots=False)  # fmt: skip
        assert result.evaluated == tuple(range(10)) and result.skipped == ()
        assert len({r["worker"] for r in result.records}) == k
        frames[k] = read_cohort(out)
        assert [p.name for p in list_parts(out)] == [f"part-b{b:05d}.parquet" for b in range(10)]
    one, two = frames[1], frames[2]
    assert list(one.columns) == ["patient_id", "day", *OBSERVABLES, "seed", "config_hash"]
    assert len(one) == N * DAYS and one["patient_id"].nunique() == N
    pd.testing.assert_frame_equal(one, two)
    pd.testing.assert_frame_equal(one, reference)
    parts1, parts2 = _part_tables(tmp_path / "w1"), _part_tables(tmp_path / "w2")
    assert all(a.equals(b) for a, b in zip(parts1, parts2, strict=True))


def test_killed_worker_loses_no_patient(cluster, reference, tmp_path) -> None:
    lc, client = cluster
    _set_workers(lc, client, 2)
    pids_before = set(client.run(os.getpid).values())
    log = tmp_path / "log"
    # The first attempt of the batch holding patient 450 (batch 4) kills its worker process.
    evaluator = AnalyticEvaluator(delay_s=0.05, log_dir=str(log), crash_once_patient=450)
    out = tmp_path / "killed"
    result = run_cohort(STUDY, N, out, scheduler=client, batch_size=BATCH, evaluator=evaluator,
                        progress=False, plots=False)  # fmt: skip
    assert (log / "crashed").exists(), "the worker was not killed"
    client.wait_for_workers(2, timeout=60)
    assert set(client.run(os.getpid).values()) != pids_before  # a new worker process
    frame = read_cohort(out)
    counts = frame.groupby("patient_id").size()
    assert counts.index.tolist() == list(range(N)) and (counts == DAYS).all()
    pd.testing.assert_frame_equal(frame, reference)
    assert result.evaluated == tuple(range(10))


def test_rerun_skips_written_batches_and_redoes_damaged_ones(tmp_path) -> None:
    out, log = tmp_path / "rerun", tmp_path / "log"
    evaluator = AnalyticEvaluator(log_dir=str(log))
    run_cohort(STUDY, N, out, scheduler="inline", batch_size=BATCH, evaluator=evaluator,
               progress=False, plots=False)  # fmt: skip
    calls = len(list(log.glob("eval-*")))
    assert calls == 10
    mtimes = {p.name: p.stat().st_mtime_ns for p in list_parts(out)}

    again = run_cohort(STUDY, N, out, scheduler="inline", batch_size=BATCH, evaluator=evaluator,
                       progress=False, plots=False)  # fmt: skip
    assert again.evaluated == () and again.skipped == tuple(range(10))
    assert len(list(log.glob("eval-*"))) == calls
    assert {p.name: p.stat().st_mtime_ns for p in list_parts(out)} == mtimes

    before = set(log.glob("eval-*"))
    (out / "part-b00003.parquet").unlink()
    damaged = out / "part-b00007.parquet"
    damaged.write_bytes(damaged.read_bytes()[:200])  # a truncated file
    third = run_cohort(STUDY, N, out, scheduler="inline", batch_size=BATCH, evaluator=evaluator,
                       progress=False, plots=False)  # fmt: skip
    assert third.evaluated == (3, 7)
    new = sorted(p.name.split("-")[1] for p in set(log.glob("eval-*")) - before)
    assert new == ["300", "700"]  # first patient of batches 3 and 7
    assert read_cohort(out)["patient_id"].nunique() == N


def test_a_folder_holds_one_run(tmp_path) -> None:
    out = tmp_path / "one"
    run_cohort(STUDY, 200, out, scheduler="inline", batch_size=BATCH,
               evaluator=analytic_evaluator, progress=False, summary=False)  # fmt: skip
    with pytest.raises(ConfigError, match="--out"):
        run_cohort(STUDY, 200, out, scheduler="inline", batch_size=50,
                   evaluator=analytic_evaluator, progress=False, summary=False)  # fmt: skip
    with pytest.raises(ConfigError, match="--batch-size"):
        run_cohort(STUDY, 200, tmp_path / "x", scheduler="inline", batch_size=0,
                   evaluator=analytic_evaluator)  # fmt: skip


def test_summary_matches_the_data(tmp_path) -> None:
    out = tmp_path / "summary"
    result = run_cohort(STUDY, 500, out, scheduler="inline", batch_size=BATCH,
                        evaluator=analytic_evaluator, progress=False)  # fmt: skip
    assert result.summary_path == out / "summary.json"
    import json

    summary = json.loads(result.summary_path.read_text())
    assert summary["test_double"] is True and summary["n"] == 500
    frame = read_cohort(out)
    stats = pd.DataFrame(summary["stats"])
    assert set(stats["observable"]) == set(OBSERVABLES)
    assert (stats["n"] == 500).all() and len(stats) == len(OBSERVABLES) * DAYS
    row = stats[(stats["observable"] == "dermal_collagen_change_pct")].iloc[-1]
    values = frame.loc[frame["day"] == row["day"], "dermal_collagen_change_pct"]
    assert row["mean"] == pytest.approx(values.mean())
    assert row["sd"] == pytest.approx(values.std())
    assert row["p2_5"] == pytest.approx(values.quantile(0.025))
    assert row["p97_5"] == pytest.approx(values.quantile(0.975))
    for name in ("histograms.png", "violins.png", "cohort.json"):
        assert (out / name).stat().st_size > 1000 or name == "cohort.json"
    assert (out / "histograms.png").read_bytes()[:4] == b"\x89PNG"


def test_a_test_double_is_known_by_its_own_flag_not_by_its_module() -> None:
    class Invented:  # lives in a test module, not in needlesim.testing
        is_model_result = False

        def __call__(self, patients, protocol, overrides=None):  # type: ignore[no-untyped-def]
            return analytic_evaluator(patients, protocol, overrides)

    def unflagged(patients, protocol, overrides=None):  # type: ignore[no-untyped-def]
        return analytic_evaluator(patients, protocol, overrides)

    assert is_test_double(analytic_evaluator) and is_test_double(AnalyticEvaluator(delay_s=0.1))
    assert is_test_double(Invented())
    assert not is_test_double(unflagged)  # same numbers, but it does not say so: a model
