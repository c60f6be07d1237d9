"""Virtual trials at scale: batched cohorts on Dask, arms, paired effect sizes.

The model enters only through a :data:`BatchEvaluator` (see :mod:`.evaluator`).
"""

from __future__ import annotations

from .arms import Arm, ArmsStudy, load_study, study_arms
from .batches import Batch, plan_batches, sample_batch
from .cohort import DEFAULT_BATCH_SIZE, CohortResult, run_cohort
from .compare import compare_arms, paired_bootstrap
from .evaluator import (
    OBSERVABLES,
    PATIENT_COLUMNS,
    BatchEvaluator,
    ModelUnavailableError,
    load_evaluator,
    resolve_evaluator,
)
from .executor import INLINE, map_ordered, open_client
from .parts import list_parts, part_path, read_cohort
from .summary import cohort_statistics, summarize_cohort

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "INLINE",
    "OBSERVABLES",
    "PATIENT_COLUMNS",
    "Arm",
    "ArmsStudy",
    "Batch",
    "BatchEvaluator",
    "CohortResult",
    "ModelUnavailableError",
    "cohort_statistics",
    "compare_arms",
    "list_parts",
    "load_evaluator",
    "load_study",
    "map_ordered",
    "open_client",
    "paired_bootstrap",
    "part_path",
    "plan_batches",
    "read_cohort",
    "resolve_evaluator",
    "run_cohort",
    "sample_batch",
    "study_arms",
    "summarize_cohort",
]
