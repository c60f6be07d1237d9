"""Issue 13: faults lose no result and leave no half-written file that looks whole.

* the whole ``needlesim cohort`` process killed with SIGKILL mid-run, then re-run:
  every patient exactly once, the same Parquet content as an uninterrupted run;
* the output folder filling up (ENOSPC) or turning read-only (EACCES) mid-file:
  no file with a final name is incomplete, earlier files survive, a re-run completes.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

import needlesim.scale.parts as parts_module
from needlesim.config import Study
from needlesim.io import write_json, write_text, write_zarr
from needlesim.scale import run_cohort
from needlesim.scale.batches import plan_batches
from needlesim.scale.parts import list_parts, part_is_complete, read_cohort
from needlesim.testing.analytic import FOLLOW_UP_DAYS, AnalyticEvaluator

REPO = Path(__file__).resolve().parents[1]
N, BATCH = 400, 40
STUDY_DOC = {
    "name": "faults",
    "population": {"n": N, "age_years": {"min": 20, "max": 60}, "fitzpatrick": [2, 3, 4]},
    "protocol": {"device": {"type": "roller", "needle_length_mm": 1.5}, "sessions": 3,
                 "interval_days": 28},
    "simulation": {"seed": 5},
}  # fmt: skip


def _env() -> dict[str, str]:
    env = dict(os.environ)
    paths = [str(REPO / "src"), str(REPO / "tests"), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    return env


def _cohort_args(study: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "needlesim", "cohort", str(study), "--out", str(out),
            "--scheduler", "inline", "--batch-size", str(BATCH), "--evaluator",
            "robust_evaluators:slow", "--no-plots", "--json"]  # fmt: skip


def _parts_equal(a: Path, b: Path) -> None:
    left, right = list_parts(a), list_parts(b)
    assert [p.name for p in left] == [p.name for p in right]
    for x, y in zip(left, right, strict=True):
        assert pq.read_table(x).equals(pq.read_table(y)), x.name


def test_sigkill_of_the_cohort_process_then_rerun_gives_every_patient_once(tmp_path) -> None:
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump(STUDY_DOC))
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    done = subprocess.run(_cohort_args(study, reference), env=_env(), capture_output=True,
                          text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]

    proc = subprocess.Popen(_cohort_args(study, killed), env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 600
    while len(list_parts(killed)) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    written = len(list_parts(killed))
    assert 3 <= written < N // BATCH, f"killed after {written} parts: not mid-run"
    batches = plan_batches(N, BATCH)
    chash = None
    for part in list_parts(killed):  # whatever has a final name is complete
        meta = parts_module.read_part_meta(part)
        chash = meta["config_hash"]
        assert part_is_complete(part, batches[meta["batch"]], chash)

    again = subprocess.run(_cohort_args(study, killed), env=_env(), capture_output=True,
                           text=True, timeout=600)  # fmt: skip
    assert again.returncode == 0, again.stderr[-2000:]
    frame = read_cohort(killed)
    counts = frame.groupby("patient_id").size()
    assert counts.index.tolist() == list(range(N))
    assert (counts == len(FOLLOW_UP_DAYS)).all()
    pd.testing.assert_frame_equal(frame, read_cohort(reference))
    _parts_equal(killed, reference)


class _FailingWrite:
    """Write half of the bytes, then fail like a full disk (or a folder turned read-only)."""

    def __init__(self, real, after: int, code: int) -> None:
        self.real, self.after, self.code, self.calls = real, after, code, 0

    def __call__(self, table, where, **kwargs):  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.calls <= self.after:
            return self.real(table, where, **kwargs)
        self.real(table, where, **kwargs)
        data = Path(where).read_bytes()
        Path(where).write_bytes(data[: len(data) // 2])  # the disk filled mid-file
        raise OSError(self.code, os.strerror(self.code), str(where))


def _no_temporaries(folder: Path) -> None:
    assert [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES])
def test_cohort_output_failing_mid_run_leaves_only_whole_parts(tmp_path, monkeypatch, code) -> None:
    study = Study.model_validate(STUDY_DOC)
    evaluator = AnalyticEvaluator()
    reference = tmp_path / "reference"
    run_cohort(study, N, reference, scheduler="inline", batch_size=BATCH, evaluator=evaluator,
               progress=False, plots=False)  # fmt: skip
    out = tmp_path / "out"
    failing = _FailingWrite(parts_module.pq.write_table, after=4, code=code)
    monkeypatch.setattr(parts_module.pq, "write_table", failing)
    with pytest.raises(OSError) as info:
        run_cohort(study, N, out, scheduler="inline", batch_size=BATCH, evaluator=evaluator,
                   progress=False, plots=False)  # fmt: skip
    assert info.value.errno == code
    monkeypatch.undo()
    written = list_parts(out)
    assert len(written) == 4  # the fifth part failed mid-file and has no final name
    _no_temporaries(out)
    batches = plan_batches(N, BATCH)
    for part in written:
        meta = parts_module.read_part_meta(part)
        assert part_is_complete(part, batches[meta["batch"]], meta["config_hash"])
    result = run_cohort(study, N, out, scheduler="inline", batch_size=BATCH, evaluator=evaluator,
                        progress=False, plots=False)  # fmt: skip
    assert result.evaluated == tuple(range(4, N // BATCH))  # only what was missing
    pd.testing.assert_frame_equal(read_cohort(out), read_cohort(reference))


def _fail_mid_text(monkeypatch, code: int) -> None:
    real = Path.write_text

    def half(self: Path, data: str, *args: object, **kwargs: object) -> int:
        real(self, data[: len(data) // 2], *args, **kwargs)  # type: ignore[arg-type]
        raise OSError(code, os.strerror(code), str(self))

    monkeypatch.setattr(Path, "write_text", half)


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES])
def test_json_and_text_writes_fail_whole(tmp_path, monkeypatch, code) -> None:
    target = tmp_path / "summary.json"
    write_json(target, {"old": [1, 2, 3]})
    before = target.read_bytes()
    _fail_mid_text(monkeypatch, code)
    with pytest.raises(OSError):
        write_json(target, {"new": list(range(1000))})
    with pytest.raises(OSError):
        write_text(tmp_path / "report.html", "<html>" + "x" * 10000 + "</html>")
    monkeypatch.undo()
    assert target.read_bytes() == before  # the old complete file, not half of the new one
    assert not (tmp_path / "report.html").exists()
    _no_temporaries(tmp_path)


def test_zarr_store_failing_mid_write_keeps_the_old_store(tmp_path, monkeypatch) -> None:
    import numpy as np
    import xarray as xr

    target = tmp_path / "trajectories.zarr"
    old = xr.Dataset({"a": ("day", np.arange(5.0))}, coords={"day": np.arange(5.0)})
    write_zarr(old, target)
    new = xr.Dataset({"a": ("day", np.arange(50.0)), "b": ("day", np.ones(50))},
                     coords={"day": np.arange(50.0)})  # fmt: skip
    real = xr.Dataset.to_zarr

    def full(self: xr.Dataset, store: object, *args: object, **kwargs: object) -> None:
        real(self[["a"]], store, *args, **kwargs)  # part of the store is written
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(store))

    monkeypatch.setattr(xr.Dataset, "to_zarr", full)
    with pytest.raises(OSError):
        write_zarr(new, target)
    monkeypatch.undo()
    back = xr.open_zarr(target, consolidated=True).load()
    xr.testing.assert_identical(back, old)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trajectories.zarr"]


def test_cli_reports_a_full_disk_in_one_sentence(tmp_path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from needlesim.cli import app

    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump(STUDY_DOC))
    failing = _FailingWrite(parts_module.pq.write_table, after=1, code=errno.ENOSPC)
    monkeypatch.setattr(parts_module.pq, "write_table", failing)
    res = CliRunner().invoke(app, ["cohort", str(study), "--out", str(tmp_path / "out"),
                                   "--scheduler", "inline", "--batch-size", str(BATCH),
                                   "--evaluator", "needlesim.testing.analytic:analytic_evaluator",
                                   "--no-plots", "--json"])  # fmt: skip
    assert res.exit_code == 1
    assert "No space left on device" in res.stderr and "Traceback" not in res.output
    assert "rerun" in res.stderr
