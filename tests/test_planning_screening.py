"""Screening rules, depth limits, downtime and after-care from the packaged safety table."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml

from needlesim.config import ConfigError, Indication, Region
from needlesim.planning import (
    INDICATION_TARGETS,
    aftercare,
    check_depth,
    depth_limit,
    downtime_days,
    history_ids,
    rules,
    screen,
)
from needlesim.planning.safety import safety_data

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "safety.yaml"
ALAM = "JAMA Dermatol 2014;150(8):844-849"


@pytest.mark.skipif(not SHARED.is_file(), reason="shared data folder not present")
def test_packaged_table_is_a_copy_of_the_shared_one() -> None:
    shared = yaml.safe_load(SHARED.read_text(encoding="utf-8"))
    packaged = safety_data()
    for key, value in shared.items():
        assert packaged[key] == value, key


@pytest.mark.parametrize(
    "history",
    ["isotretinoin_or_oral_retinoid_within_12_months", "keloid_or_hypertrophic_scar_history"],
)
def test_absolute_contraindications_refuse_with_reason_and_source(history: str) -> None:
    result = screen([history, "pregnancy"], fitzpatrick=2)
    assert result.refused
    assert [f.rule.id for f in result.reasons] == [history]
    reason = result.reasons[0].to_dict()
    assert reason["kind"] == "absolute" and ALAM in reason["source"]
    assert reason["label"] == "sourced (ver V)"
    assert [f.rule.id for f in result.precautions] == ["pregnancy"]


def test_relative_rules_attach_precautions_and_practice_is_labelled() -> None:
    result = screen(["allergy_to_topical_anaesthetic", "herpes_simplex_history_perioral"], 3)
    assert not result.refused and not result.reasons
    found = {f.rule.id: f.to_dict() for f in result.precautions}
    assert (
        found["allergy_to_topical_anaesthetic"]["precaution"]
        == "no topical anaesthetic; lower depth"
    )
    assert found["allergy_to_topical_anaesthetic"]["label"] == "sourced (ver V)"
    herpes = found["herpes_simplex_history_perioral"]
    assert herpes["label"] == "practice" and herpes["source"] == "practice"
    radiotherapy = screen(["radiotherapy_to_area_within_12_months"], 3)
    assert radiotherapy.refused and radiotherapy.reasons[0].to_dict()["label"] == "practice"


@pytest.mark.parametrize("fitzpatrick", [1, 2, 3, 4, 5, 6])
def test_darker_skin_attaches_the_chu_2021_precaution(fitzpatrick: int) -> None:
    result = screen([], fitzpatrick)
    ids = [f.rule.id for f in result.precautions]
    if fitzpatrick >= 4:
        assert ids == ["darker_skin_fitzpatrick_4_to_6"]
        finding = result.precautions[0].to_dict()
        assert (
            finding["automatic"] and "Chu S" in finding["source"] and "PIH" in finding["precaution"]
        )
    else:
        assert ids == []
    again = screen(["darker_skin_fitzpatrick_4_to_6"], fitzpatrick)
    assert [f.rule.id for f in again.precautions] == ["darker_skin_fitzpatrick_4_to_6"]


def test_unknown_history_id_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as info:
        screen(["isotretinoin", "pregnancy"], 2)
    message = info.value.render()
    assert "--history" in message and "'isotretinoin'" in message
    assert all(rule_id in message for rule_id in history_ids())
    assert len(history_ids()) == len(rules()) == 17


def test_region_depth_limits_and_override() -> None:
    expected = {
        Region.forehead: 0.5, Region.periorbital: 0.5, Region.nose: 0.5, Region.cheek: 2.0,
        Region.chin: 1.5, Region.neck: 1.0, Region.perioral: 0.75, Region.abdomen: 2.5,
        Region.thigh: 2.5, Region.back: 2.5,
    }  # fmt: skip
    for region, mm in expected.items():
        assert depth_limit(region).max_needle_length_mm == mm
    assert depth_limit(Region.perioral).area == "upper_lip"
    assert check_depth(Region.cheek, 2.0) is None
    with pytest.raises(ConfigError, match="override"):
        check_depth(Region.forehead, 1.0)
    flag = check_depth(Region.forehead, 1.0, override=True)
    assert flag is not None and "0.5 mm" in flag and "override" in flag


def test_downtime_is_interpolated_from_the_chart() -> None:
    assert downtime_days(0.35) == pytest.approx(2.5)
    assert downtime_days(1.15) == pytest.approx(4.5)
    assert downtime_days(2.5) == pytest.approx(6.5)
    assert downtime_days(0.1) == pytest.approx(2.5) and downtime_days(3.0) == pytest.approx(6.5)
    assert 2.5 < downtime_days(0.75) < 4.5
    depths = [0.25, 0.5, 1.0, 1.5, 2.0, 2.5]
    assert all(downtime_days(a) <= downtime_days(b) for a, b in itertools.pairwise(depths))


def test_every_indication_has_a_target() -> None:
    assert set(INDICATION_TARGETS) == set(Indication)
    acne = INDICATION_TARGETS[Indication.atrophic_acne_scars]
    assert acne.observable.value == "scar_score_change_pct" and acne.better == "lower"
    assert acne.improvement(-30.0) == 30.0
    assert INDICATION_TARGETS[Indication.striae].better == "higher"


def test_aftercare_items_carry_their_sources() -> None:
    light = aftercare(2, Indication.wrinkles, 28.0)
    dark = aftercare(5, Indication.melasma, 30.0)
    assert {a.topic for a in light} == {"photoprotection", "avoid", "return"}
    assert all(a.label in ("practice", "plan") or a.source.strip() for a in light)
    assert any(a.advice == "Next session after 28 days" and a.label == "plan" for a in light)
    assert any("7 days" in a.advice and "Chu S" in a.source for a in light)
    assert not any("Chu S et al" in a.source for a in light)
    assert any("Strict photoprotection" in a.advice and "Chu S" in a.source for a in dark)
    assert any("Lima EVA" in a.source for a in dark)
    assert sum(a.label == "practice" for a in light) >= 2
