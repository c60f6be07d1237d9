"""Warnings (never blocking): depth limits, recovery intervals, the calibrated domain."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from needlesim.config import RunConfig, Study, load
from needlesim.data import load_table
from needlesim.safety import calibrated_domain, check_run, check_study, recovery_days
from needlesim.safety.domain import CalibratedDomain, studies_folder

REPO = Path(__file__).resolve().parents[1]
CALIBRATION = REPO / "studies" / "calibration"


def _run(**changes: object) -> RunConfig:
    base: dict[str, object] = {
        "name": "w",
        "patient": {"age_years": 30, "fitzpatrick": 3, "region": "cheek",
                    "indication": "atrophic_acne_scars"},
        "protocol": {"device": {"type": "roller", "needle_length_mm": 1.5}, "sessions": 3,
                     "interval_days": 28},
    }  # fmt: skip
    for path, value in changes.items():
        node: dict[str, object] = base
        *head, last = path.split(".")
        for key in head:
            node = node[key]  # type: ignore[assignment]
        node[last] = value
    return RunConfig.model_validate(base)


def _fields(config: RunConfig, code: str) -> set[str]:
    return {w.field for w in check_run(config) if w.code == code}


def test_the_domain_is_the_hull_of_the_calibration_studies() -> None:
    domain = calibrated_domain(CALIBRATION)
    assert domain is not None and len(domain.studies) == len(list(CALIBRATION.glob("*.yaml")))
    lengths, intervals = [], []
    for f in CALIBRATION.glob("*.yaml"):
        raw = yaml.safe_load(f.read_text())
        device = raw["protocol"].get("device", {})
        if "needle_length_mm" in device:
            lengths.append(device["needle_length_mm"])
        if raw["protocol"].get("sessions", 1) > 1:
            intervals.append(raw["protocol"]["interval_days"])
        assert raw["population"]["region"] in domain.regions
    assert domain.needle_length_mm[0] <= min(lengths) and domain.needle_length_mm[1] >= max(lengths)
    assert domain.interval_days == (min(intervals), max(intervals))


def test_no_calibration_study_is_outside_its_own_domain() -> None:
    for f in sorted(CALIBRATION.glob("*.yaml")):
        assert [w for w in check_study(load(Study, f)) if w.code == "outside_calibration"] == []


def test_a_config_inside_everything_has_no_warning() -> None:
    assert check_run(_run()) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"patient.age_years": 89}, "patient.age_years"),
        ({"patient.region": "neck"}, "patient.region"),
        ({"protocol.sessions": 20}, "protocol.sessions"),
        ({"protocol.interval_days": 90}, "protocol.interval_days"),
    ],
)
def test_each_input_outside_the_domain_is_named(change: dict[str, object], field: str) -> None:
    assert _fields(_run(**change), "outside_calibration") == {field}


def test_depth_limit_comes_from_safety_yaml() -> None:
    limits = load_table("safety.yaml")["depth_limits_mm"]
    at = _run(**{"patient.region": "chin", "protocol.device.needle_length_mm": limits["chin"]})
    assert _fields(at, "depth_limit") == set()
    over = _run(
        **{"patient.region": "chin", "protocol.device.needle_length_mm": limits["chin"] + 0.05}
    )
    assert _fields(over, "depth_limit") == {"protocol.device.needle_length_mm"}


def test_short_interval_uses_the_inflammation_phase_and_downtime() -> None:
    lo = load_table("safety.yaml")["inflammation_phase"]["inflammation_days"][0]
    assert recovery_days(0.25) == lo  # shallow: the inflammation phase dominates
    assert _fields(_run(**{"protocol.interval_days": lo}), "short_interval") == set()
    short = _run(**{"protocol.interval_days": lo - 1})
    assert _fields(short, "short_interval") == {"protocol.interval_days"}


def test_explicit_sessions_name_the_session_field() -> None:
    config = _run(
        **{"protocol.sessions": [{"day": 0}, {"day": 3}, {"day": 40, "needle_length_mm": 2.5}]}
    )
    assert _fields(config, "short_interval") == {"protocol.sessions[1].day"}
    assert _fields(config, "depth_limit") == {"protocol.sessions[2].needle_length_mm"}


def test_sessions_after_the_end_of_the_run_are_named() -> None:
    """3 sessions 28 days apart (days 0, 28, 56): a run of 56 days or more has them all."""
    assert _fields(_run(**{"simulation": {"duration_days": 56}}), "sessions_after_end") == set()
    one = [w for w in check_run(_run(**{"simulation": {"duration_days": 40}}))
           if w.code == "sessions_after_end"]  # fmt: skip
    assert [w.field for w in one] == ["simulation.duration_days"]
    assert "day 56, which is not simulated" in one[0].message
    two = [w for w in check_run(_run(**{"simulation": {"duration_days": 10}}))
           if w.code == "sessions_after_end"]  # fmt: skip
    assert "sessions on days 28, 56, which are not simulated" in two[0].message


def test_study_population_outside_the_domain() -> None:
    study = Study.model_validate(
        {"name": "s", "population": {"age_years": {"min": 60, "max": 90}, "region": "neck"}}
    )
    fields = {w.field for w in check_study(study) if w.code == "outside_calibration"}
    # (every Fitzpatrick type is covered since the evidence base has a type VI group)
    assert {"population.age_years", "population.region"} <= fields


def test_domain_folder_can_be_chosen(monkeypatch, tmp_path) -> None:
    (tmp_path / "one.yaml").write_text(
        "name: one\npopulation: {age_years: {min: 40, max: 50}}\n"
        "protocol: {device: {needle_length_mm: 1.0}, sessions: 2, interval_days: 21}\n"
    )
    monkeypatch.setenv("NEEDLESIM_CALIBRATION_STUDIES", str(tmp_path))
    assert studies_folder() == tmp_path
    domain = calibrated_domain()
    assert isinstance(domain, CalibratedDomain)
    assert domain.age_years == (40.0, 50.0) and domain.interval_days == (21.0, 21.0)


def test_a_layered_run_ending_before_a_session_equals_the_course_without_it() -> None:
    """Three sessions (days 0, 28, 56) in a run of 40 days: the course of the first two,
    to the digit, and the summary lists only the sessions simulated."""
    from needlesim.course import simulate_course
    from needlesim.report.course import summary

    cut = simulate_course(_run(**{"simulation": {"duration_days": 40, "output_days": [0, 40]}}))
    two = simulate_course(
        _run(
            **{"protocol.sessions": 2, "simulation": {"duration_days": 40, "output_days": [0, 40]}}
        )
    )
    np.testing.assert_array_equal(cut.session_days, [0.0, 28.0])
    assert [s["day"] for s in summary(cut)["sessions"]] == [0.0, 28.0]
    for name, values in two.observables.items():
        np.testing.assert_allclose(cut.observables[name], values, rtol=1e-12, atol=1e-12)
