"""The two-stage search (screen on the expected patient, shortlist on the cohort) chooses as
the exhaustive search (every course on the cohort) does, with the healing model."""

from __future__ import annotations

import pytest

from needlesim.config import Patient
from needlesim.planning.regions import depth_limit
from needlesim.planning.search import (
    SearchGrid,
    limits_for,
    predict_all,
    search,
    select,
    virtual_patients,
)
from needlesim.planning.targets import INDICATION_TARGETS
from needlesim.studies import evaluate_batch

GRID = SearchGrid(
    devices=("pen",), needle_lengths_mm=(0.5, 1.5), sessions=(3, 4), intervals_days=(28.0,)
)
N = 2
"""Two virtual patients: the screen (2 nodes per course), the shortlist and the exhaustive
search then share one compiled batch shape (the suite's time is in compiling)."""


def test_two_stage_search_chooses_as_the_exhaustive_search() -> None:
    fitzpatrick = 5
    patient = Patient(age_years=35, fitzpatrick=fitzpatrick, region="cheek")
    target = INDICATION_TARGETS[patient.indication]
    depth = depth_limit(patient.region)
    limits = limits_for(fitzpatrick)
    candidates = GRID.candidates(depth.max_needle_length_mm)
    fast = search(evaluate_batch, patient, candidates, target, depth, limits, n_virtual=N)
    everything = predict_all(evaluate_batch, virtual_patients(patient, N, 0), candidates,
                             target, depth)  # fmt: skip
    full = select(everything, limits)
    assert fast.recommended is not None and full.recommended is not None
    assert fast.recommended.candidate == full.recommended.candidate
    # what is reported for it is the cohort's prediction, as in the exhaustive search
    assert fast.recommended.improvement == pytest.approx(full.recommended.improvement, rel=1e-9)
    assert fast.recommended.pih_risk == pytest.approx(full.recommended.pih_risk, abs=1e-12)
    assert fast.evaluated == full.evaluated == len(candidates)
    # deeper needles and more sessions improve more: the best course is 1.5 mm x 4
    best = max(everything, key=lambda p: p.improvement).candidate
    assert (best.needle_length_mm, best.sessions) == (1.5, 4)
