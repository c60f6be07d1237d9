"""The virtual patient table: one builder and one seeding rule for every caller.

``study run``, ``cohort`` (in batches, on any number of workers), the planner
and the sensitivity analysis all build their patients here, so the same study
and seed give the same patient ``i`` everywhere.

Seeding rule (counter-based). The study seed ``s`` gives a 64-bit key
``k = SeedSequence(s).generate_state(1, uint64)[0]``. Patient ``i`` owns the
random words ``w(i, j) = mix(k + (W i + j + 1) gamma)`` for ``j < W`` (``W =``
:data:`WORDS_PER_PATIENT`, arithmetic mod 2^64): the outputs of the SplitMix64
generator (Steele, Lea & Flood 2014, the seeder of numpy's and Java's
generators) at positions ``W i + j``, read directly without generating those
before. A patient's draws therefore depend only on ``(s, i)``: not on ``n``,
on how a cohort is split into batches, or on which worker builds which part.
Words are used as follows (``u = (w >> 11 + 1/2) / 2^53``, uniform on (0, 1)):

* ``j = 0, 1``: age. Normal ``{mean, sd}``: Box-Muller,
  ``mean + sd sqrt(-2 ln u0) cos(2 pi u1)``, clipped to 16-90 years; uniform
  ``{min, max}``: ``min + (max - min) u0``;
* ``j = 2``: female when ``u2 < sex_female_fraction``;
* ``j = 3``: Fitzpatrick type, the ``floor(u3 m)``-th of the ``m`` listed types;
* ``j = 4``: the patient's model seed (individual factors of the model),
  ``w >> 1`` in ``[0, 2^63)``. It does not depend on the demographics, so the
  planner's copies of one patient get the same model seeds as a study's
  patients with the same ids (common random numbers).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..config import AgeNormal, Patient, Population, Sex, Study

AGE_MIN, AGE_MAX = 16.0, 90.0
"""Sampled ages are clipped to this range (years)."""

SEED_MAX = 2**63
"""Model seeds lie in ``[0, SEED_MAX)``."""

WORDS_PER_PATIENT = 8
"""Random words reserved per patient (5 used; the rest keep room for new draws)."""

COLUMNS: tuple[str, ...] = (
    "patient_id",
    "age_years",
    "female",
    "fitzpatrick",
    "region",
    "indication",
    "baseline_severity",
    "seed",
)
"""Columns of the table, in order (the evaluator's ``PATIENT_COLUMNS``)."""

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)

IdsLike = Sequence[int] | NDArray[np.int64] | range


def _key(seed: int) -> np.uint64:
    return np.random.SeedSequence(seed).generate_state(1, np.uint64)[0]


def patient_words(seed: int, ids: IdsLike, word: int) -> NDArray[np.uint64]:
    """Random word ``word`` of each patient in ``ids`` (see the module docstring)."""
    if not 0 <= word < WORDS_PER_PATIENT:
        raise ValueError(f"word must be in [0, {WORDS_PER_PATIENT}), got {word}")
    i = np.asarray(ids, dtype=np.int64)
    if np.any(i < 0):
        raise ValueError("patient ids must be >= 0")
    counter = i.astype(np.uint64) * np.uint64(WORDS_PER_PATIENT) + np.uint64(word + 1)
    with np.errstate(over="ignore"):
        z = _key(seed) + counter * _GAMMA
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
    out: NDArray[np.uint64] = z ^ (z >> np.uint64(31))
    return out


def patient_uniforms(seed: int, ids: IdsLike, word: int) -> NDArray[np.float64]:
    """``u = ((w >> 11) + 1/2) / 2^53`` of word ``word``: uniform on the open (0, 1)."""
    w = patient_words(seed, ids, word) >> np.uint64(11)
    return (w.astype(np.float64) + 0.5) * 2.0**-53


def model_seeds(seed: int, ids: IdsLike) -> NDArray[np.int64]:
    """The model seed of each patient in ``ids`` (word 4, ``w >> 1``)."""
    return (patient_words(seed, ids, 4) >> np.uint64(1)).astype(np.int64)


def _ages(population: Population, seed: int, ids: IdsLike) -> NDArray[np.float64]:
    u0 = patient_uniforms(seed, ids, 0)
    spec = population.age_years
    if isinstance(spec, AgeNormal):
        u1 = patient_uniforms(seed, ids, 1)
        z = np.sqrt(-2.0 * np.log(u0)) * np.cos(2.0 * np.pi * u1)
        ages = spec.mean + spec.sd * z
    else:
        ages = spec.min + (spec.max - spec.min) * u0
    out: NDArray[np.float64] = np.clip(ages, AGE_MIN, AGE_MAX)
    return out


def sample_patients(source: Population | Patient, seed: int, ids: IdsLike) -> pd.DataFrame:
    """The patient table (columns :data:`COLUMNS`) of patients ``ids`` under ``seed``.

    ``source`` a :class:`Population`: demographics drawn by the seeding rule;
    a :class:`Patient`: every row is a copy of it (only the model seeds differ).
    """
    i = np.asarray(ids, dtype=np.int64)
    if isinstance(source, Patient):
        age = np.full(i.shape, float(source.age_years))
        female = np.full(i.shape, source.sex == Sex.female)
        types = np.full(i.shape, int(source.fitzpatrick), dtype=np.int64)
    else:
        age = _ages(source, seed, i)
        female = patient_uniforms(seed, i, 2) < source.sex_female_fraction
        listed = np.asarray(source.fitzpatrick, dtype=np.int64)
        pick = (patient_uniforms(seed, i, 3) * listed.size).astype(np.int64)
        types = listed[np.minimum(pick, listed.size - 1)]
    return pd.DataFrame(
        {
            "patient_id": i,
            "age_years": age.astype(np.float64),
            "female": female.astype(bool),
            "fitzpatrick": types.astype(np.int64),
            "region": source.region.value,
            "indication": source.indication.value,
            "baseline_severity": source.baseline_severity.value,
            "seed": model_seeds(seed, i),
        },
        columns=list(COLUMNS),
    )


def patient_table(study: Study, n: int | None = None) -> pd.DataFrame:
    """Patients ``0 .. n-1`` (default ``population.n``) of ``study`` under its seed."""
    n = study.population.n if n is None else n
    return sample_patients(study.population, study.simulation.seed, range(n))
