"""One patient table with one seeding rule: study run, cohort batches, planner and
sensitivity all see the same patient ``i`` for the same study and seed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from needlesim.config import Patient, Population, Study
from needlesim.planning.search import virtual_patients
from needlesim.scale import plan_batches, read_cohort, run_cohort, sample_batch
from needlesim.scale.evaluator import PATIENT_COLUMNS
from needlesim.sensitivity import typical_patient
from needlesim.studies import patient_table, run_study, sample_patients
from needlesim.studies.population import COLUMNS

STUDY = Study(
    name="one-table",
    population=Population(
        n=7,
        age_years={"mean": 45.0, "sd": 12.0},
        fitzpatrick=[2, 3, 5],
        indication="atrophic_acne_scars",
    ),
    protocol={"device": {"type": "pen", "needle_length_mm": 1.0}, "sessions": 2},
    measurements=[{"observable": "scar_depth_change_pct", "after_last_session_days": 30}],
    simulation={"seed": 5},
)


def test_batches_of_any_size_are_rows_of_the_study_table() -> None:
    whole = patient_table(STUDY, 23)
    assert tuple(whole.columns) == PATIENT_COLUMNS == COLUMNS
    for size in (1, 4, 10, 23):
        parts = [
            sample_batch(STUDY.population, b, STUDY.simulation.seed) for b in plan_batches(23, size)
        ]
        pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole)
    # patient i does not depend on how many patients are drawn
    pd.testing.assert_frame_equal(patient_table(STUDY, 5), whole.iloc[:5])
    other = patient_table(
        STUDY.model_copy(update={"simulation": STUDY.simulation.model_copy(update={"seed": 6})}), 23
    )
    assert not np.allclose(other["age_years"], whole["age_years"])
    assert whole["seed"].nunique() == 23 and (whole["seed"] >= 0).all()


def test_draws_follow_the_population() -> None:
    pop = Population(
        n=40_000,
        age_years={"mean": 40.0, "sd": 10.0},
        sex_female_fraction=0.3,
        fitzpatrick=[1, 4, 6],
    )
    table = sample_patients(pop, 123, range(pop.n))
    age = table["age_years"].to_numpy()
    se = 10.0 / np.sqrt(pop.n)
    assert abs(age.mean() - 40.0) < 4 * se
    assert abs(age.std() - 10.0) < 0.02 * 10.0
    # normal: about 68.3 % within one sd (Box-Muller, not a uniform stand-in)
    assert abs(np.mean(np.abs(age - 40.0) < 10.0) - 0.6827) < 0.01
    assert abs(table["female"].mean() - 0.3) < 4 * np.sqrt(0.3 * 0.7 / pop.n)
    counts = table["fitzpatrick"].value_counts(normalize=True)
    assert set(counts.index) == {1, 4, 6}
    assert np.all(np.abs(counts.to_numpy() - 1 / 3) < 0.01)
    uniform = Population(n=20_000, age_years={"min": 20.0, "max": 30.0})
    ages = sample_patients(uniform, 1, range(uniform.n))["age_years"].to_numpy()
    assert ages.min() >= 20.0 and ages.max() < 30.0 and abs(ages.mean() - 25.0) < 0.05


def test_planner_and_sensitivity_use_the_same_model_seeds() -> None:
    study_seeds = patient_table(STUDY, 4)["seed"].to_numpy()
    copies = virtual_patients(Patient(age_years=50.0, fitzpatrick=4), 4, STUDY.simulation.seed)
    np.testing.assert_array_equal(copies["seed"].to_numpy(), study_seeds)
    assert (copies["age_years"] == 50.0).all() and (copies["fitzpatrick"] == 4).all()
    assert typical_patient(STUDY)["seed"].tolist() == [study_seeds[0]]


def test_study_run_and_cohort_give_the_same_patients(tmp_path: Path) -> None:
    """The model (not a double) on the same study and seed: ``study run`` and ``cohort``
    (in batches of 3) give every patient the same value."""
    study = run_study(STUDY).outcomes
    run_cohort(STUDY, None, tmp_path, scheduler="inline", batch_size=3, progress=False, plots=False)
    cohort = read_cohort(tmp_path)
    name = "scar_depth_change_pct"
    day = float(study["day"].iloc[0])
    a = study.sort_values("patient_id")[["patient_id", name]].reset_index(drop=True)
    at_day = cohort[np.isclose(cohort["day"], day)]
    b = at_day.sort_values("patient_id")[["patient_id", name]].reset_index(drop=True)
    assert a["patient_id"].tolist() == list(range(STUDY.population.n))
    assert len(set(a[name].round(9))) > 1  # the patients differ
    # the same patients (model seeds included); values equal to the ODE solver's
    # accuracy (the two runs ask for different output days, so the adaptive steps
    # differ; different patients differ by percents)
    seeds = at_day.sort_values("patient_id")["seed"].to_numpy()
    np.testing.assert_array_equal(seeds, patient_table(STUDY)["seed"].to_numpy())
    np.testing.assert_allclose(b[name].to_numpy(), a[name].to_numpy(), rtol=1e-7)
