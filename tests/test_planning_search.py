"""The protocol search, with the analytic test double (PIH grows with type and depth)."""

from __future__ import annotations

import math

import pytest

from needlesim.config import Patient
from needlesim.planning import Candidate, Limits, Prediction, plan_treatment, select
from needlesim.planning.search import SearchGrid, limits_for
from needlesim.testing.analytic import analytic_evaluator

SMALL_GRID = SearchGrid(
    needle_lengths_mm=(0.25, 0.5, 1.0, 1.5, 2.0, 2.5), sessions=(3, 6), intervals_days=(28.0,)
)


def _plan(**patient: object) -> dict:
    fields = {"age_years": 30.0, "region": "cheek", "indication": "atrophic_acne_scars", **patient}
    history = fields.pop("history", [])
    plan = plan_treatment(Patient(**fields), history, evaluator=analytic_evaluator,
                          n_virtual=100, grid=SMALL_GRID)  # fmt: skip
    return plan.to_dict()


def test_fitzpatrick_5_gets_a_more_conservative_plan_than_type_2() -> None:
    light, dark = _plan(fitzpatrick=2), _plan(fitzpatrick=5)
    for plan in (light, dark):
        assert not plan["refused"] and plan["recommended"] is not None
        assert len(plan["alternatives"]) == 2
    rec_l, rec_d = light["recommended"], dark["recommended"]
    assert rec_d["pih_risk"] < rec_l["pih_risk"]
    assert rec_d["protocol"]["needle_length_mm"] < rec_l["protocol"]["needle_length_mm"]
    assert rec_d["downtime_days"] < rec_l["downtime_days"]
    assert rec_d["pih_risk"] <= 0.05 and rec_l["pih_risk"] <= 0.10
    why = " ".join(dark["rationale"])
    assert "Fitzpatrick 5" in why and "PIH" in why and "Chu 2021" in why
    assert any(p["id"] == "darker_skin_fitzpatrick_4_to_6" for p in dark["precautions"])
    assert dark["limits"]["max_pih_risk"] == 0.05 and light["limits"]["max_pih_risk"] == 0.10


def test_plan_json_has_the_contract_fields() -> None:
    plan = _plan(fitzpatrick=3)
    for key in ("refused", "reasons", "precautions", "recommended", "alternatives"):
        assert key in plan
    for option in [plan["recommended"], *plan["alternatives"]]:
        assert set(option["protocol"]) == {
            "device",
            "needle_length_mm",
            "sessions",
            "interval_days",
        }
        assert option["protocol"]["device"] in ("roller", "pen")
        stats = option["predicted"]["scar_score_change_pct"]
        assert stats["p2_5"] <= stats["mean"] <= stats["p97_5"]
        assert 0.0 <= option["pih_risk"] <= 1.0 and option["downtime_days"] > 0
        assert {a["topic"] for a in option["aftercare"]} == {"photoprotection", "avoid", "return"}
    keys = {(o["protocol"]["device"], o["protocol"]["needle_length_mm"])
            for o in [plan["recommended"], *plan["alternatives"]]}  # fmt: skip
    assert len(keys) == 3  # the alternatives differ in device or depth
    assert plan["test_double"] is True and "TEST DOUBLE" in plan["disclaimer"]


def test_refusal_is_an_answer_without_plans() -> None:
    plan = _plan(fitzpatrick=2, history=["isotretinoin_or_oral_retinoid_within_12_months"])
    assert plan["refused"] is True
    assert plan["recommended"] is None and plan["alternatives"] == []
    assert plan["reasons"][0]["id"] == "isotretinoin_or_oral_retinoid_within_12_months"
    assert "12 months" in plan["rationale"][0]


