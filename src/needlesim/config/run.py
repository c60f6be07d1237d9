"""The configuration of one simulated patient: the file ``needlesim simulate`` reads."""

from __future__ import annotations

from pydantic import Field

from ._base import StrictModel
from .patient import Patient
from .protocol import Protocol
from .simulation import Simulation


class RunConfig(StrictModel):
    """One patient, one protocol, one set of simulation settings."""

    name: str = Field("run", min_length=1, max_length=200, description="Name of the run.")
    patient: Patient = Field(default_factory=Patient)
    protocol: Protocol = Field(default_factory=Protocol)
    simulation: Simulation = Field(default_factory=Simulation)
