"""Simulation settings: fidelity level, time span, outputs and seed."""

from __future__ import annotations

from pydantic import Field, field_validator

from ._base import StrictModel
from .enums import Fidelity

FOLLOW_UP_DAYS_DEFAULT = 180.0
"""Simulated days after the last session when ``duration_days`` is not given."""


class Simulation(StrictModel):
    """How to simulate: level of detail, how long, what to save, and the seed."""

    fidelity: Fidelity = Field(Fidelity.layered, description="layered (fast) or patch (3D).")
    duration_days: float | None = Field(
        None,
        gt=0.0,
        le=3650.0,
        description="Simulated days from the first session (default: last session + 180).",
    )
    output_days: list[float] | None = Field(
        None, description="Days at which results are saved (default: every day)."
    )
    seed: int = Field(0, ge=0, le=2**63 - 1, description="Seed of every random draw.")
    sample_area_mm: float = Field(
        20.0,
        ge=1.0,
        le=100.0,
        description="Side in mm of the square skin sample on which punctures are placed "
        "(periodic at its edges).",
    )

    @field_validator("output_days")
    @classmethod
    def _days_non_negative(cls, days: list[float] | None) -> list[float] | None:
        if days is not None and any(d < 0 for d in days):
            raise ValueError("output days must be >= 0")
        return sorted(days) if days is not None else None

    def end_day(self, last_session_day: float) -> float:
        """Last simulated day for a course whose last session is on ``last_session_day``."""
        if self.duration_days is not None:
            return self.duration_days
        return last_session_day + FOLLOW_UP_DAYS_DEFAULT
