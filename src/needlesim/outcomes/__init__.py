"""Observables: from simulated states to what histology, imaging and clinical scales report.

One implementation for NumPy and JAX (:func:`observe`) on one :class:`Trajectory`;
used by ``simulate``, studies, cohorts and calibration alike.
"""

from .observables import change_pct, compute_observables, observe, reading_sd
from .parameters import ObservationParams, OutcomeParameters, calibratable, outcome_data
from .trajectory import Trajectory

__all__ = [
    "ObservationParams",
    "OutcomeParameters",
    "Trajectory",
    "calibratable",
    "change_pct",
    "compute_observables",
    "observe",
    "outcome_data",
    "reading_sd",
]
