"""Sensitivity analysis: Sobol indices (SALib) of observables over parameter ranges."""

from __future__ import annotations

from .model import ModelFunction, model_sobol, typical_patient
from .problem import ParameterRange, as_ranges, parse_param, registry_ranges, salib_problem
from .report import plot_indices, ranked, write_indices
from .sobol import INDEX_COLUMNS, SobolFunction, sobol_indices

__all__ = [
    "INDEX_COLUMNS",
    "ModelFunction",
    "ParameterRange",
    "SobolFunction",
    "as_ranges",
    "model_sobol",
    "parse_param",
    "plot_indices",
    "ranked",
    "registry_ranges",
    "salib_problem",
    "sobol_indices",
    "typical_patient",
    "write_indices",
]
