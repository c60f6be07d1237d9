"""Whole-course biology against published effects: remodelling settles, PIH by skin type,
spread between patients."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from needlesim.config import Study
from needlesim.outcomes import reading_sd
from needlesim.studies import evaluate_batch
from needlesim.studies.runner import patient_table


def _study(n: int, types: list[int], indication: str, sessions: int, seed: int = 3) -> Study:
    return Study.model_validate(
        {
            "name": "course",
            "population": {
                "n": n,
                "region": "cheek",
                "indication": indication,
                "fitzpatrick": types,
            },
            "protocol": {
                "device": {"type": "roller", "needle_length_mm": 1.5},
                "sessions": sessions,
                "interval_days": 28,
            },
            "simulation": {"seed": seed},
        }
    )


def _run(study: Study, after: list[float], wanted: list[str], **kw: object) -> pd.DataFrame:
    days = [study.protocol.last_session_day + d for d in after]
    return evaluate_batch(patient_table(study), study.protocol, days=days, observables=wanted, **kw)


def test_remodelling_settles_while_the_epidermis_stays_thicker_at_one_year() -> None:
    # Liebl & Kloth 2012: remodelling "1 year or more"; skin collagen turns over with a
    # 15-year half-life (Verzijl 2000): once the fibroblasts are back at rest the new
    # collagen stays, slowly turning over, and no longer rises. Aust 2008: the epidermis
    # is still thicker one year after the course.
    study = _study(2, [3], "rejuvenation", sessions=4)
    wanted = ["dermal_collagen_change_pct", "epidermal_thickness_change_pct"]
    out = _run(study, [365.0, 3 * 365.0], wanted, individual=False).groupby("day").mean()
    one, three = out.iloc[0], out.iloc[1]
    assert one["dermal_collagen_change_pct"] > 1.0  # a new, raised steady state
    assert three["dermal_collagen_change_pct"] <= one["dermal_collagen_change_pct"]
    assert three["dermal_collagen_change_pct"] > 0.5 * one["dermal_collagen_change_pct"]
    assert one["epidermal_thickness_change_pct"] > 10.0


def _pih_incidence(types: list[int]) -> float:
    study = _study(80, types, "atrophic_acne_scars", sessions=3)
    return float(_run(study, [90.0], ["pih_incidence"])["pih_incidence"].mean())


@pytest.fixture(scope="module")
def pih_by_type() -> dict[str, float]:
    return {"dark": _pih_incidence([5, 6]), "light": _pih_incidence([1, 2])}


def test_pih_after_a_standard_roller_course_is_rare_in_light_skin(pih_by_type) -> None:
    # Types I-II: under 3 % (Cachafeiro 2016 0/23; Fabbrocini 2009 none); darker more.
    assert pih_by_type["light"] < 0.03
    assert pih_by_type["dark"] > pih_by_type["light"]
    assert pih_by_type["dark"] <= 0.25


@pytest.mark.xfail(
    strict=True,
    reason="known gap (issue 11): the 29-study posterior of pih_threshold (10.4 [6.4, 19.0]) "
    "gives 0.6 % in types V-VI: the PIH zeros of Fabbrocini 2014 type VI (0/20), Al Qarqaz, "
    "Cachafeiro and Alster & Li outweigh striae 2023 (7/32), which the model predicts at 1 %",
)
def test_pih_after_a_standard_roller_course_is_uncommon_but_present_in_dark_skin(
    pih_by_type,
) -> None:
    # Types V-VI: 2-25 % (Fabbrocini 2014: none in type VI; Alster & Li 2020: none
    # persistent; Al Qarqaz 2018: none in III-V; Chawla 2014 1/30; striae 2023 7/32).
    assert 0.02 <= pih_by_type["dark"] <= 0.25


def test_patients_differ_as_much_as_published_cohorts() -> None:
    # Goodman-Baron grade after a course: SD 0.56-0.58 grade points (Sharma; the
    # Vietnamese cohort); a 200-patient acne-scar cohort must spread 0.3-0.8.
    study = _study(200, [2, 3, 4], "atrophic_acne_scars", sessions=3)
    wanted = [
        "scar_grade_change",
        "scar_score_change_pct",
        "dermal_collagen_change_pct",
        "papillary_collagen_change_pct",
        "epidermal_thickness_change_pct",
    ]
    out = _run(study, [60.0], wanted)
    # The model reports each patient's expected reading; a published SD of the change is
    # that of the rounded readings, which add the rater's and the rounding's noise.
    sd = float(out["scar_grade_change"].std())
    reading = float(np.hypot(sd, reading_sd("scar_grade_change")))
    assert sd >= 0.1 and 0.3 <= reading <= 0.8, (sd, reading)
    for name in wanted:
        assert out[name].nunique() > 100, name  # no quantity identical for every patient
    assert np.isfinite(out[wanted].to_numpy()).all()
