"""Study format extension (statistic, threshold, n, source, adjuncts, group), the predicted
statistics and the cited adjunct effects."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from needlesim.cli import app
from needlesim.config import Adjunct, ConfigError, Observable, Statistic, Study, load, validate
from needlesim.outcomes.adjuncts import (
    adjunct_effects,
    apply_adjuncts,
    effects_for,
    not_modelled,
    not_modelled_reasons,
)
from needlesim.studies import run_study, summarise
from needlesim.studies.statistics import sd_interval, wilson_interval

ROOT = Path(__file__).resolve().parents[1]


def _problems(data: dict) -> str:
    with pytest.raises(ConfigError) as info:
        validate(Study, data)
    return str(info.value)


def _study(**measurement) -> dict:
    m = {"observable": "scar_grade_change", "day": 60, "value": 0.5, **measurement}
    return {"name": "s", "population": {"n": 30}, "measurements": [m]}


@pytest.mark.parametrize(
    ("measurement", "expected"),
    [
        ({"statistic": "fraction_at_most"}, "threshold is required when statistic"),
        ({"statistic": "mean", "threshold": -1.0}, "threshold (-1.0) is only allowed"),
        ({"statistic": "median"}, "'median' is not allowed; choose one of 'mean'"),
        ({"statistic": "fraction_at_least", "threshold": 0, "value": 1.4}, "allowed: 0 to 1"),
        ({"statistic": "sd", "value": -0.2}, "allowed: >= 0"),
        ({"n": 31}, "measurements[0].n (31) exceeds population.n (30)"),
        ({"observable": "pih_incidence", "statistic": "sd"}, "not allowed for pih_incidence"),
        ({"observable": "pih_incidence", "value": 7}, "allowed: 0 to 1"),
    ],
)
def test_bad_measurements_name_field_value_and_what_is_allowed(measurement, expected) -> None:
    assert expected in _problems(_study(**measurement))


def test_bad_adjunct_and_repeated_adjunct() -> None:
    text = _problems({"name": "s", "protocol": {"adjuncts": ["prp", "unicorn"]}})
    assert "protocol.adjuncts[1]: 'unicorn' is not allowed" in text and "'prp'" in text
    assert "must not repeat" in _problems({"name": "s", "protocol": {"adjuncts": ["prp", "prp"]}})


def test_extended_study_round_trips_and_is_in_the_schema() -> None:
    study = validate(
        Study,
        {
            **_study(statistic="fraction_at_most", threshold=-0.5, n=20, sd=0.5, source="a.b"),
            "group": "g",
            "protocol": {"adjuncts": ["prp"]},
        },
    )
    m = study.measurements[0]
    assert (m.statistic, m.threshold, m.n, m.source) == (
        Statistic.fraction_at_most,
        -0.5,
        20,
        "a.b",
    )
    assert study.group == "g" and study.protocol.adjuncts == [Adjunct.prp]
    schema = json.dumps(Study.model_json_schema())
    for key in ("statistic", "threshold", "adjuncts", "group", "fraction_at_least", "source"):
        assert key in schema


def test_cli_study_run_rejects_a_bad_file_with_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(_study(statistic="fraction_at_most")), "utf-8")
    result = CliRunner().invoke(app, ["study", "run", str(path)])
    assert result.exit_code == 2
    assert "threshold is required" in result.output and "Traceback" not in result.output


def test_fraction_and_sd_of_a_known_distribution() -> None:
    x = np.random.default_rng(1).normal(-1.0, 0.5, 200_000)
    at_most = summarise(x, Observable.scar_grade_change, Statistic.fraction_at_most, -1.5, 40)
    assert at_most.value == pytest.approx(0.1587, abs=0.003)  # Phi(-1)
    assert (at_most.p2_5, at_most.p97_5) == pytest.approx(wilson_interval(at_most.value, 40))
    at_least = summarise(x, Observable.scar_grade_change, Statistic.fraction_at_least, -1.5, 40)
    assert at_least.value == pytest.approx(1.0 - at_most.value, abs=1e-4)
    sd = summarise(x, Observable.scar_grade_change, Statistic.sd, n=31)
    assert sd.value == pytest.approx(0.5, rel=0.01)
    assert sd.p2_5 < 0.5 < sd.p97_5


def test_sd_interval_covers_the_true_sd_of_95_percent_of_samples() -> None:
    """The chi-square range of a sample SD: a sample of n has its SD inside it 95 % of the time."""
    rng = np.random.default_rng(7)
    lo, hi = sd_interval(1.0, 12)
    sds = rng.normal(0.0, 1.0, (20_000, 12)).std(axis=1, ddof=1)
    inside = np.mean((sds >= lo) & (sds <= hi))
    assert inside == pytest.approx(0.95, abs=0.006)


def test_mean_interval_shrinks_with_the_study_size() -> None:
    x = np.random.default_rng(3).normal(10.0, 4.0, 5000)
    small = summarise(x, Observable.dermal_collagen_change_pct, n=10)
    large = summarise(x, Observable.dermal_collagen_change_pct, n=1000)
    assert small.p2_5 == large.p2_5  # the patients' range does not depend on n
    assert (small.mean_p97_5 - small.mean_p2_5) == pytest.approx(
        10 * (large.mean_p97_5 - large.mean_p2_5), rel=1e-9
    )


def test_every_adjunct_is_modelled_or_has_a_reason() -> None:
    modelled = {e.adjunct for e in adjunct_effects()}
    reasons = not_modelled_reasons()
    for adjunct in Adjunct:
        assert (adjunct in modelled) != (adjunct in reasons), adjunct
    for effect in adjunct_effects():
        assert effect.source and effect.kind in ("factor", "combined_remaining_fraction")
        if effect.interval is not None:
            assert effect.interval[0] <= effect.value <= effect.interval[1]


def test_prp_factor_is_the_meta_analysis_difference_on_the_needling_alone_change() -> None:
    """Kang 2022: -0.32 [-0.44, -0.20] grade over needling alone, scaled by Sharma's -0.84."""
    (effect,) = effects_for([Adjunct.prp], Observable.scar_grade_change)
    assert effect.value == pytest.approx((-0.84 - 0.32) / -0.84, abs=1e-3)
    assert effect.interval == pytest.approx(
        ((-0.84 - 0.20) / -0.84, (-0.84 - 0.44) / -0.84), abs=1e-3
    )
    out, applied = apply_adjuncts([-0.84, -2.5, 0.0], Observable.scar_grade_change, [Adjunct.prp])
    assert applied == ["prp"]
    assert out == pytest.approx([-1.16, -3.0, 0.0], abs=1e-3)  # the scale's floor is -3 grades


