"""Running a study: sample the virtual cohort, simulate it batched, reduce to statistics.

The cohort is :func:`~.population.patient_table` (the one seeding rule shared
with ``cohort``, so both give the same patient ``i`` for the same study and seed).

The JSON of ``needlesim study run FILE --json`` (DESIGN.md)::

    {"study": name, "predictions": [{"observable", "day", "mean", "p2_5", "p97_5",
                                     "mean_p2_5", "mean_p97_5", "measured"}]}

``day`` is counted from the first session. ``mean`` and the 2.5/97.5 percentiles
are over the virtual cohort; for ``pih_incidence`` (a per-patient probability)
the mean is the expected incidence and the interval is the 95 % range of the
incidence a trial of this size would observe (binomial, from the cohort's
probabilities: Wilson interval). A measurement's ``statistic`` other than the
mean (a fraction of patients, a between-patient SD) is predicted in ``mean``
with the interval of :mod:`.statistics`; adjuncts with a cited effect act on
the per-patient values first (:mod:`needlesim.outcomes.adjuncts`), those
without one are listed in ``not_modelled_adjuncts``.
``mean_p2_5``/``mean_p97_5``: the 95 % interval of the study's value from the cohort size
(:mod:`.statistics`); the public API widens it with the calibration's posterior
(:func:`needlesim.calibration.bayes.study_interval.with_posterior_intervals`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..config import Measurement, Observable, Statistic, Study
from ..config.defaults import with_study_defaults
from ..outcomes import reading_sd
from ..outcomes.adjuncts import apply_adjuncts, not_modelled
from .evaluate import evaluate_batch
from .population import patient_table
from .statistics import summarise

DEFAULT_AFTER_LAST_SESSION_DAYS = 90.0
"""When a study lists no measurements, every observable is predicted this long after the course."""


@dataclass(frozen=True)
class Prediction:
    observable: str
    day: float
    mean: float
    p2_5: float
    p97_5: float
    measured: float | None
    statistic: str = Statistic.mean.value
    threshold: float | None = None
    adjuncts: tuple[str, ...] = ()
    mean_p2_5: float | None = None
    mean_p97_5: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "observable": self.observable,
            "day": self.day,
            "mean": self.mean,
            "p2_5": self.p2_5,
            "p97_5": self.p97_5,
            "mean_p2_5": self.mean_p2_5,
            "mean_p97_5": self.mean_p97_5,
            "measured": self.measured,
            "statistic": self.statistic,
            "threshold": self.threshold,
            "adjuncts": list(self.adjuncts),
        }


@dataclass(frozen=True)
class StudyResult:
    study: Study
    predictions: list[Prediction]
    outcomes: pd.DataFrame  # one row per patient and day, the measured observables
    patients: pd.DataFrame | None = None  # the sampled virtual cohort (one row per patient)

    def to_dict(self) -> dict[str, Any]:
        return {
            "study": self.study.name,
            "predictions": [p.to_dict() for p in self.predictions],
            "not_modelled_adjuncts": not_modelled(self.study.protocol.adjuncts),
        }


def measurements(study: Study) -> list[Measurement]:
    """The study's measurements, or every observable after the course if none are listed."""
    if study.measurements:
        return list(study.measurements)
    return [
        Measurement(observable=o, after_last_session_days=DEFAULT_AFTER_LAST_SESSION_DAYS)
        for o in Observable
    ]


Progress = Callable[[float], None]
"""Called with the fraction of patients done (0 to 1); may raise to cancel the run."""

Evaluate = Callable[..., pd.DataFrame]
"""``evaluate(patients, protocol, *, days, observables) -> outcomes`` (one row per patient and
day), as :func:`~.evaluate.evaluate_batch`."""


def run_study(
    study: Study,
    n: int | None = None,
    *,
    progress: Progress | None = None,
    evaluate: Evaluate | None = None,
    chunk: int | None = None,
) -> StudyResult:
    """Simulate the study's virtual cohort and predict each measurement's statistic.

    What the study leaves out takes the documented defaults (:mod:`.defaults`).
    Only the measured observables are computed (``outcomes`` holds those columns).
    With ``progress`` the cohort is evaluated in chunks of ``chunk`` patients
    (default: about a tenth of the cohort, at most 8; the last chunk is padded to
    the same shape, so the model is compiled once) and ``progress`` is called
    after each: an exception it raises stops the run. ``evaluate`` replaces the
    model's batch evaluator; each measurement reads the output day nearest to
    its own.
    """
    study = with_study_defaults(study)
    wanted = measurements(study)
    last = study.protocol.last_session_day
    days = sorted({m.day_from_first_session(last) for m in wanted})
    patients = patient_table(study, n)
    observables = {m.observable.value for m in wanted}
    fn = evaluate or evaluate_batch
    if progress is None:
        outcomes = fn(patients, study.protocol, days=days, observables=observables)
    else:
        size = chunk or max(1, min(8, len(patients) // 10 or 1))
        outcomes = _evaluate_in_chunks(fn, patients, study, days, observables, size, progress)
    found_days = outcomes["day"].to_numpy(dtype=float)
    predictions = []
    for m in wanted:
        day = m.day_from_first_session(last)
        nearest = found_days[np.argmin(np.abs(found_days - day))]
        values = outcomes.loc[found_days == nearest, m.observable.value].to_numpy()
        values, applied = apply_adjuncts(values, m.observable, study.protocol.adjuncts)
        summary = summarise(
            values, m.observable, m.statistic, m.threshold, m.n, reading_sd(m.observable)
        )
        predictions.append(
            Prediction(
                m.observable.value,
                float(day),
                summary.value,
                summary.p2_5,
                summary.p97_5,
                m.value,
                m.statistic.value,
                m.threshold,
                tuple(applied),
                summary.mean_p2_5,
                summary.mean_p97_5,
            )
        )
    return StudyResult(study, predictions, outcomes, patients)


def _evaluate_in_chunks(
    fn: Evaluate,
    patients: pd.DataFrame,
    study: Study,
    days: list[float],
    observables: set[str],
    size: int,
    progress: Progress,
) -> pd.DataFrame:
    """``fn`` over ``patients`` in chunks of ``size`` (the last padded), reporting progress."""
    frames = []
    progress(0.0)
    for start in range(0, len(patients), size):
        part = patients.iloc[start : start + size]
        real = len(part)
        if real < size:  # pad with copies of the last patient: one shape, one compile
            pad = part.iloc[[-1] * (size - real)].copy()
            pad["patient_id"] = -1 - np.arange(size - real)
            part = pd.concat([part, pad], ignore_index=True)
        found = fn(part, study.protocol, days=days, observables=observables)
        frames.append(found[found["patient_id"] >= 0])
        progress(min(1.0, (start + real) / len(patients)))
    return pd.concat(frames, ignore_index=True)
