"""Splitting a cohort into batches and sampling each batch reproducibly.

Batch ``b`` holds patients ``b * batch_size`` to ``min((b + 1) * batch_size, n) - 1``.
Its random draws come from ``SeedSequence(seed, spawn_key=(b,))``, the ``b``-th
child of the study seed, so a batch's patients depend only on the study, the
seed, ``b`` and the batch size: not on which worker runs it, when, or how many
workers there are. (Changing the batch size changes the sample.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import Population
from .evaluator import PATIENT_COLUMNS

SEED_MAX = 2**63 - 1
"""Per-patient seeds are drawn from [0, SEED_MAX)."""


@dataclass(frozen=True)
class Batch:
    """One batch of a cohort: its index and the range of patient ids it holds."""

    index: int
    first_id: int
    size: int

    @property
    def patient_ids(self) -> range:
        return range(self.first_id, self.first_id + self.size)


def plan_batches(n: int, batch_size: int) -> list[Batch]:
    """The batches of an ``n``-patient cohort, in order."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    return [
        Batch(b, start, min(batch_size, n - start))
        for b, start in enumerate(range(0, n, batch_size))
    ]


def batch_rng(seed: int, batch_index: int) -> np.random.Generator:
    """The generator of batch ``batch_index``: the ``batch_index``-th child of ``seed``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(batch_index,)))


def sample_batch(population: Population, batch: Batch, seed: int) -> pd.DataFrame:
    """The patient table of one batch (columns :data:`PATIENT_COLUMNS`).

    Demographics come from :func:`needlesim.studies.population.sample_cohort`;
    each patient then gets its own seed for the model's per-patient randomness.
    """
    from ..studies.population import sample_cohort  # late: needlesim.studies may import scale

    rng = batch_rng(seed, batch.index)
    cohort = sample_cohort(population, rng, n=batch.size)
    seeds = rng.integers(0, SEED_MAX, size=batch.size, dtype=np.int64)
    table = pd.DataFrame(
        {
            "patient_id": np.arange(batch.first_id, batch.first_id + batch.size, dtype=np.int64),
            "age_years": cohort.age_years.astype(np.float64),
            "female": cohort.female.astype(bool),
            "fitzpatrick": cohort.fitzpatrick.astype(np.int64),
            "region": population.region.value,
            "indication": population.indication.value,
            "baseline_severity": population.baseline_severity.value,
            "seed": seeds,
        }
    )
    return table.loc[:, list(PATIENT_COLUMNS)]
