"""Observables: from simulated states to what histology, imaging and clinical scales report."""

from .observables import change_pct, compute_observables
from .parameters import OutcomeParameters, calibratable, outcome_data
from .trajectory import Trajectory

__all__ = [
    "OutcomeParameters",
    "Trajectory",
    "calibratable",
    "change_pct",
    "compute_observables",
    "outcome_data",
]
