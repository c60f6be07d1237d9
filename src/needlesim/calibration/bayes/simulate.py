r"""The real model at a point of the free parameters: per-measurement outputs of each study.

Each study is run on a small fixed virtual cohort (its first ``n`` seeded
patients, :func:`needlesim.studies.patient_table`) with
:func:`needlesim.studies.evaluate_batch`, the evaluator of ``study run``: the
kinetic free parameters replace the prior registry values (each patient's
individual factor multiplies them, as in any cohort), the observation ones
those of ``outcomes.yaml``. The adjuncts a study added (``protocol.adjuncts``) act on
the per-patient values as in ``study run``
(:func:`needlesim.outcomes.adjuncts.apply_adjuncts`). Per datum the outputs are

* ``center``: the cohort mean; for an incidence ``logit(mean)``; for a
  ``fraction_at_most`` / ``fraction_at_least`` the probit of the smoothed
  fraction ``mean_b Phi(+-(t - x_b) / h)``, ``h = 1.06 s n^(-1/5)`` (Silverman's
  bandwidth: the empirical fraction of a fixed cohort is a step function of
  theta, the smoothed one is not); for a rounded grade the kernel is the reading's
  own noise instead, ``h = r`` (:func:`needlesim.outcomes.reading_sd`), the
  fraction of readings a study counts (:mod:`needlesim.studies.statistics`);
* ``log_spread``: ``ln`` of the cohort's between-patient SD of the readings,
  ``sqrt(s^2 + r^2)`` (floored at 1e-6).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import logit, ndtr, ndtri

from ...biology import Parameters, default_parameters
from ...config import Observable, Study
from ...io.progress import progress_bar
from ...outcomes import OutcomeParameters, reading_sd
from ...outcomes.adjuncts import apply_adjuncts
from ...studies import evaluate_batch, patient_table
from .data import INCIDENCES, Datum
from .spec import Spec

FloatArray = NDArray[np.float64]

EMULATOR_PATIENTS = 12
"""Virtual patients per study at each design point (default; at most the study's n)."""
CLIP = 1e-4
"""Incidences and fractions are clipped to ``[CLIP, 1 - CLIP]`` before logit/probit."""


def center_of(datum: Datum, values: FloatArray) -> float:
    """The emulated centre of one datum from its cohort's per-patient values."""
    if datum.statistic.startswith("fraction_"):
        assert datum.threshold is not None
        s = float(np.std(values))
        h = reading_sd(datum.observable) or max(
            1.06 * s * values.size ** (-0.2), 1e-3 * max(abs(datum.threshold), 1.0)
        )
        z = (datum.threshold - values) / h
        frac = float(np.mean(ndtr(z if datum.statistic == "fraction_at_most" else -z)))
        return float(ndtri(np.clip(frac, CLIP, 1 - CLIP)))
    mean = float(np.mean(values))
    if datum.observable in INCIDENCES:
        return float(logit(np.clip(mean, CLIP, 1 - CLIP)))
    return mean


def model_parameters(spec: Spec, theta: FloatArray) -> tuple[Parameters, OutcomeParameters]:
    """The model's parameters with the free ones of ``spec`` set to ``theta`` (the others at
    their priors: the calibration never depends on a previous fit)."""
    pairs = list(zip(spec.free, (float(t) for t in theta), strict=True))
    kin = {f.name: t for f, t in pairs if f.kind == "kinetic"}
    obs: dict[str, Any] = {f.name: t for f, t in pairs if f.kind == "observation"}
    base = default_parameters(fitted=False)
    params = base.replace(**kin) if kin else base
    return params, replace(OutcomeParameters.from_data(fitted=False), **obs)


@dataclass
class StudyRun:
    """One study's fixed cohort and the data it predicts."""

    study: Study
    patients: pd.DataFrame
    days: list[float]
    observables: set[str]
    rows: list[int]  # indices of its data in the data list


class ModelOutputs:
    """``theta -> [center_i, log_spread_i]`` for every datum (the real, slow model)."""

    def __init__(self, data: Sequence[Datum], spec: Spec, n_patients: int = EMULATOR_PATIENTS):
        self.data = list(data)
        self.spec = spec
        runs: dict[str, StudyRun] = {}
        for i, d in enumerate(self.data):
            run = runs.get(d.study.name)
            if run is None:
                n = min(n_patients, d.study.population.n)
                run = StudyRun(d.study, patient_table(d.study, n), [], set(), [])
                runs[d.study.name] = run
            run.days.append(d.day)
            run.observables.add(d.observable)
            run.rows.append(i)
        self.runs = list(runs.values())

    def parameters(self, theta: FloatArray) -> tuple[Parameters, OutcomeParameters]:
        return model_parameters(self.spec, theta)

    def __call__(self, theta: FloatArray) -> FloatArray:
        """``[2 x n_data]``: the centres, then the log spreads."""
        params, outcome = self.parameters(theta)
        k = len(self.data)
        out = np.zeros(2 * k)
        for run in self.runs:
            table = evaluate_batch(
                run.patients,
                run.study.protocol,
                days=sorted(set(run.days)),
                params=params,
                outcome_params=outcome,
                observables=run.observables,
            )
            for i in run.rows:
                d = self.data[i]
                values = table.loc[np.isclose(table["day"], d.day), d.observable].to_numpy(float)
                values, _ = apply_adjuncts(
                    values, Observable(d.observable), run.study.protocol.adjuncts
                )
                out[i] = center_of(d, values)
                spread = np.hypot(np.std(values), reading_sd(d.observable))
                out[k + i] = float(np.log(max(float(spread), 1e-6)))
        return out


def run_design(
    model: Callable[[FloatArray], FloatArray], u: FloatArray, label: str = "model runs"
) -> FloatArray:
    """The model at every design point ``u[N, d]`` (``ln theta``), with a progress bar."""
    rows = []
    with progress_bar(transient=True) as progress:
        task = progress.add_task(label, total=u.shape[0])
        for point in u:
            rows.append(model(np.exp(point)))
            progress.advance(task)
    return np.asarray(rows)