def test_tranexamic_acid_combines_with_needling_on_what_remains() -> None:
    """Budamakuntla 2013: acid alone -35.72 %; with a needling change of -13.5 % the two arms'
    difference is reproduced (-44.41 %)."""
    out, _ = apply_adjuncts(
        [-13.52], Observable.melasma_index_change_pct, [Adjunct.tranexamic_acid]
    )
    assert out[0] == pytest.approx(-44.41, abs=0.05)


def test_adjunct_without_effect_on_an_observable_changes_nothing() -> None:
    values = [-10.0, 5.0]
    out, applied = apply_adjuncts(values, Observable.epidermal_thickness_change_pct, list(Adjunct))
    assert applied == [] and list(out) == values
    assert not_modelled([Adjunct.prp, Adjunct.vitamin_a_c_topical]) == ["vitamin_a_c_topical"]


@pytest.fixture(scope="module")
def sharma_arms() -> tuple[dict, dict]:
    """The needling-alone arm of Sharma and the same study with PRP, 8 virtual patients."""
    base = load(Study, ROOT / "studies" / "calibration" / "sharma-split-face-saline.yaml")
    protocol = base.protocol.model_copy(update={"adjuncts": [Adjunct.prp, Adjunct.photoprotection]})
    with_prp = base.model_copy(update={"protocol": protocol})
    return run_study(base, n=8).to_dict(), run_study(with_prp, n=8).to_dict()


def test_prp_arm_improves_the_grade_by_the_cited_amount(sharma_arms) -> None:
    alone, prp = (arm["predictions"][0] for arm in sharma_arms)
    assert alone["mean"] < 0.0 and prp["mean"] < alone["mean"]
    (effect,) = effects_for([Adjunct.prp], Observable.scar_grade_change)
    assert effect.interval is not None
    ratio = prp["mean"] / alone["mean"]
    assert effect.interval[0] <= ratio <= effect.interval[1]
    # the meta-analysis difference, for the needling-alone change the model predicts
    difference = prp["mean"] - alone["mean"]
    assert difference == pytest.approx(-0.32 * alone["mean"] / -0.84, rel=0.02)
    assert prp["adjuncts"] == ["prp"] and alone["adjuncts"] == []


def test_study_json_names_adjuncts_it_does_not_model(sharma_arms) -> None:
    alone, prp = sharma_arms
    assert alone["not_modelled_adjuncts"] == []
    assert prp["not_modelled_adjuncts"] == ["photoprotection"]
    assert prp["predictions"][0]["statistic"] == "mean"


def test_rounded_readings_add_their_noise_to_fractions_and_spread() -> None:
    """A grade's fraction past a half-grade threshold counts the rounded readings: patients
    whose expected change is exactly -1 are at most -0.5 with probability Phi(0.5 / r), not 1;
    the SD and the patients' range include the reading noise."""
    from scipy.stats import norm

    from needlesim.outcomes import reading_sd
    from needlesim.studies.statistics import summarise

    r = reading_sd(Observable.scar_grade_change)
    assert 0.4 < r < 0.7  # sqrt(2 (0.25^2 + 1/12))
    values = np.full(50, -1.0)
    frac = summarise(values, Observable.scar_grade_change, Statistic.fraction_at_most, -0.5, 50, r)
    assert frac.value == pytest.approx(norm.cdf(0.5 / r))
    assert (
        summarise(values, Observable.scar_grade_change, Statistic.fraction_at_most, -0.5).value
        == 1.0
    )
    sd = summarise(values, Observable.scar_grade_change, Statistic.sd, None, 50, r)
    assert sd.value == pytest.approx(r)
    mean = summarise(values, Observable.scar_grade_change, Statistic.mean, None, 50, r)
    assert mean.value == pytest.approx(-1.0)
    assert mean.p2_5 < -1.0 - r and mean.p97_5 > -1.0 + r
    assert reading_sd(Observable.pih_incidence) == 0.0
