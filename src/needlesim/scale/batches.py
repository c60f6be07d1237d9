"""Splitting a cohort into batches; each batch's patients from the one patient table.

Batch ``b`` holds patients ``b * batch_size`` to ``min((b + 1) * batch_size, n) - 1``,
built by :func:`needlesim.studies.population.sample_patients`, whose draws for
patient ``i`` depend only on the study seed and ``i``. A batch's patients are
therefore those of ``study run`` with the same ids: they do not depend on which
worker runs it, when, how many workers there are, or the batch size.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..config import Population
from .evaluator import PATIENT_COLUMNS


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


def sample_batch(population: Population, batch: Batch, seed: int) -> pd.DataFrame:
    """The patient table of one batch (columns :data:`PATIENT_COLUMNS`): patients
    ``batch.patient_ids`` of :func:`needlesim.studies.population.sample_patients`."""
    from ..studies.population import sample_patients  # late: importing studies loads JAX

    table = sample_patients(population, seed, batch.patient_ids)
    return table.loc[:, list(PATIENT_COLUMNS)]
