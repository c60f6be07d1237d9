"""Protocol arms over one sampled population, and paired effect sizes with bootstrap intervals."""

from __future__ import annotations

import json

import numpy as np
import pytest

from needlesim.config import ConfigError
from needlesim.scale import (
    ArmsStudy,
    compare_arms,
    load_study,
    paired_bootstrap,
    read_cohort,
    run_cohort,
)
from needlesim.scale.compare import plot_effects
from needlesim.testing.analytic import analytic_evaluator

ARMS_YAML = """
name: depth-trial
population: {fitzpatrick: [2, 3], region: cheek, indication: atrophic_acne_scars}
arms:
  - {name: shallow, protocol: {device: {type: roller, needle_length_mm: 0.5}, sessions: 3}}
  - {name: deep, protocol: {device: {type: roller, needle_length_mm: 1.5}, sessions: 3}}
  - {name: deep6, protocol: {device: {type: roller, needle_length_mm: 1.5}, sessions: 6}}
simulation: {seed: 5}
"""


def test_arms_study_loads_and_validates(write_yaml) -> None:
    study = load_study(write_yaml(ARMS_YAML))
    assert isinstance(study, ArmsStudy)
    assert [a.name for a in study.arms] == ["shallow", "deep", "deep6"]
    assert study.reference_arm == "shallow"
    bad = {
        "repeated": ARMS_YAML.replace("name: deep6", "name: deep"),
        "both": ARMS_YAML + "protocol: {sessions: 2}\n",
        "reference": ARMS_YAML + "reference: nope\n",
        "one arm": "name: x\narms:\n  - {name: a}\n",
        "bad name": ARMS_YAML.replace("name: deep6", "name: 'deep 6'"),
    }
    for case, text in bad.items():
        with pytest.raises(ConfigError):
            load_study(write_yaml(text, f"{case.replace(' ', '_')}.yaml"))


def test_arms_share_patients_and_give_paired_effects(write_yaml, tmp_path) -> None:
    study = load_study(write_yaml(ARMS_YAML))
    out = tmp_path / "arms"
    run_cohort(study, 300, out, scheduler="inline", batch_size=128,
               evaluator=analytic_evaluator, progress=False, plots=False)  # fmt: skip
    frame = read_cohort(out)
    assert frame["arm"].unique().tolist() == ["deep", "deep6", "shallow"]  # sorted
    seeds = frame.groupby("arm")["seed"].apply(lambda s: tuple(s.to_numpy()))
    assert seeds["shallow"] == seeds["deep"] == seeds["deep6"]  # the same patients
    data = json.loads((out / "comparison.json").read_text())
    assert data["reference"] == "shallow" and data["test_double"] is True
    effects = {(e["arm"], e["observable"], e["visit"]): e for e in data["effects"]}
    deep = effects[("deep", "dermal_collagen_change_pct", 2)]  # the last output visit
    # 1.5 mm responds more than 0.5 mm in the test double; the interval excludes 0.
    assert deep["diff"] > 0 and deep["diff_lo"] > 0 and deep["smd"] > 0
    assert deep["diff_lo"] <= deep["diff"] <= deep["diff_hi"]
    assert deep["day"] == deep["day_reference"] and deep["n"] == 300
    wide = frame.pivot(index=["day", "patient_id"], columns="arm",
                       values="dermal_collagen_change_pct").loc[deep["day"]]  # fmt: skip
    assert deep["diff"] == pytest.approx((wide["deep"] - wide["shallow"]).mean())
    # Six sessions end later: the same visit falls on a later day; both days are reported.
    six = effects[("deep6", "dermal_collagen_change_pct", 2)]
    assert six["day"] > six["day_reference"] == deep["day"] and six["diff"] > deep["diff"]
    again = compare_arms(out, reference="deep", observables=["pih_incidence"], n_boot=200)
    assert again["reference"].eq("deep").all() and set(again["arm"]) == {"shallow", "deep6"}
    png = plot_effects(again, tmp_path / "effects.png", "effects")
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_paired_bootstrap_recovers_a_known_difference() -> None:
    rng = np.random.default_rng(1)
    b = rng.normal(10.0, 2.0, 4000)
    a = b + 1.0 + rng.normal(0.0, 0.5, 4000)
    stats = paired_bootstrap(a, b, rng=np.random.default_rng(2), n_boot=1000, groups_max=4000)
    assert stats["diff"] == pytest.approx(1.0, abs=0.05)
    assert stats["diff_lo"] < 1.0 < stats["diff_hi"]
    # Paired: the interval reflects sd(a - b) = 0.5, not sd(a), sd(b) ~ 2.
    assert stats["diff_hi"] - stats["diff_lo"] == pytest.approx(
        2 * 1.96 * 0.5 / np.sqrt(4000), rel=0.2
    )
    expected_smd = (a.mean() - b.mean()) / np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
    assert stats["smd"] == pytest.approx(expected_smd)
    assert stats["smd_lo"] < stats["smd"] < stats["smd_hi"]


def test_grouped_bootstrap_matches_the_patient_bootstrap() -> None:
    rng = np.random.default_rng(3)
    b = rng.gamma(2.0, 3.0, 40_000)
    a = b + rng.normal(0.5, 1.0, 40_000)
    per_patient = paired_bootstrap(a, b, rng=np.random.default_rng(4), n_boot=400,
                                   groups_max=40_000)  # fmt: skip
    grouped = paired_bootstrap(a, b, rng=np.random.default_rng(4), n_boot=400, groups_max=2000)
    for key in ("diff", "smd"):
        width_p = per_patient[f"{key}_hi"] - per_patient[f"{key}_lo"]
        width_g = grouped[f"{key}_hi"] - grouped[f"{key}_lo"]
        assert width_g == pytest.approx(width_p, rel=0.2)
        assert grouped[key] == per_patient[key]
