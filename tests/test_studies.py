"""Studies and the batch evaluator: the JSON contract, defaults, and published effects.

Effects are checked on what a user sees (observables of a virtual cohort), with
individual variability switched off where the test compares protocols.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from needlesim.cli import app
from needlesim.config import Observable, Protocol, RollerDevice, Study, validate
from needlesim.config.defaults import default_needle_length_mm, with_study_defaults
from needlesim.course import GRID_OBSERVABLES, needs_dense_grid
from needlesim.studies import evaluate_batch, run_study, wilson_interval

OBS = Observable


def patients(**columns) -> pd.DataFrame:
    n = max(len(v) if isinstance(v, list) else 1 for v in columns.values()) if columns else 1
    base = {
        "patient_id": list(range(n)),
        "age_years": 30.0,
        "female": True,
        "fitzpatrick": 3,
        "region": "cheek",
        "indication": "atrophic_acne_scars",
        "baseline_severity": "moderate",
        "seed": list(range(n)),
    }
    base.update(columns)
    return pd.DataFrame({k: v if isinstance(v, list) else [v] * n for k, v in base.items()})


def course(length_mm: float, sessions: int = 4, interval: float = 30.0) -> Protocol:
    return Protocol(
        device=RollerDevice(needle_length_mm=length_mm), sessions=sessions, interval_days=interval
    )


@pytest.fixture(scope="module")
def four_sessions() -> pd.DataFrame:
    """Typical patients (no individual spread) through 4 monthly sessions, by length and age."""
    table = patients(age_years=[30.0, 30.0, 30.0, 75.0], fitzpatrick=[3, 3, 3, 3])
    out = []
    for length in (0.5, 1.5):
        df = evaluate_batch(table, course(length), days=[90, 120, 180, 270, 360], individual=False)
        out.append(df.assign(length=length))
    return pd.concat(out, ignore_index=True)


def test_study_json_contract(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        """
name: tiny
population: {n: 8, age_years: {min: 20, max: 40}, fitzpatrick: [2, 3],
             region: cheek, indication: atrophic_acne_scars}
protocol: {device: {type: roller, needle_length_mm: 1.5}, sessions: 3, interval_days: 28}
measurements:
  - {observable: dermal_collagen_change_pct, after_last_session_days: 60, value: 5.0}
  - {observable: pih_incidence, day: 100}
"""
    )
    result = CliRunner().invoke(app, ["study", "run", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["study"] == "tiny"
    first, second = data["predictions"]
    assert {"observable", "day", "mean", "p2_5", "p97_5", "measured"} <= set(first)
    assert first["statistic"] == "mean" and data["not_modelled_adjuncts"] == []
    assert first["day"] == 56 + 60 and first["measured"] == 5.0
    assert first["p2_5"] <= first["mean"] <= first["p97_5"]
    assert second["measured"] is None and 0.0 <= second["mean"] <= 1.0


def test_validate_folder_json(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        """
name: a
population: {n: 4, fitzpatrick: [5, 6], region: cheek, indication: atrophic_acne_scars}
protocol: {device: {type: roller, needle_length_mm: 1.5}, sessions: 1}
measurements:
  - {observable: pih_incidence, day: 30, value: 0.2}
  - {observable: collagen_III_change_pct, day: 30}
