"""Many courses solved together (``evaluate_courses``) give what each course gives alone."""

from __future__ import annotations

import numpy as np
import pytest

from needlesim.biology import default_parameters
from needlesim.config import Patient, Protocol
from needlesim.planning.search import virtual_patients
from needlesim.scale.evaluator import evaluate_protocols, normalise_outcomes
from needlesim.studies import evaluate_batch, evaluate_courses
from needlesim.studies.evaluate import expected_patient_nodes


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


def test_expected_patient_is_the_mean_over_the_dominant_factor(patients) -> None:
    (expected,) = evaluate_protocols(evaluate_batch, patients, PROTOCOLS[:1], expected=True)
    assert normalise_outcomes(expected, patients).equals(expected)
    name, nodes = expected_patient_nodes()
    assert name == "wound_response_capacity"
    # the factor has mean 1; two nodes integrate exp(s z) to O(s^4): 0.998 for CV 0.4
    assert nodes.mean() == pytest.approx(1.0, abs=5e-3)
    # the same profile for all three patients: no spread left
    final = expected[expected["day"] == expected["day"].max()]
    spread = final["dermal_collagen_change_pct"].to_numpy()
    assert np.ptp(spread) < 1e-9 * np.abs(spread).max()
    # it is the mean of the two nodes, each a patient without individual factors
    base = float(default_parameters().wound_response_capacity)
    (at_nodes,) = evaluate_courses(
        patients.iloc[[0, 0, 0, 0, 0, 0]].reset_index(drop=True), PROTOCOLS[:1],
        {name: base * np.tile(nodes, 3)}, individual=False,
    )  # fmt: skip
    last = at_nodes[at_nodes["day"] == at_nodes["day"].max()]["dermal_collagen_change_pct"]
    assert spread[0] == pytest.approx(last.to_numpy()[:2].mean(), rel=1e-9)
    # with individual factors the cohort spreads (the factors act)
    (cohort,) = evaluate_protocols(evaluate_batch, patients, PROTOCOLS[:1])
    assert np.ptp(cohort[cohort["day"] == cohort["day"].max()]["dermal_collagen_change_pct"]) > 0
