"""Running a study: sample the virtual cohort, simulate it batched, reduce to statistics.

The cohort is :func:`~.population.patient_table` (the one seeding rule shared
with ``cohort``, so both give the same patient ``i`` for the same study and seed).

The JSON of ``needlesim study run FILE --json`` (DESIGN.md)::

    {"study": name, "predictions": [{"observable", "day", "mean", "p2_5", "p97_5", "measured"}]}

``day`` is counted from the first session. ``mean`` and the 2.5/97.5 percentiles
are over the virtual cohort; for ``pih_incidence`` (a per-patient probability)
the mean is the expected incidence and the interval is the 95 % range of the
incidence a trial of this size would observe (binomial, from the cohort's
probabilities: Wilson interval). A measurement's ``statistic`` other than the
mean (a fraction of patients, a between-patient SD) is predicted in ``mean``
with the interval of :mod:`.statistics`; adjuncts with a cited effect act on
the per-patient values first (:mod:`needlesim.outcomes.adjuncts`), those
without one are listed in ``not_modelled_adjuncts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..config import Measurement, Observable, Statistic, Study
from ..config.defaults import with_study_defaults
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "observable": self.observable,
            "day": self.day,
            "mean": self.mean,
            "p2_5": self.p2_5,
            "p97_5": self.p97_5,
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


def run_study(study: Study, n: int | None = None) -> StudyResult:
    """Simulate the study's virtual cohort and predict each measurement's statistic.

    What the study leaves out takes the documented defaults (:mod:`.defaults`).
    Only the measured observables are computed (``outcomes`` holds those columns).
    """
    study = with_study_defaults(study)
    wanted = measurements(study)
    last = study.protocol.last_session_day
    days = sorted({m.day_from_first_session(last) for m in wanted})
    patients = patient_table(study, n)
    observables = {m.observable.value for m in wanted}
    outcomes = evaluate_batch(patients, study.protocol, days=days, observables=observables)
    predictions = []
    for m in wanted:
        day = m.day_from_first_session(last)
        values = outcomes.loc[np.isclose(outcomes["day"], day), m.observable.value].to_numpy()
        values, applied = apply_adjuncts(values, m.observable, study.protocol.adjuncts)
        summary = summarise(values, m.observable, m.statistic, m.threshold, m.n)
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
            )
        )
    return StudyResult(study, predictions, outcomes)
