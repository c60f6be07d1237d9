"""Sampling a virtual cohort from a study population."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..config import AgeNormal, Patient, Population, Sex

AGE_MIN, AGE_MAX = 16.0, 90.0


@dataclass(frozen=True)
class Cohort:
    """Demographics of ``n`` virtual patients sharing region, indication and severity."""

    population: Population
    age_years: NDArray[np.float64]
    female: NDArray[np.bool_]
    fitzpatrick: NDArray[np.int64]

    @property
    def n(self) -> int:
        return int(self.age_years.size)

    def patient(self, i: int) -> Patient:
        """Patient ``i`` as a validated config."""
        pop = self.population
        return Patient(
            age_years=float(self.age_years[i]),
            sex=Sex.female if self.female[i] else Sex.male,
            fitzpatrick=int(self.fitzpatrick[i]),
            region=pop.region,
            indication=pop.indication,
            baseline_severity=pop.baseline_severity,
        )


def sample_cohort(population: Population, rng: np.random.Generator, n: int | None = None) -> Cohort:
    """Draw ``n`` patients (default ``population.n``).

    Ages: normal ``{mean, sd}`` clipped to 16-90 years, or uniform ``{min, max}``;
    sex: Bernoulli(``sex_female_fraction``); Fitzpatrick type: uniform over the list.
    """
    n = population.n if n is None else n
    ages_spec = population.age_years
    if isinstance(ages_spec, AgeNormal):
        ages = rng.normal(ages_spec.mean, ages_spec.sd, size=n)
    else:
        ages = rng.uniform(ages_spec.min, ages_spec.max, size=n)
    female = rng.random(n) < population.sex_female_fraction
    types = rng.choice(np.asarray(population.fitzpatrick, dtype=np.int64), size=n)
    return Cohort(population, np.clip(ages, AGE_MIN, AGE_MAX), female, types)
