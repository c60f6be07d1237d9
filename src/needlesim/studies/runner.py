"""Running a study: sample the virtual cohort, simulate it batched, reduce to statistics.

The JSON of ``needlesim study run FILE --json`` (DESIGN.md)::

    {"study": name, "predictions": [{"observable", "day", "mean", "p2_5", "p97_5",
                                     "mean_p2_5", "mean_p97_5", "measured"}]}

``day`` is counted from the first session. ``mean`` and the 2.5/97.5 percentiles
are over the virtual cohort; for ``pih_incidence`` (a per-patient probability)
the mean is the expected incidence and the interval is the 95 % range of the
incidence a trial of this size would observe (binomial, from the cohort's
probabilities: Wilson interval). ``mean_p2_5``/``mean_p97_5``: the 95 % interval of
the study mean, from the parameter posterior and the cohort size
(:func:`with_mean_intervals`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..config import Measurement, Observable, Study
from .defaults import with_study_defaults
from .evaluate import evaluate_batch
from .population import sample_cohort

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
        }


@dataclass(frozen=True)
class StudyResult:
    study: Study
    predictions: list[Prediction]
    outcomes: pd.DataFrame  # one row per patient and day, the measured observables

    def to_dict(self) -> dict[str, Any]:
        return {"study": self.study.name, "predictions": [p.to_dict() for p in self.predictions]}


def patient_table(study: Study, n: int | None = None) -> pd.DataFrame:
    """The sampled virtual cohort in the evaluator's patient-table format."""
    rng = np.random.default_rng(study.simulation.seed)
    cohort = sample_cohort(study.population, rng, n)
    pop = study.population
    return pd.DataFrame(
        {
            "patient_id": np.arange(cohort.n, dtype=np.int64),
            "age_years": cohort.age_years,
            "female": cohort.female,
            "fitzpatrick": cohort.fitzpatrick,
            "region": pop.region.value,
            "indication": pop.indication.value,
            "baseline_severity": pop.baseline_severity.value,
            "seed": rng.integers(0, 2**62, size=cohort.n, dtype=np.int64),
        }
    )


def measurements(study: Study) -> list[Measurement]:
    """The study's measurements, or every observable after the course if none are listed."""
    if study.measurements:
        return list(study.measurements)
    return [
        Measurement(observable=o, after_last_session_days=DEFAULT_AFTER_LAST_SESSION_DAYS)
        for o in Observable
    ]


def wilson_interval(p: float, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion ``p`` observed in ``n`` subjects."""
    if n <= 0:
        return (float("nan"), float("nan"))
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def run_study(study: Study, n: int | None = None) -> StudyResult:
    """Simulate the study's virtual cohort and predict each measurement.

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
        mean = float(np.mean(values))
        if m.observable == Observable.pih_incidence:
            lo, hi = wilson_interval(mean, values.size)
        else:
            lo, hi = (float(v) for v in np.percentile(values, [2.5, 97.5]))
        predictions.append(Prediction(m.observable.value, float(day), mean, lo, hi, m.value))
    predictions = with_mean_intervals(study, predictions, outcomes)
    return StudyResult(study, predictions, outcomes)


def with_mean_intervals(
    study: Study, predictions: list[Prediction], outcomes: pd.DataFrame
) -> list[Prediction]:
    """``predictions`` with the 95 % interval of the study mean (parameter uncertainty and
    cohort size: :mod:`needlesim.calibration.bayes.study_interval`)."""
    from dataclasses import replace

    from ..calibration.bayes.study_interval import mean_intervals

    wanted = [(p.observable, p.day) for p in predictions]
    bounds = mean_intervals(study, wanted, outcomes)
    return [
        replace(p, mean_p2_5=lo, mean_p97_5=hi)
        for p, (lo, hi) in zip(predictions, bounds, strict=True)
    ]
