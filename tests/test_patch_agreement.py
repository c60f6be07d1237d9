"""Agreement between the fidelity levels over the standard course (issue 4).

Four sessions 30 days apart, 180 days in all, on the device and patient of
``examples/patch-small.yaml``: the patch level's layer means against the
``layered`` level, for collagen I and III (papillary and reticular dermis) and
the epidermal thickness. The grid is coarse (100 um voxels, 10 x 10 x 11) to
keep the test fast; docs/patch.md gives the same comparison at 50 um.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from needlesim.config import RunConfig, read_yaml
from needlesim.course.patch import (
    AGREEMENT_SPECIES,
    PatchCourseResult,
    agreement_by_day,
    layered_agreement,
    simulate_patch_course,
)

TOLERANCE = 0.10
"""Issue 4: layer means of ``patch`` within 10 % of ``layered`` on the standard course."""
SPACING_UM = 100.0


def standard_course() -> RunConfig:
    raw: dict[str, Any] = read_yaml(
        Path(__file__).resolve().parents[1] / "examples" / "patch-small.yaml"
    )
    raw["name"] = "patch-standard-course"
    raw["protocol"]["sessions"] = 4
    raw["protocol"]["interval_days"] = 30
    raw["simulation"]["duration_days"] = 180
    raw["simulation"]["output_days"] = [0, 1, 7, 30, 60, 90, 97, 120, 150, 180]
    return RunConfig.model_validate(raw)


@pytest.fixture(scope="module")
def course() -> PatchCourseResult:
    return simulate_patch_course(standard_course(), spacing_um=SPACING_UM)


def test_standard_course_patch_agrees_with_layered(course: PatchCourseResult) -> None:
    assert course.end_day == 180.0
    assert len(course.session_days) == 4
    agreement = layered_agreement(course)
    for key in AGREEMENT_SPECIES:
        assert abs(agreement[key]) < TOLERANCE, (key, agreement)
    # the worst layer is the headline: every compared layer is within the tolerance
    for key, entry in agreement["detail"].items():
        for layer, values in entry["layers"].items():
            assert abs(values["relative_difference"]) < TOLERANCE, (key, layer, values)


def test_agreement_is_reported_at_every_output_day(course: PatchCourseResult) -> None:
    rows = agreement_by_day(course)
    assert [r["day"] for r in rows] == sorted(r["day"] for r in rows)
    assert rows[0]["day"] == 0.0 and rows[-1]["day"] == 180.0
    # the same rest state on day 0: no difference, and no change to compare yet
    assert all(abs(rows[0][k]) < 1e-9 for k in AGREEMENT_SPECIES)
    assert rows[0]["change"]["collagen_I"] is None
    for row in rows:
        assert all(np.isfinite(row[k]) for k in AGREEMENT_SPECIES)
    # new collagen: both levels make collagen I (the sign of the change agrees)
    end = layered_agreement(course)["detail"]["collagen_I"]["layers"]
    for values in end.values():
        assert values["patch"] > values["rest"] and values["layered"] > values["rest"]
