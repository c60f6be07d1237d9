"""The Bayesian calibration on synthetic problems with an analytic model (not the ODE)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from needlesim.calibration.bayes.crossval import cross_validate_data
from needlesim.calibration.bayes.data import Datum
from needlesim.calibration.bayes.emulator import design, exponents, fit_emulator
from needlesim.calibration.bayes.model import layout, sample
from needlesim.calibration.bayes.predictive import predict_data
from needlesim.calibration.bayes.spec import FreeParam, Instrument, Prior, Spec
from needlesim.config import Study

SPEC = Spec(
    free=(
        FreeParam("k", "kinetic", Prior(0.5, 2.0), "", ""),
        FreeParam("g", "observation", Prior(1.0, 8.0), "", "", "gauge"),
    ),
    instruments={
        "gauge": Instrument("gauge", "", ("o1",), "g", 0.05, ""),
        "plain": Instrument("plain", "", ("o2",), None, 0.05, ""),
    },
    default_cv=0.6,
    default_cv_reason="",
)
DOSES = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0)


def analytic(u: np.ndarray, dose: float, observable: str) -> np.ndarray:
    """A known quadratic in ln theta: o1 = dose (2 + u_k) g-ish, o2 = dose (1 + u_k)^2."""
    uk, ug = u[..., 0], u[..., 1]
    if observable == "o1":
        return dose * (2.0 + uk) + 3.0 * ug + 0.5 * ug**2
    return dose * (1.0 + uk) ** 2


def _data(truth: np.ndarray, shift: dict[str, float] | None = None) -> list[Datum]:
    out = []
    for j, dose in enumerate(DOSES):
        study = Study(name=f"s{j}")
        for obs in ("o1", "o2"):
            value = float(analytic(truth, dose, obs)) + (shift or {}).get(study.name, 0.0)
            inst = "gauge" if obs == "o1" else "plain"
            out.append(
                Datum(
                    study, Path("x"), study.name, obs, inst, 30.0, "mean", None, value, 0.1 * 5, 25
                )
            )
    return out


def _emulator(data: list[Datum]):
    lo = np.log([0.5, 1.0])
    hi = np.log([2.0, 8.0])
    u_train, u_test = design(lo, hi, 32, 0), design(lo, hi, 8, 1)
    k = len(data)

    def outputs(u: np.ndarray) -> np.ndarray:
        dose = {f"s{j}": d for j, d in enumerate(DOSES)}
        c = np.stack([analytic(u, dose[d.study.name], d.observable) for d in data], axis=-1)
        return np.concatenate([c, np.zeros_like(c)], axis=-1)  # log spread 0: SD 1

    relevant = [SPEC.relevant(d.observable) for d in data]
    return fit_emulator(
        u_train, outputs(u_train), u_test, outputs(u_test), lo, hi, relevant + relevant, degree=2
    ), k


def test_emulator_reproduces_a_quadratic_and_reports_its_error() -> None:
    lo, hi = np.array([-1.0, 0.0, 2.0]), np.array([1.0, 3.0, 2.5])
    u, u_test = design(lo, hi, 40, 0), design(lo, hi, 10, 1)
    quad = lambda v: 1.0 + v[:, 0] - 2 * v[:, 1] * v[:, 2] + 0.3 * v[:, 2] ** 2  # noqa: E731
    wavy = lambda v: np.exp(2 * v[:, 0]) + np.sin(3 * v[:, 1])  # noqa: E731
    y = np.stack([quad(u), wavy(u)], axis=1)
    yt = np.stack([quad(u_test), wavy(u_test)], axis=1)
    emu = fit_emulator(u, y, u_test, yt, lo, hi, [[0, 1, 2], [0, 1]], degree=2)
    fresh = design(lo, hi, 5, 7)
    assert np.allclose(emu(fresh)[:, 0], quad(fresh), rtol=1e-10, atol=1e-10)
    assert emu.holdout_rmse[0] < 1e-10
    assert emu.holdout_rmse[1] > 1e-3  # not a quadratic: the error is reported
    # the JAX evaluation is the same polynomial
    assert float(emu.jax(fresh[0])[0]) == pytest.approx(float(quad(fresh[:1])[0]), rel=1e-10)
    # an output sees only its relevant inputs
    assert np.all(emu.powers[1][:, 2] == 0)
    assert exponents(2, 2).shape[0] == 6


def test_posterior_recovers_known_parameters() -> None:
    truth = np.log([1.3, 3.0])
    data = _data(truth)
    emu, _ = _emulator(data)
    post = sample(SPEC, emu, layout(data, SPEC), None, samples=200, warmup=200, chains=1, seed=1)
    med = np.median(post.u, axis=0)
    q = np.percentile(post.u, [2.5, 97.5], axis=0)
    assert np.all((q[0] < truth) & (truth < q[1])), (q, truth)
    assert np.allclose(med, truth, atol=0.1)
    # informative data: the posterior is much narrower than the prior
    prior_width = np.log([4.0, 8.0])
    assert np.all(q[1] - q[0] < 0.3 * prior_width)


def test_cross_validation_flags_the_study_that_disagrees() -> None:
    truth = np.log([1.3, 3.0])
    # one study's o2 far above the model: predicted from the others, it is missed;
    # the others, consistent with each other, are predicted within tolerance
    data = _data(truth, shift={"s3": 6.0})
    emu, _ = _emulator(data)
    result = cross_validate_data(data, SPEC, emu, samples=150, seed=0, chains=1)
    by = {(r["study"], r["observable"]): r for r in result.measurements}
    assert not by[("s3", "o2")]["within_tolerance"]
    others = [r for (s, _), r in by.items() if s != "s3"]
    assert sum(r["within_tolerance"] for r in others) >= len(others) - 1
    assert result.fraction_within_tolerance == pytest.approx(
        np.mean([r["within_tolerance"] for r in result.measurements])
    )
    # the held-out interval covers the model's value of a consistent study
    r = by[("s1", "o2")]
    assert r["mean_p2_5"] <= float(analytic(truth, DOSES[1], "o2")) <= r["mean_p97_5"]


def test_interval_of_the_mean_narrows_with_cohort_size() -> None:
    truth = np.log([1.3, 3.0])
    data = _data(truth)
    emu, _ = _emulator(data)
    post = sample(SPEC, emu, layout(data, SPEC), None, samples=150, warmup=150, chains=1, seed=2)
    small = predict_data(data, [1], emu, post, SPEC, seed=0)[0]
    big_data = [*data[:1], Datum(**{**data[1].__dict__, "n": 2500}), *data[2:]]
    big = predict_data(big_data, [1], emu, post, SPEC, seed=0)[0]
    # SD 1 between patients: the sampling part of the width goes from 2 x 1.96 / 5 to ~0
    assert (small.hi - small.lo) > (big.hi - big.lo) + 0.4


def test_study_mean_interval_without_posterior_is_the_cohort_sampling(monkeypatch) -> None:
    """With no posterior packaged, ``study run``'s interval of the mean is the sampling of
    n patients: mean +- 1.96 SD / sqrt(n), and binomial for an incidence."""
    import pandas as pd

    from needlesim.calibration.bayes import study_interval

    monkeypatch.setattr(study_interval, "packaged_posterior", lambda: None)
    rng = np.random.default_rng(3)
    n = 400
    values = rng.normal(-30.0, 12.0, n)
    pih = np.full(n, 0.1)
    table = pd.DataFrame({"day": 90.0, "scar_score_change_pct": values, "pih_incidence": pih})
    study = Study(name="x")
    wanted = [("scar_score_change_pct", 90.0), ("pih_incidence", 90.0)]
    (lo, hi), (plo, phi) = study_interval.mean_intervals(study, wanted, table)
    half = 1.96 * np.std(values) / np.sqrt(n)
    assert lo == pytest.approx(np.mean(values) - half, abs=0.15 * half)
    assert hi == pytest.approx(np.mean(values) + half, abs=0.15 * half)
    binom = 1.96 * np.sqrt(0.1 * 0.9 / n)
    assert plo == pytest.approx(0.1 - binom, abs=0.3 * binom)
    assert phi == pytest.approx(0.1 + binom, abs=0.3 * binom)
