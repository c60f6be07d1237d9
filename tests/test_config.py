"""Configuration: defaults, bounds, schedules, and error messages that name the field."""

from __future__ import annotations

import json

import pytest

from needlesim.config import (
    ConfigError,
    PenDevice,
    Protocol,
    RollerDevice,
    RunConfig,
    Study,
    load,
    validate,
)


def problems(model, data) -> list[str]:
    with pytest.raises(ConfigError) as info:
        validate(model, data)
    return [str(p) for p in info.value.problems]


def test_defaults_are_the_published_dermaroller() -> None:
    roller = RollerDevice()
    assert (roller.needle_count, roller.rows) == (192, 8)
    assert roller.drum_diameter_mm == roller.drum_width_mm == 20.0
    assert roller.needle_length_mm == 1.5 and roller.needle_tilt_deg == 15.0
    assert roller.passes == 15


def test_every_example_loads(examples) -> None:
    files = sorted(examples.glob("*.yaml"))
    assert files
    for path in files:
        assert isinstance(load(RunConfig, path), RunConfig)


def test_out_of_range_names_field_value_and_bounds() -> None:
    [msg] = problems(RunConfig, {"patient": {"age_years": 12}})
    assert msg.startswith("patient.age_years:")
    assert "12" in msg and "16" in msg and "90" in msg


def test_unknown_key_lists_allowed_keys() -> None:
    [msg] = problems(RunConfig, {"protocol": {"device": {"type": "pen", "speed": 3}}})
    assert msg.startswith("protocol.device.speed:")
    assert "glide_speed_mm_s" in msg and "stroke_frequency_hz" in msg


def test_unknown_region_lists_regions() -> None:
    [msg] = problems(RunConfig, {"patient": {"region": "cheeks"}})
    assert "patient.region" in msg and "'cheeks'" in msg
    for region in ("forehead", "cheek", "back"):
        assert region in msg


def test_unknown_device_type() -> None:
    [msg] = problems(RunConfig, {"protocol": {"device": {"type": "laser"}}})
    assert msg.startswith("protocol.device.type:") and "roller" in msg and "pen" in msg


def test_all_problems_reported_at_once() -> None:
    found = problems(
        RunConfig,
        {
            "patient": {"age_years": 100, "fitzpatrick": 7},
            "simulation": {"seed": -1, "fidelity": "3d"},
        },
    )
    assert len(found) == 4


def test_roller_rows_must_divide_needles() -> None:
    [msg] = problems(RollerDevice, {"needle_count": 190, "rows": 8})
    assert "190" in msg and "rows" in msg


def test_schedule_from_count_and_interval() -> None:
    protocol = Protocol(sessions=4, interval_days=30)
    assert [s.day for s in protocol.schedule()] == [0, 30, 60, 90]
    assert protocol.last_session_day == 90


def test_explicit_schedule_with_per_session_overrides() -> None:
    protocol = validate(
        Protocol,
        {
            "device": {"type": "pen", "needle_length_mm": 1.0},
            "interval_days": 14,
            "sessions": [{}, {"passes": 5}, {"day": 60, "needle_length_mm": 1.5}],
        },
    )
    sched = protocol.schedule()
    assert [s.day for s in sched] == [0, 14, 60]
    assert isinstance(sched[1].device, PenDevice) and sched[1].device.passes == 5
    assert sched[2].device.needle_length_mm == 1.5 and sched[0].device.needle_length_mm == 1.0


def test_session_days_must_increase() -> None:
    [msg] = problems(Protocol, {"sessions": [{"day": 10}, {"day": 5}]})
    assert "increase" in msg


def test_study_format_of_design_md(write_yaml) -> None:
    path = write_yaml(
        """
name: my-study
citation: "optional"
population:
  n: 30
  age_years: {mean: 26, sd: 5}
  sex_female_fraction: 0.6
  fitzpatrick: [3, 4]
  region: cheek
  indication: atrophic_acne_scars
protocol:
  device: {type: roller, needle_length_mm: 1.5}
  sessions: 5
  interval_days: 30
measurements:
  - {observable: epidermal_thickness_change_pct, after_last_session_days: 56, value: 50.0}
  - {observable: pih_incidence, day: 150}
"""
    )
    study = load(Study, path)
    assert study.population.n == 30 and study.protocol.session_count == 5
    first, second = study.measurements
    assert first.day_from_first_session(study.protocol.last_session_day) == 120 + 56
    assert second.value is None


def test_age_range_form_and_errors() -> None:
    study = validate(Study, {"name": "s", "population": {"age_years": {"min": 20, "max": 40}}})
    assert study.population.age_years.max == 40  # type: ignore[union-attr]
    [msg] = problems(Study, {"name": "s", "population": {"age_years": {"min": 50, "max": 20}}})
    assert msg.startswith("population.age_years")


def test_measurement_needs_exactly_one_time() -> None:
    [msg] = problems(Study, {"name": "s", "measurements": [{"observable": "pih_incidence"}]})
    assert msg.startswith("measurements[0]") and "day" in msg


def test_unknown_observable_lists_contract_names() -> None:
    [msg] = problems(Study, {"name": "s", "measurements": [{"observable": "x", "day": 1}]})
    assert "collagen_I_change_pct" in msg


def test_nan_and_infinity_rejected() -> None:
    found = problems(RunConfig, {"patient": {"age_years": float("nan")}})
    assert found and "patient.age_years" in found[0]
    found = problems(
        Study,
        {
            "name": "s",
            "measurements": [{"observable": "pih_incidence", "day": 1, "value": float("inf")}],
        },
    )
    assert "value" in found[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("patient: {age_years: [1,\n", "malformed YAML at line"),
        ("- a\n- b\n", "mapping"),
        ("patient: 3\n", "patient: expected a mapping"),
    ],
)
def test_bad_files(write_yaml, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(RunConfig, write_yaml(text))
    assert expected in info.value.render()


def test_missing_file(tmp_path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load(RunConfig, tmp_path / "nope.yaml")


def test_json_schema_has_units_and_bounds() -> None:
    schema = json.dumps(RunConfig.model_json_schema())
    assert "needle_length_mm" in schema and "interval_days" in schema
    props = RunConfig.model_json_schema()["$defs"]["Patient"]["properties"]
    assert props["age_years"]["minimum"] == 16 and props["age_years"]["maximum"] == 90
