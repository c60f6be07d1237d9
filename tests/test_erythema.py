"""Erythema after one session on the calibrated model: hours at standard depths, days when deep.

Data: erythema and oedema 3-6 h after a dermaroller (Hong Kong J Dermatol
Venereol 2018, the calibration target); under 2 h, and longer for 400 than for
200 um, after microneedle arrays (Bal 2008); downtime growing with depth to
6-7 days at 2-3 mm (downtime chart, ver S); erythema lasting up to days
(Chu 2021).
"""

from __future__ import annotations

import numpy as np
import pytest

from needlesim.config import RunConfig
from needlesim.course import simulate_course


def erythema_hours(needle_mm: float) -> float:
    config = RunConfig.model_validate(
        {
            "patient": {"age_years": 40, "sex": "female", "fitzpatrick": 2, "region": "cheek"},
            "protocol": {
                "sessions": 1,
                "device": {"type": "roller", "needle_length_mm": needle_mm, "passes": 15},
            },
            "simulation": {"duration_days": 10, "output_days": [0, 10]},
        }
    )
    return 24.0 * float(simulate_course(config).observables["erythema_duration_days"][-1])


@pytest.fixture(scope="module")
def hours() -> dict[float, float]:
    return {mm: erythema_hours(mm) for mm in (0.25, 0.5, 1.5, 2.5)}


def test_erythema_grows_with_depth(hours) -> None:
    values = [hours[mm] for mm in sorted(hours)]
    assert np.all(np.diff(values) > 0), hours


def test_erythema_lasts_hours_after_a_standard_roller_session(hours) -> None:
    assert 3.0 <= hours[1.5] <= 6.0, hours


@pytest.mark.xfail(
    strict=True,
    reason="known gap: the 29-study posterior of erythema_flare_threshold (0.0014, pulled down "
    "by Naspolini's 3-day erythema on striae, which the model predicts at 0.23 days) gives "
    "2.3 h at 0.25 mm; Bal 2008 reports under 2 h",
)
def test_shallow_needling_reddens_for_under_two_hours(hours) -> None:
    assert 0.0 < hours[0.25] < 2.0, hours


def test_deep_needling_reddens_for_days(hours) -> None:
    assert hours[2.5] >= 24.0, hours