def test_region_limit_holds_unless_overridden() -> None:
    plain = _plan(fitzpatrick=2, region="forehead", indication="wrinkles")
    for option in [plain["recommended"], *plain["alternatives"]]:
        assert option["protocol"]["needle_length_mm"] <= 0.5 and not option["flags"]
    over = plan_treatment(
        Patient(age_years=30, fitzpatrick=2, region="forehead", indication="wrinkles"),
        evaluator=analytic_evaluator, override_depth=True, n_virtual=50, grid=SMALL_GRID,
    ).to_dict()  # fmt: skip
    assert over["depth_limit"]["override"] is True
    deep = [o for o in [over["recommended"], *over["alternatives"]]
            if o["protocol"]["needle_length_mm"] > 0.5]  # fmt: skip
    assert deep and all(any("exceeds the forehead limit" in f for f in o["flags"]) for o in deep)


def test_age_enters_through_the_evaluator() -> None:
    young, old = _plan(fitzpatrick=3, age_years=25.0), _plan(fitzpatrick=3, age_years=70.0)
    obs = "scar_score_change_pct"
    assert (
        old["recommended"]["predicted"][obs]["mean"]
        > young["recommended"]["predicted"][obs]["mean"]
    )


def _prediction(
    mm: float, improvement: float, pih: float | None, device: str = "pen"
) -> Prediction:
    return Prediction(Candidate(device, mm, 3, 28.0), {}, 200.0, improvement, pih, 2.0 + mm)


def test_selection_rules() -> None:
    limits = Limits(max_pih_risk=0.10, max_downtime_days=7.0, tolerance=0.05)
    options = [
        _prediction(2.0, 10.0, 0.20),  # best, but over the PIH limit
        _prediction(1.5, 9.0, 0.08),
        _prediction(1.0, 8.7, 0.04),  # within 5 % of 9.0 and safer: recommended
        _prediction(0.5, 5.0, 0.01),
        _prediction(1.5, 8.0, 0.05, device="roller"),
    ]
    chosen = select(options, limits)
    assert chosen.recommended is options[2]
    assert chosen.excluded["pih"] == 1 and chosen.feasible == 4
    assert [p.candidate.needle_length_mm for p, _ in chosen.alternatives] == [1.5, 1.5]
    assert chosen.best_unconstrained is options[0]
    strict = select(options, Limits(0.0, 7.0, 0.05))
    assert strict.feasible == 0 and strict.recommended is options[3]  # lowest risk, flagged
    assert "NOT within" in strict.recommended_why
    assert select([_prediction(1.0, math.nan, None)], limits).recommended is None


def test_limits_by_type_and_explicit_values() -> None:
    assert limits_for(2).max_pih_risk == 0.10 and limits_for(2).tolerance == 0.05
    assert limits_for(4).max_pih_risk == 0.05 and limits_for(4).tolerance == 0.10
    given = limits_for(6, max_pih_risk=0.2, max_downtime_days=3.0)
    assert given.max_pih_risk == 0.2 and given.max_downtime_days == 3.0
    assert pytest.approx(0.10) == limits_for(6, tolerance=0.1).tolerance


def test_two_alternatives_when_only_one_needle_length_is_within_the_limits() -> None:
    """A tight PIH limit can leave one device and depth: the alternatives are other schedules."""

    def pred(length: float, sessions: int, interval: float, gain: float, pih: float) -> Prediction:
        c = Candidate("roller", length, sessions, interval)
        return Prediction(c, {}, 100.0, gain, pih, 2.0)

    predictions = [
        pred(0.25, 6, 42.0, 8.0, 0.01),
        pred(0.25, 3, 42.0, 5.0, 0.01),
        pred(0.25, 6, 28.0, 7.5, 0.02),
        pred(1.5, 3, 28.0, 30.0, 0.4),  # outside the PIH limit
    ]
    sel = select(predictions, Limits(0.05, 7.0, 0.05))
    assert sel.recommended is not None and sel.recommended.candidate.sessions == 6
    alternatives = [p.candidate for p, _ in sel.alternatives]
    assert len(alternatives) == 2 and sel.recommended.candidate not in alternatives
    assert all(c.needle_length_mm == 0.25 for c in alternatives)
    assert [c.interval_days for c in alternatives] == [28.0, 42.0]  # best improvement first
    assert "another schedule" in sel.alternatives[0][1]
