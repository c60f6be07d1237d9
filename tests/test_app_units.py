"""The app's pieces without a browser: labels, uploads, field errors, jobs, loopback."""

from __future__ import annotations

import time

import pytest

from needlesim.config import ConfigError, Observable, RunConfig, Study, validate
from needlesim.outcomes.labels import (
    LABELS,
    icon_array,
    icon_array_svg,
    is_improvement,
    per_hundred,
    risk_sentence,
)

STUDY = """
name: tiny
population: {n: 4, age_years: {mean: 30, sd: 5}, fitzpatrick: [2, 3], region: cheek,
             indication: atrophic_acne_scars}
protocol: {device: {type: roller, needle_length_mm: 1.5}, sessions: 3, interval_days: 28}
measurements:
  - {observable: scar_depth_change_pct, after_last_session_days: 28, value: -20.0}
"""


def test_every_contract_observable_has_a_readable_label_and_unit() -> None:
    assert set(LABELS) == {o.value for o in Observable}
    for name, lab in LABELS.items():
        assert lab.label and "_" not in lab.label, name
        assert lab.unit, name
        assert lab.better in ("lower", "higher", None)


def test_improvement_follows_the_good_direction() -> None:
    assert is_improvement("scar_depth_change_pct", -10.0) is True  # shallower scars
    assert is_improvement("dermal_collagen_change_pct", -10.0) is False  # collagen lost
    assert is_improvement("wrinkle_grade_change", -1.0) is True  # grade down
    assert is_improvement("dermal_thickness_change_pct", 5.0) is None


@pytest.mark.parametrize(("p", "n"), [(0.0, 0), (0.004, 0), (0.046, 5), (0.5, 50), (1.2, 100)])
def test_icon_array_fills_n_in_100(p: float, n: int) -> None:
    assert per_hundred(p) == n
    cells = icon_array(p)
    assert len(cells) == 100 and sum(cells) == n
    assert cells[:n] == [True] * n  # filled first, row by row
    svg = icon_array_svg(p)
    assert svg.count("<circle") == 100 and f'aria-label="{n} in 100"' in svg


def test_risk_sentence_never_says_zero_for_a_small_risk() -> None:
    assert risk_sentence(0.003).startswith("Fewer than 1 in 100")
    assert risk_sentence(0.12) == "About 12 in 100 patients like this get dark marks (PIH)."


def test_upload_is_parsed_safely_in_memory_and_size_limited() -> None:
    from needlesim.app.services import MAX_UPLOAD_BYTES, parse

    study = parse(STUDY, Study, "tiny.yaml")
    assert isinstance(study, Study) and study.population.n == 4
    with pytest.raises(ConfigError, match="larger than"):
        parse("#" * (MAX_UPLOAD_BYTES + 1), Study)
    # a Python object tag is not executed: safe loading refuses it
    with pytest.raises(ConfigError, match="malformed YAML"):
        parse("name: !!python/object/apply:os.system ['true']\n", Study)
    with pytest.raises(ConfigError, match=r"population\.n"):
        parse("name: bad\npopulation: {n: -1}\n", Study)


def test_field_errors_carry_the_cli_message_to_the_right_field() -> None:
    from needlesim.app.common import errors_by_field

    data = {
        "patient": {"age_years": 150, "fitzpatrick": 9},
        "protocol": {"device": {"type": "roller", "needle_length_mm": 9}, "sessions": 3},
    }
    with pytest.raises(ConfigError) as caught:
        validate(RunConfig, data)
    found = errors_by_field(
        caught.value,
        {"patient.age_years": "age", "protocol.device.needle_length_mm": "needle"},
        "form",
    )
    assert found["age"] == ["150 is out of range; allowed: 16.0 to 90.0"]
    assert found["needle"] == ["9 is out of range; allowed: 0.0 to 3.0"]
    assert any(m.startswith("patient.fitzpatrick: 9") for m in found["form"])


def test_a_cancelled_job_stops_at_its_next_progress_report() -> None:
    from needlesim.app.state import Jobs

    jobs = Jobs()
    reports: list[int] = []

    def work(job: object) -> str:
        for i in range(200):
            job.report(i / 200)  # type: ignore[attr-defined]
            reports.append(i)
            time.sleep(0.01)
        return "finished"

    job = jobs.start("test", work)
    while not reports:
        time.sleep(0.01)
    assert jobs.cancel(job.id)
    assert job.state == "cancelled"  # at once, for the page
    deadline = time.monotonic() + 10
    while len(reports) < 200 and time.monotonic() < deadline:
        before = len(reports)
        time.sleep(0.1)
        if len(reports) == before:
            break
    assert len(reports) < 200 and job.result is None and job.state == "cancelled"
    assert not jobs.cancel(job.id)  # only a running job can be cancelled


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("127.0.0.2", True),
     ("0.0.0.0", False), ("192.168.1.5", False), ("example.org", False)],
)  # fmt: skip
def test_loopback_addresses(host: str, loopback: bool) -> None:
    from needlesim.app.server import is_loopback

    assert is_loopback(host) is loopback


def test_healthz_is_503_until_warm_up_is_done() -> None:
    from needlesim.app.server import create_app
    from needlesim.app.state import READY

    client = create_app().server.test_client()
    READY.ready.clear()
    assert client.get("/healthz").status_code == 503
    READY.warmup_s = 1.0
    READY.ready.set()
    try:
        assert client.get("/healthz").status_code == 200
    finally:
        READY.ready.clear()


def test_validation_page_reads_the_cross_validation_the_cli_writes(tmp_path) -> None:
    """`needlesim validate --cross-validate` writes results/validation/cross_validation.json;
    the Validation page lists its measurements; without one, the packaged run."""
    import json

    from needlesim.app import services

    packaged = services.cross_validation(tmp_path)
    assert packaged is not None and "packaged run" in packaged.source
    assert len(packaged.measurements) >= 40  # every calibration measurement, held out
    assert 0.8 <= packaged.summary["fraction_within_tolerance"] <= 1.0
    folder = tmp_path / "results" / "validation"
    folder.mkdir(parents=True)
    row = {
        "study": "s",
        "observable": "scar_grade_change",
        "day": 84.0,
        "measured": -1.0,
        "mean": -0.9,
        "mean_p2_5": -1.5,
        "mean_p97_5": -0.3,
        "within_tolerance": True,
    }
    (folder / "cross_validation.json").write_text(
        json.dumps({"measurements": [row], "fraction_within_tolerance": 1.0})
    )
    local = services.cross_validation(tmp_path)
    assert local is not None and local.measurements == [row]
    assert str(folder) in local.source and local.summary == {"fraction_within_tolerance": 1.0}
