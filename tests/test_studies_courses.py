"""Many courses solved together (``evaluate_courses``) give what each course gives alone."""

from __future__ import annotations

import numpy as np
import pytest

from needlesim.config import Patient, Protocol
from needlesim.planning.search import virtual_patients
from needlesim.scale.evaluator import evaluate_protocols, normalise_outcomes
from needlesim.studies import evaluate_batch, evaluate_courses


def _protocol(device: str, mm: float, sessions: int, interval: float) -> Protocol:
    return Protocol.model_validate(
        {
            "device": {"type": device, "needle_length_mm": mm},
            "sessions": sessions,
            "interval_days": interval,
        }
    )


@pytest.fixture(scope="module")
def patients():
    patient = Patient(age_years=40, fitzpatrick=4, region="cheek")
    return virtual_patients(patient, 3, seed=7)


# different sessions, intervals, devices and lengths: the batch pads sessions in front
# and saves per row, so the courses' segments and save days all differ
PROTOCOLS = [_protocol("roller", 1.5, 3, 28.0), _protocol("pen", 0.5, 2, 14.0)]


def test_courses_together_equal_each_course_alone(patients) -> None:
    together = evaluate_courses(patients, PROTOCOLS)
    for protocol, table in zip(PROTOCOLS, together, strict=True):
        alone = evaluate_batch(patients, protocol)
        assert list(table.columns) == list(alone.columns)
        a = alone.drop(columns="patient_id").to_numpy(dtype=float)
        b = table.drop(columns="patient_id").to_numpy(dtype=float)
        assert np.array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)
    # the deeper, longer course gains more collagen (the rows were not mixed up)
    last = [t[t["day"] == t["day"].max()]["dermal_collagen_change_pct"].mean() for t in together]
    assert last[0] > last[1] > 0.0


def test_typical_patient_has_no_individual_spread(patients) -> None:
    (typical,) = evaluate_protocols(evaluate_batch, patients, PROTOCOLS[:1], typical=True)
    (cohort,) = evaluate_protocols(evaluate_batch, patients, PROTOCOLS[:1])
    final = typical[typical["day"] == typical["day"].max()]
    spread = final["dermal_collagen_change_pct"].to_numpy()
    assert np.ptp(spread) < 1e-9 * np.abs(spread).max()  # same demographics, no factors
    assert np.ptp(cohort["dermal_collagen_change_pct"].to_numpy()) > 0.0
    assert normalise_outcomes(typical, patients).equals(typical)
