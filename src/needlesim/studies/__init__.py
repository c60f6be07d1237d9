"""Studies and virtual cohorts: the study format, batched evaluation, validation.

``evaluate_batch`` is the model's :data:`needlesim.scale.evaluator.BatchEvaluator`.
"""

from .evaluate import (
    default_days,
    evaluate_batch,
    evaluate_courses,
    individual_factors,
    variability,
)
from .population import model_seeds, patient_table, sample_patients
from .runner import Prediction, StudyResult, run_study
from .statistics import Summary, summarise, wilson_interval
from .validate import ValidationRow, rows, study_files, validate_folder

__all__ = [
    "Prediction",
    "StudyResult",
    "Summary",
    "ValidationRow",
    "default_days",
    "evaluate_batch",
    "evaluate_courses",
    "individual_factors",
    "model_seeds",
    "patient_table",
    "rows",
    "run_study",
    "sample_patients",
    "study_files",
    "summarise",
    "validate_folder",
    "variability",
    "wilson_interval",
]
