"""Sobol indices of model observables: parameters varied on one typical patient.

:class:`ModelFunction` turns a :data:`~needlesim.scale.BatchEvaluator` into a
Sobol function: row ``j`` of the sample matrix becomes patient ``j``, a copy of
the study's typical patient (same demographics and same per-patient seed), with
the sampled parameter values passed as per-patient overrides. All output
variance then comes from the parameters (patient-to-patient variability is held
fixed). The observable is read at one output day (default: the last).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..config import AgeNormal, Patient, Protocol, Sex, Study
from ..scale.evaluator import PATIENT_COLUMNS, BatchEvaluator, normalise_outcomes
from ..studies.population import sample_patients
from .problem import ProblemSpec, as_ranges
from .sobol import sobol_indices


def typical_patient(study: Study) -> pd.DataFrame:
    """One row: the study population's typical patient.

    Age: the mean (normal) or midpoint (uniform); sex: the majority (female on a
    tie); Fitzpatrick type: the lower median of the listed types; model seed:
    patient 0's under the study seed (:func:`needlesim.studies.population.sample_patients`).
    """
    pop = study.population
    age = pop.age_years
    age_years = age.mean if isinstance(age, AgeNormal) else (age.min + age.max) / 2.0
    types = sorted(pop.fitzpatrick)
    patient = Patient(
        age_years=float(age_years),
        sex=Sex.female if pop.sex_female_fraction >= 0.5 else Sex.male,
        fitzpatrick=int(types[(len(types) - 1) // 2]),
        region=pop.region,
        indication=pop.indication,
        baseline_severity=pop.baseline_severity,
    )
    table = sample_patients(patient, study.simulation.seed, range(1))
    return table.loc[:, list(PATIENT_COLUMNS)]


@dataclass(frozen=True)
class ModelFunction:
    """Sobol function ``X -> observables`` over a typical patient (picklable)."""

    patient: pd.DataFrame
    protocol: Protocol
    evaluator: BatchEvaluator
    names: tuple[str, ...]
    observables: tuple[str, ...]
    day: float | None = None

    def __call__(self, x: NDArray[np.float64]) -> pd.DataFrame:
        n = len(x)
        table = pd.concat([self.patient] * n, ignore_index=True)
        table["patient_id"] = np.arange(n, dtype=np.int64)
        overrides = {name: np.ascontiguousarray(x[:, j]) for j, name in enumerate(self.names)}
        out = normalise_outcomes(self.evaluator(table, self.protocol, overrides), table)
        days = np.unique(out["day"].to_numpy())
        day = days[-1] if self.day is None else days[np.argmin(np.abs(days - self.day))]
        at_day = out[out["day"] == day].set_index("patient_id").reindex(table["patient_id"])
        if at_day[list(self.observables)].isna().all(axis=None):
            raise ValueError(f"the evaluator gave no values of {list(self.observables)}")
        return at_day.loc[:, list(self.observables)].reset_index(drop=True)


def model_sobol(
    study: Study,
    problem: ProblemSpec,
    observables: Sequence[str],
    n_base: int,
    evaluator: BatchEvaluator,
    *,
    day: float | None = None,
    protocol: Protocol | None = None,
    **kwargs: Any,
) -> pd.DataFrame:
    """Sobol indices of ``observables`` of ``study``'s typical patient over ``problem``.

    ``kwargs`` go to :func:`~needlesim.sensitivity.sobol_indices` (``seed``,
    ``scheduler``, ``workers``, ``batch_size``, ...).
    """
    ranges = as_ranges(problem)
    fn = ModelFunction(
        typical_patient(study),
        protocol or study.protocol,
        evaluator,
        tuple(r.name for r in ranges),
        tuple(observables),
        day,
    )
    kwargs.setdefault("seed", study.simulation.seed)
    return sobol_indices(ranges, fn, n_base, **kwargs)