"""
    )
    result = CliRunner().invoke(app, ["validate", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)  # only measured values are compared
    assert row["observable"] == "pih_incidence" and isinstance(row["inside"], bool)
    assert row["error"] == pytest.approx(row["predicted"] - 0.2)
    empty = CliRunner().invoke(app, ["validate", str(tmp_path / "none")])
    assert empty.exit_code == 2


def test_same_seed_same_numbers() -> None:
    study = validate(
        Study,
        {
            "name": "r",
            "population": {"n": 6},
            "protocol": {"sessions": 1, "device": {"type": "pen"}},
        },
    )
    a, b = run_study(study).to_dict(), run_study(study).to_dict()
    assert a == b


def test_omitted_needle_length_takes_the_documented_default() -> None:
    study = validate(
        Study, {"name": "d", "population": {"region": "forehead", "indication": "wrinkles"}}
    )
    assert with_study_defaults(study).protocol.device.needle_length_mm == 0.5
    assert default_needle_length_mm("atrophic_acne_scars", "cheek") == 1.5
    given = validate(Study, {"name": "g", "protocol": {"device": {"needle_length_mm": 2.5}}})
    assert with_study_defaults(given).protocol.device.needle_length_mm == 2.5


def test_longer_needles_make_more_dermal_collagen(four_sessions: pd.DataFrame) -> None:
    at = four_sessions[(four_sessions.day == 270) & (four_sessions.patient_id == 0)]
    short, long = (at[at.length == x][OBS.dermal_collagen_change_pct].item() for x in (0.5, 1.5))
    assert long > short > 0


def test_improvement_is_kept_after_the_last_session(four_sessions: pd.DataFrame) -> None:
    one = four_sessions[(four_sessions.patient_id == 0) & (four_sessions.length == 1.5)]
    collagen = one.sort_values("day")[OBS.dermal_collagen_change_pct].to_numpy()
    # days 90 -> 270: the new collagen stays (it settles rather than growing on, issue 11)
    assert np.all(collagen[:4] > 0) and collagen[3] > 0.8 * collagen[0]


def test_older_skin_responds_less(four_sessions: pd.DataFrame) -> None:
    at = four_sessions[(four_sessions.day == 270) & (four_sessions.length == 1.5)]
    young = at[at.patient_id == 0][OBS.dermal_collagen_change_pct].item()
    old = at[at.patient_id == 3][OBS.dermal_collagen_change_pct].item()
    assert 0 < old < young


def test_four_sessions_beat_one() -> None:
    table = patients()
    after = {
        k: evaluate_batch(
            table, course(1.5, sessions=k), days=[90 + 30 * (k - 1)], individual=False
        )[OBS.dermal_collagen_change_pct].item()
        for k in (1, 4)
    }
    assert after[4] > after[1] > 0


def test_pih_rises_with_type_and_depth() -> None:
    table = patients(fitzpatrick=[1, 2, 3, 4, 5, 6], seed=[0] * 6)
    pih = {
        length: evaluate_batch(table, course(length, 3), days=[150], individual=False)[
            OBS.pih_incidence
        ].to_numpy()
        for length in (0.5, 1.5, 2.5)
    }
    for values in pih.values():
        assert np.all(np.diff(values) >= 0)  # rises with type
    assert np.all(pih[2.5] >= pih[1.5]) and np.all(pih[1.5] >= pih[0.5])  # and with depth
    assert pih[2.5][-1] > pih[0.5][-1]
    assert pih[1.5][:2].max() < 0.05  # types I-II at the standard depth: near zero (Cachafeiro)


def test_needling_lowers_the_melasma_index_least_in_the_darkest_skin() -> None:
    """Three monthly 1.5 mm roller sessions in melasma, 28 days after the last: the melasma
    index falls (Budamakuntla 2013: needling added to tranexamic acid, -44 % against the
    acid's own -36 %; Lima 2017: -70 % with a cream), and with the acid the course beats
    the acid alone. The inflammatory pigment response offsets part of the fall in the
    darkest skin."""
    from needlesim.config import Adjunct
    from needlesim.outcomes.adjuncts import apply_adjuncts

    table = patients(fitzpatrick=[1, 3, 4, 6], indication="melasma", seed=[0] * 4)
    df = evaluate_batch(table, course(1.5, 3), days=[88], individual=False)
    masi = df[OBS.melasma_index_change_pct].to_numpy()
    assert np.all(masi < 0) and np.all(np.diff(masi) >= 0), masi
    with_acid, _ = apply_adjuncts(masi, OBS.melasma_index_change_pct, [Adjunct.tranexamic_acid])
    assert np.all(with_acid < -35.72)


def test_zero_length_changes_nothing() -> None:
    df = evaluate_batch(patients(), course(0.0, 2), days=[10, 100], individual=False)
    for name in (
        OBS.dermal_collagen_change_pct,
        OBS.epidermal_thickness_change_pct,
        OBS.collagen_III_change_pct,
        OBS.scar_score_change_pct,
    ):
        np.testing.assert_allclose(df[name], 0.0, atol=1e-6)


def test_individual_variability_spreads_outcomes() -> None:
    table = patients(seed=list(range(32)), fitzpatrick=[3] * 32)
    df = evaluate_batch(table, course(1.5, 3), days=[150])
    spread = df[OBS.dermal_collagen_change_pct]
    assert spread.std() > 0.02 * abs(spread.mean())


def test_wilson_interval() -> None:
    lo, hi = wilson_interval(0.0, 23)
    assert lo == 0.0 and 0.1 < hi < 0.2
    lo, hi = wilson_interval(0.5, 100)
    assert lo == pytest.approx(0.404, abs=0.002) and hi == pytest.approx(0.596, abs=0.002)


def test_observables_off_the_grid_do_not_need_the_dense_grid(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Asking only for observables outside GRID_OBSERVABLES skips the dense early save
    grid; their values do not change (saving does not move the solver's steps), and
    the grid does matter for those in GRID_OBSERVABLES."""
    import needlesim.studies.evaluate as evaluate

    table = patients(seed=[11, 12, 13], age_years=[25.0, 45.0, 70.0], fitzpatrick=[2, 4, 6])
    protocol = course(1.5, 3, 28.0)
    days = [0.0, 1.0, 3.5, 28.0, 30.0, 56.25, 60.0, 146.0, 236.0]
    full = evaluate_batch(table, protocol, days=days)
    pointwise = [o.value for o in OBS if o.value not in GRID_OBSERVABLES]
    grid = [o.value for o in OBS if o.value in GRID_OBSERVABLES]
    assert needs_dense_grid(None) and needs_dense_grid(grid[:1])
    assert not needs_dense_grid(pointwise)
    sparse = evaluate_batch(table, protocol, days=days, observables=pointwise)
    assert list(sparse.columns) == ["patient_id", "day", *pointwise]
    for name in pointwise:
        np.testing.assert_allclose(sparse[name], full[name], rtol=1e-12, atol=1e-12, err_msg=name)
    dense = evaluate_batch(table, protocol, days=days, observables=grid)
    assert list(dense.columns) == ["patient_id", "day", *grid]
    for name in grid:
        np.testing.assert_allclose(dense[name], full[name], rtol=1e-12, atol=1e-12, err_msg=name)
    # without the grid (forced), the grid observables change: they do need it
    monkeypatch.setattr(evaluate, "needs_dense_grid", lambda observables: False)
    coarse = evaluate_batch(table, protocol, days=days, observables=grid)
    assert any(not np.allclose(coarse[name], full[name], rtol=1e-6) for name in grid)
    with pytest.raises(ValueError, match="unknown observables"):
        evaluate_batch(table, protocol, days=days, observables=["redness"])


def test_chunk_plan_covers_the_batch_with_little_padding(monkeypatch: pytest.MonkeyPatch) -> None:
    import needlesim.studies.evaluate as evaluate
    from needlesim.studies.evaluate import CHUNK_PATIENTS, SMALL_BATCH, chunk_plan, padded_size

    monkeypatch.setattr(evaluate.jax, "default_backend", lambda: "cpu")

    for n in [1, 2, 5, 31, 32, 33, 64, 100, 105, 131, 300, 1000, 4096, 5000, 12345, 100_000]:
        chunks, size = chunk_plan(n)
        assert chunks * size >= n > (chunks - 1) * -(-n // chunks)
        assert size == padded_size(-(-n // chunks))
        if size > SMALL_BATCH:
            assert size % 16 == 8  # an odd multiple of 8: no cache-set aliasing
        else:
            assert size & (size - 1) == 0
        if n > 2 * CHUNK_PATIENTS:
            assert CHUNK_PATIENTS // 2 <= size <= 1.25 * CHUNK_PATIENTS + 16
            assert chunks * size <= 1.05 * n


def test_an_accelerator_gets_the_whole_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    import needlesim.studies.evaluate as evaluate

    monkeypatch.setattr(evaluate.jax, "default_backend", lambda: "cpu")
    assert evaluate.chunk_plan(5000)[0] > 1
    monkeypatch.setattr(evaluate.jax, "default_backend", lambda: "gpu")
    assert evaluate.chunk_plan(5000) == (1, 5000)
    assert evaluate.chunk_plan(4096) == (1, evaluate.padded_size(4096))


def test_results_do_not_depend_on_the_chunking(monkeypatch: pytest.MonkeyPatch) -> None:
    import needlesim.studies.evaluate as evaluate

    table = patients(seed=list(range(40)), age_years=[20.0 + i for i in range(40)])
    protocol = course(1.5, 2, 28.0)
    monkeypatch.setattr(evaluate.jax, "default_backend", lambda: "cpu")  # plan only
    monkeypatch.setattr(evaluate, "CHUNK_PATIENTS", 12)
    assert evaluate.chunk_plan(40)[0] > 2
    chunked = evaluate_batch(table, protocol, days=[28.0, 60.0])
    monkeypatch.setattr(evaluate, "CHUNK_PATIENTS", 1000)
    assert evaluate.chunk_plan(40)[0] == 1
    whole = evaluate_batch(table, protocol, days=[28.0, 60.0])
    pd.testing.assert_frame_equal(chunked, whole, rtol=1e-12, atol=1e-12)


def test_concurrent_chunks_give_the_numbers_of_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """The chunks of a batch run on one thread per core; which thread solves which chunk
    must not change a digit, nor the order of the rows."""
    import needlesim.studies.evaluate as evaluate
    from needlesim.io.cpus import available_cpus, solver_threads

    table = patients(seed=list(range(30)), age_years=[20.0 + 2 * i for i in range(30)])
    protocol = course(1.5, 2, 28.0)
    monkeypatch.setattr(evaluate.jax, "default_backend", lambda: "cpu")
    monkeypatch.setattr(evaluate, "CHUNK_PATIENTS", 8)
    assert evaluate.chunk_plan(30)[0] >= 3
    monkeypatch.setattr(evaluate, "solver_threads", lambda: 3)
    threaded = evaluate_batch(table, protocol, days=[28.0, 60.0])
    monkeypatch.setattr(evaluate, "solver_threads", lambda: 1)
    serial = evaluate_batch(table, protocol, days=[28.0, 60.0])
    pd.testing.assert_frame_equal(threaded, serial, rtol=0, atol=0)
    assert list(serial["patient_id"].unique()) == list(table["patient_id"])

    monkeypatch.delenv("NEEDLESIM_THREADS", raising=False)
    monkeypatch.setenv("PJRT_NPROC", "1")  # a Dask worker's single core
    assert solver_threads() == 1
    monkeypatch.delenv("PJRT_NPROC")
    assert solver_threads() == available_cpus()
    monkeypatch.setenv("NEEDLESIM_THREADS", "1")
    assert solver_threads() == 1
