"""The packaged fitted set against the calibration studies, and its provenance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from needlesim.biology import default_parameters, registry
from needlesim.biology.parameters import fitted_set
from needlesim.outcomes import OutcomeParameters
from needlesim.outcomes.parameters import fitted_sources

STUDIES = Path(__file__).resolve().parents[1] / "studies" / "calibration"

RECHECKED = ["aust-2008-epidermis", "majid-2009-scar-grade", "fabbrocini-2014-pih-type-6"]
"""Studies whose recorded ``after`` is recomputed (one per instrument kind: histometry,
a rounded grade with its fractions, an incidence); the full set takes minutes."""


def test_packaged_fit_matches_its_own_record() -> None:
    """fitted.yaml records the real model at the posterior median (``after``) on each study's
    fixed calibration cohort; the packaged parameters reproduce it (to the rounding of the
    recorded values)."""
    from needlesim.calibration.bayes.data import load_data
    from needlesim.calibration.bayes.scales import natural
    from needlesim.calibration.bayes.simulate import ModelOutputs
    from needlesim.calibration.bayes.spec import load_spec

    spec = load_spec()
    every = load_data(STUDIES, spec)
    rows = [i for i, d in enumerate(every) if d.study.name in RECHECKED]
    data = [every[i] for i in rows]
    fitted = fitted_set()
    theta = np.array([fitted["parameters"][f.name]["value"] for f in spec.free])
    out = ModelOutputs(data, spec)(theta)
    k = len(data)
    assert len(data) >= 5 and len(fitted["targets"]) == len(every)
    for i, d in enumerate(data):
        entry = fitted["targets"][rows[i]]  # recorded in the order of the data
        assert (entry["study"], entry["observable"]) == (d.study.name, d.observable)
        value = float(natural(d, out[i], out[k + i]))
        assert value == pytest.approx(entry["after"], rel=2e-3, abs=1e-4), d


def test_packaged_fit_predicts_its_calibration_studies() -> None:
    """In-sample: the packaged posterior's predictive interval of the study mean holds at
    least 80 % of the measured values of the 29 studies, and no free parameter is at a bound."""
    fitted = fitted_set()
    targets = fitted["targets"]
    inside = [t["mean_p2_5"] <= t["measured"] <= t["mean_p97_5"] for t in targets]
    assert len(targets) >= 40 and np.mean(inside) >= 0.8, np.mean(inside)
    assert not any(e["at_bound"] for e in fitted["parameters"].values())


def test_fitted_values_replace_the_priors_with_provenance() -> None:
    fitted = fitted_set()["parameters"]
    rows = {r.name: r for r in registry()}
    priors = {r.name: r for r in registry(fitted=False)}
    kinetic = [n for n, e in fitted.items() if e["kind"] == "kinetic"]
    assert kinetic
    for name in kinetic:
        row = rows[name]
        assert row.kind == "fitted" and row.value == fitted[name]["value"]
        assert row.source.startswith("fitted: needlesim calibrate")
        assert all(t in row.source for t in fitted[name]["informed_by"])
        assert f"prior {priors[name].value:.4g}" in row.source
        assert float(getattr(default_parameters(), name)) == row.value
        assert float(getattr(default_parameters(fitted=False), name)) == priors[name].value
    outcome = OutcomeParameters.from_data()
    prior = OutcomeParameters.from_data(fitted=False)
    for name, entry in fitted.items():
        if entry["kind"] == "observation":
            assert getattr(outcome, name) == entry["value"]
            assert name in fitted_sources()
    unchanged = [n for n in rows if n not in fitted]
    assert all(rows[n] == priors[n] for n in unchanged)
    assert prior.scar_fill_gain == 2.0


def test_fitted_values_lie_in_their_bounds() -> None:
    for name, entry in fitted_set()["parameters"].items():
        lo, hi = entry["bounds"]
        assert lo <= entry["value"] <= hi, name
        assert entry["at_bound"] == (entry["log_sd"] is None), name
        assert entry["log_sd"] is None or np.isfinite(entry["log_sd"])


def test_packaged_cross_validation_holds_out_every_packaged_target() -> None:
    """The packaged held-out record (docs/validation.md, the app's Validation page) is of
    the same evidence base as the packaged fit: every calibration measurement, held out once,
    with the same measured value, and at least 80 % of them within tolerance (issue 11)."""
    from needlesim.data import load_table

    record = load_table("cross_validation.json")  # JSON is YAML

    def key(row: dict) -> tuple[str, str, str, float, float]:
        return (
            row["study"],
            row["observable"],
            row.get("statistic", "mean"),
            round(float(row["day"]), 6),
            round(float(row["measured"]), 6),
        )

    held_out = sorted(key(m) for m in record["measurements"])
    fitted = sorted(key(t) for t in fitted_set()["targets"])
    assert held_out == fitted
    within = [m["within_tolerance"] for m in record["measurements"]]
    assert record["fraction_within_tolerance"] == pytest.approx(np.mean(within))
    assert np.mean(within) >= 0.8
