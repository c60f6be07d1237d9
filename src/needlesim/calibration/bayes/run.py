"""Bayesian calibration and cross-validation as library calls (``needlesim calibrate``,
``needlesim validate DIR --cross-validate``)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...config import ConfigError, Problem
from .data import Datum, load_data
from .design import DEFAULT_DESIGN, DesignRuns, build_emulator, design_runs
from .emulator import Emulator
from .model import Posterior, layout, sample
from .predictive import MeanInterval, predict_data
from .scales import natural, tolerance
from .simulate import EMULATOR_PATIENTS
from .spec import Spec, load_spec

DEFAULT_STUDIES = Path("studies/calibration")
DEFAULT_SAMPLES = 1000
"""Posterior draws per chain (two chains) of ``needlesim calibrate --samples``."""


def emulator_errors(
    emulator: Emulator, runs: DesignRuns, data: list[Datum]
) -> list[dict[str, Any]]:
    """Per datum: the held-out error of the emulated quantity on its own scale (RMS and
    largest) and as a fraction of the measurement's tolerance."""
    k = len(data)
    rows = []
    for i, d in enumerate(data):
        true = natural(d, runs.y_test[:, i], runs.y_test[:, k + i])
        pred = natural(d, emulator.holdout_pred[:, i], emulator.holdout_pred[:, k + i])
        err = pred - true
        rmse, worst, tol = float(np.sqrt(np.mean(err**2))), float(np.max(np.abs(err))), tolerance(d)
        rows.append(
            {
                "study": d.study.name,
                "observable": d.observable,
                "day": d.day,
                "rmse": rmse,
                "max_error": worst,
                "tolerance": tol,
                "rmse_over_tolerance": rmse / tol,
                "max_over_tolerance": worst / tol,
                "spread_rmse_log": float(emulator.holdout_rmse[k + i]),
            }
        )
    return rows


@dataclass(frozen=True)
class ParameterSummary:
    name: str
    kind: str
    unit: str
    prior_median: float
    prior_lo: float
    prior_hi: float
    median: float
    p2_5: float
    p97_5: float
    shrinkage: float  # posterior / prior 95 % width in ln theta
    at_bound: str | None
    r_hat: float
    ess: float


BOUND_BAND = 0.025
"""Outer fraction of the ``ln theta`` range next to each bound, for the at-bound flag."""
BOUND_MASS = 0.10
"""Flag a parameter when more than this posterior mass lies in a band at a bound (the
truncated prior puts about 1.3 % there)."""


def summarise(spec: Spec, posterior: Posterior) -> list[ParameterSummary]:
    """Prior against posterior for every free parameter."""
    rows = []
    for j, f in enumerate(spec.free):
        u = posterior.u[:, j]
        lo, hi = np.log(f.prior.lo), np.log(f.prior.hi)
        band = BOUND_BAND * (hi - lo)
        flag = None
        if np.mean(u < lo + band) > BOUND_MASS:
            flag = "lower"
        elif np.mean(u > hi - band) > BOUND_MASS:
            flag = "upper"
        q = np.percentile(u, [2.5, 50, 97.5])
        prior_width = _prior_width(f.prior.mu, f.prior.sigma, lo, hi)
        rows.append(
            ParameterSummary(
                f.name,
                f.kind,
                f.unit,
                f.prior.median,
                f.prior.lo,
                f.prior.hi,
                float(np.exp(q[1])),
                float(np.exp(q[0])),
                float(np.exp(q[2])),
                float((q[2] - q[0]) / prior_width),
                flag,
                posterior.r_hat[f.name],
                posterior.ess[f.name],
            )
        )
    return rows


def _prior_width(mu: float, sigma: float, lo: float, hi: float) -> float:
    """95 % width of the truncated normal prior of ``ln theta``."""
    from scipy.stats import truncnorm

    a, b = (lo - mu) / sigma, (hi - mu) / sigma
    q = truncnorm.ppf([0.025, 0.975], a, b, loc=mu, scale=sigma)
    return float(q[1] - q[0])


@dataclass
class BayesCalibration:
    """A finished calibration (see :func:`calibrate`)."""

    spec: Spec
    data: list[Datum]
    emulator: Emulator
    runs: DesignRuns
    posterior: Posterior
    parameters: list[ParameterSummary]
    predictions: list[MeanInterval]
    emulator_report: list[dict[str, Any]]
    seconds: dict[str, float]
    n_patients: int = EMULATOR_PATIENTS
    fitted_path: Path = Path()
    paths: list[Path] = field(default_factory=list)
    document: dict[str, Any] = field(default_factory=dict)


def fit_posterior(
    data: list[Datum],
    spec: Spec,
    emulator: Emulator,
    samples: int,
    seed: int = 0,
    chains: int = 2,
) -> Posterior:
    """NUTS on the emulator with all the data."""
    lay = layout(data, spec)
    return sample(spec, emulator, lay, None, samples, max(samples // 2, 200), chains, seed)


def calibrate(
    studies: str | Path = DEFAULT_STUDIES,
    out: str | Path | None = None,
    report: str | Path | None = None,
    design: int = DEFAULT_DESIGN,
    samples: int = DEFAULT_SAMPLES,
    n_patients: int = EMULATOR_PATIENTS,
    seed: int = 0,
    cache: str | Path | None = None,
    spec_file: str | Path | None = None,
    record: bool = True,
) -> BayesCalibration:
    """The Bayesian calibration: design runs -> emulator -> NUTS -> fitted set and report.

    ``out``: the fitted set (default: the packaged ``fitted.yaml`` in a source
    checkout; required otherwise); the posterior draws go next to it
    (``posterior.npz``). ``report``: a folder for ``calibration.json``, the
    prior-vs-posterior PNG and the design cache (``None``: no report).
    ``cache``: the design runs' ``.npz`` (default ``report/design.npz``). ``record``: the
    real model at the posterior median for each target (``after`` in ``fitted.yaml``).
    """
    from ..run import packaged_fitted_path
    from .output import write_fitted, write_report

    if out is None:
        out = packaged_fitted_path()
        if out is None:
            raise ConfigError(
                [Problem("--out", "required: needlesim is installed, not run from its repository")]
            )
    if design < 8:
        raise ConfigError([Problem("--design", f"{design} design points: at least 8")])
    if samples < 50:
        raise ConfigError([Problem("--samples", f"{samples} draws: at least 50")])
    spec = load_spec(spec_file)
    data = load_data(studies, spec)
    if cache is None and report is not None:
        cache = Path(report) / "design.npz"
    t0 = time.perf_counter()
    runs = design_runs(data, spec, design, n_patients, seed, cache)
    t1 = time.perf_counter()
    emulator = build_emulator(runs, data, spec)
    posterior = fit_posterior(data, spec, emulator, samples, seed)
    t2 = time.perf_counter()
    done = BayesCalibration(
        spec=spec,
        data=data,
        emulator=emulator,
        runs=runs,
        posterior=posterior,
        parameters=summarise(spec, posterior),
        predictions=predict_data(data, range(len(data)), emulator, posterior, spec, seed),
        emulator_report=emulator_errors(emulator, runs, data),
        seconds={"design": t1 - t0, "design_recorded": runs.seconds, "sampling": t2 - t1},
        n_patients=n_patients,
    )
    done.fitted_path = Path(out)
    done.document = write_fitted(done, out, studies, record)
    if report is not None:
        done.paths = write_report(done, report)
    return done
