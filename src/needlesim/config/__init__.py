"""Validated configuration (pydantic v2): patient, device, protocol, simulation, study.

Every field carries its unit in its name where it could be ambiguous, a
documented default and bounds. Files are YAML; :func:`load` turns a file into a
model or raises :class:`ConfigError` listing every problem by field path.
"""

from ._base import StrictModel
from .device import AnyDevice, Device, PenDevice, RollerDevice, StampDevice
from .enums import (
    Adjunct,
    Fidelity,
    Indication,
    NeedleMaterial,
    Observable,
    Region,
    RollPattern,
    Severity,
    Sex,
    Statistic,
)
from .errors import ConfigError, Problem
from .loading import load, parse_yaml, read_yaml, validate
from .patient import Patient, SkinOverride
from .protocol import Protocol, ScheduledSession, SessionSpec
from .run import RunConfig
from .simulation import Simulation
from .study import AgeNormal, AgeUniform, Measurement, Population, Study

__all__ = [
    "Adjunct",
    "AgeNormal",
    "AgeUniform",
    "AnyDevice",
    "ConfigError",
    "Device",
    "Fidelity",
    "Indication",
    "Measurement",
    "NeedleMaterial",
    "Observable",
    "Patient",
    "PenDevice",
    "Population",
    "Problem",
    "Protocol",
    "Region",
    "RollPattern",
    "RollerDevice",
    "RunConfig",
    "ScheduledSession",
    "SessionSpec",
    "Severity",
    "Sex",
    "Simulation",
    "SkinOverride",
    "StampDevice",
    "Statistic",
    "StrictModel",
    "Study",
    "load",
    "parse_yaml",
    "read_yaml",
    "validate",
]
