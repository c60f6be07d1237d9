"""The configuration of one simulated patient: the file ``needlesim simulate`` reads."""

from __future__ import annotations

from pydantic import Field

from ._base import StrictModel
from .patient import Patient
from .protocol import Protocol, ScheduledSession
from .simulation import Simulation


class RunConfig(StrictModel):
    """One patient, one protocol, one set of simulation settings."""

    name: str = Field("run", min_length=1, max_length=200, description="Name of the run.")
    patient: Patient = Field(default_factory=Patient)
    protocol: Protocol = Field(default_factory=Protocol)
    simulation: Simulation = Field(default_factory=Simulation)

    def end_day(self) -> float:
        """The last simulated day (``simulation.duration_days``, default last session + 180)."""
        return self.simulation.end_day(self.protocol.last_session_day)

    def simulated_sessions(self) -> list[ScheduledSession]:
        """The sessions on or before :meth:`end_day`, the ones both levels simulate (the
        schedule's days increase, so the others are its tail)."""
        end = self.end_day()
        return [s for s in self.protocol.schedule() if s.day <= end]
