"""A calibration study's fixed virtual cohort, as solver inputs of shared shapes.

Each target study is run on a small fixed cohort drawn with the study's own
seeded sampling (:func:`needlesim.studies.patient_table`) and its own
individual variability (:func:`needlesim.studies.individual_factors`), exactly
as :func:`needlesim.studies.evaluate_batch` prepares it: skin from region, sex
and age, each session's expected injury on that skin, the same save days
(requested days plus the dense grid after every session). Only the padding
differs: every cohort is padded to the same number of patients, sessions and
save days (:func:`pad_cohorts`), so that one compiled solve (and one compiled
Jacobian) serves all studies. Padding is inert: extra patients repeat patient
0 with weight 0, extra sessions come after the last saved day with no injury,
extra save days repeat the last one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from ..anatomy import SkinProfile
from ..biology import SessionInjury
from ..config import Study
from ..config.defaults import with_study_defaults
from ..course import save_days
from ..studies import individual_factors, patient_table, variability
from ..studies.evaluate import patient_injuries, patient_skins

FloatArray = NDArray[np.float64]

INJURY_FIELDS: tuple[str, ...] = SessionInjury._fields
"""The injury arrays of a cohort, in the order of :class:`~needlesim.biology.SessionInjury`."""


@dataclass(frozen=True)
class StudyCohort:
    """Solver inputs of one study's virtual cohort (NumPy; ``B`` patients, ``S`` sessions).

    ``injuries[field]``: ``injured_fraction[B, S, 5]``, the others ``[B, S]``;
    ``factors[B, F]``: individual lognormal factors of :attr:`factor_names`;
    ``weights[B]``: ``1/n`` for real patients, 0 for padding; ``save_days[L]``;
    ``out_days``: the measurement days (from the first session), each one a
    saved day; ``severity``: the baseline severity of the population.
    """

    name: str
    severity: str
    n_patients: int
    thickness_um: FloatArray
    age_years: FloatArray
    fitzpatrick: FloatArray
    factor_names: tuple[str, ...]
    factors: FloatArray
    weights: FloatArray
    session_days: FloatArray
    n_sessions: int
    injuries: dict[str, FloatArray]
    save_days: FloatArray
    out_days: FloatArray

    def index_of(self, day: float) -> int:
        """Index of ``day`` in :attr:`save_days` (the first match)."""
        hits = np.flatnonzero(np.isclose(self.save_days, day))
        if hits.size == 0:
            raise KeyError(f"day {day} is not a saved day of {self.name}")
        return int(hits[0])


def _injuries(skins: list[SkinProfile], study: Study) -> tuple[FloatArray, dict[str, FloatArray]]:
    """Session days and per-patient expected injuries, as ``evaluate_batch`` computes them."""
    if not study.protocol.schedule():
        raise ValueError(f"study {study.name!r} has no sessions: nothing to calibrate against")
    days, injuries = patient_injuries(skins, study.protocol)
    return days, {k: np.asarray(getattr(injuries, k), dtype=np.float64) for k in INJURY_FIELDS}


def study_cohort(study: Study, out_days: list[float], n: int) -> StudyCohort:
    """The first ``n`` virtual patients of ``study`` (seeded) with saves at ``out_days``."""
    study = with_study_defaults(study)
    patients = patient_table(study, n)
    skins = patient_skins(patients)
    session_days, injuries = _injuries(skins, study)
    wanted = np.sort(np.unique(np.asarray(out_days, dtype=float)))
    end = float(max(wanted.max(), session_days.max()))
    saved = save_days(wanted, session_days, end)
    spread = variability()
    names = tuple(sorted(spread))
    factors = individual_factors(patients["seed"].to_numpy(), spread)
    return StudyCohort(
        name=study.name,
        severity=str(study.population.baseline_severity.value),
        n_patients=len(patients),
        thickness_um=np.asarray([s.thickness_um for s in skins], dtype=np.float64),
        age_years=patients["age_years"].to_numpy(dtype=np.float64),
        fitzpatrick=patients["fitzpatrick"].to_numpy(dtype=np.float64),
        factor_names=names,
        factors=np.stack([factors[k] for k in names], axis=1),
        weights=np.full(len(patients), 1.0 / len(patients)),
        session_days=session_days,
        n_sessions=int(session_days.size),
        injuries=injuries,
        save_days=saved,
        out_days=wanted,
    )


def _pad_rows(x: FloatArray, size: int) -> FloatArray:
    """Pad the leading (patient) axis to ``size`` by repeating row 0."""
    rows = np.concatenate([np.arange(x.shape[0]), np.zeros(size - x.shape[0], dtype=int)])
    return x[rows]


def pad_cohort(cohort: StudyCohort, patients: int, sessions: int, saves: int) -> StudyCohort:
    """``cohort`` padded (inertly) to the given numbers of patients, sessions and save days."""
    b, s, n_save = cohort.weights.size, cohort.session_days.size, cohort.save_days.size
    if patients < b or sessions < s or saves < n_save:
        raise ValueError("padding cannot shrink a cohort")
    end = float(cohort.save_days[-1])
    extra_days = end + 1.0 + np.arange(sessions - s, dtype=float)
    injuries = {}
    for key, value in cohort.injuries.items():
        widths = [(0, 0), (0, sessions - s)] + [(0, 0)] * (value.ndim - 2)
        injuries[key] = _pad_rows(np.pad(value, widths), patients)
    weights = np.concatenate([cohort.weights, np.zeros(patients - b)])
    return replace(
        cohort,
        thickness_um=_pad_rows(cohort.thickness_um, patients),
        age_years=_pad_rows(cohort.age_years, patients),
        fitzpatrick=_pad_rows(cohort.fitzpatrick, patients),
        factors=_pad_rows(cohort.factors, patients),
        weights=weights,
        session_days=np.concatenate([cohort.session_days, extra_days]),
        injuries=injuries,
        save_days=np.concatenate([cohort.save_days, np.full(saves - n_save, end)]),
    )


def pad_cohorts(cohorts: list[StudyCohort], quantum: int = 128) -> list[StudyCohort]:
    """Every cohort padded to the largest patients and sessions, save days to a multiple of
    ``quantum``, so that all share one compiled shape."""
    patients = max(c.weights.size for c in cohorts)
    sessions = max(c.session_days.size for c in cohorts)
    saves = max(c.save_days.size for c in cohorts)
    saves = -(-saves // quantum) * quantum
    return [pad_cohort(c, patients, sessions, saves) for c in cohorts]
