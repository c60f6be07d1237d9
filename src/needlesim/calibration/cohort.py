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
import pandas as pd
from numpy.typing import NDArray

from ..anatomy import skin_profile
from ..config import Sex, Study
from ..config.defaults import with_study_defaults
from ..course import save_days
from ..device import expected_injury
from ..studies import individual_factors, patient_table, variability

FloatArray = NDArray[np.float64]

INJURY_FIELDS = (
    "injured_fraction",
    "bleeding_fraction",
    "channel_density_per_cm2",
    "surface_diameter_um",
    "depth_um",
)


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


def _injuries(patients: pd.DataFrame, study: Study) -> tuple[FloatArray, dict[str, FloatArray]]:
    """Session days and per-patient expected injuries (as in ``evaluate_batch``)."""
    schedule = study.protocol.schedule()
    if not schedule:
        raise ValueError(f"study {study.name!r} has no sessions: nothing to calibrate against")
    rows: dict[str, list[list[object]]] = {k: [] for k in INJURY_FIELDS}
    for row in patients.itertuples(index=False):
        skin = skin_profile(row.region, Sex.female if row.female else Sex.male, row.age_years)
        doses = [expected_injury(s.device, skin) for s in schedule]
        rows["injured_fraction"].append([d.injured_fraction for d in doses])
        rows["bleeding_fraction"].append([d.bleeding_fraction for d in doses])
        rows["channel_density_per_cm2"].append([d.channel_density_per_mm2 * 100.0 for d in doses])
        rows["surface_diameter_um"].append([d.surface_diameter_um for d in doses])
        rows["depth_um"].append([d.penetration_depth_um for d in doses])
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in rows.items()}
    return np.array([s.day for s in schedule], dtype=float), arrays


def study_cohort(study: Study, out_days: list[float], n: int) -> StudyCohort:
    """The first ``n`` virtual patients of ``study`` (seeded) with saves at ``out_days``."""
    study = with_study_defaults(study)
    patients = patient_table(study, n)
    session_days, injuries = _injuries(patients, study)
    wanted = np.sort(np.unique(np.asarray(out_days, dtype=float)))
    end = float(max(wanted.max(), session_days.max()))
    saved = save_days(wanted, session_days, end)
    skins = [
        skin_profile(r.region, Sex.female if r.female else Sex.male, r.age_years)
        for r in patients.itertuples(index=False)
    ]
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
