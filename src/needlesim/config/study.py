"""The study format of DESIGN.md: a population, a protocol and measurements."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Discriminator, Field, Tag, model_validator

from ._base import StrictModel
from .enums import Indication, Observable, Region, Severity
from .protocol import Protocol
from .simulation import Simulation


class AgeNormal(StrictModel):
    """Ages drawn from a normal distribution, clipped to 16-90 years."""

    mean: float = Field(ge=16.0, le=90.0)
    sd: float = Field(ge=0.0, le=40.0)


class AgeUniform(StrictModel):
    """Ages drawn uniformly between ``min`` and ``max``."""

    min: float = Field(ge=16.0, le=90.0)
    max: float = Field(ge=16.0, le=90.0)

    @model_validator(mode="after")
    def _ordered(self) -> AgeUniform:
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) must be >= min ({self.min})")
        return self


def _age_kind(value: Any) -> str:
    """``{min, max}`` is a uniform age range; anything else is read as ``{mean, sd}``."""
    if isinstance(value, AgeUniform) or (isinstance(value, dict) and "min" in value):
        return "uniform"
    return "normal"


class Population(StrictModel):
    """Who the virtual cohort is sampled from."""

    n: int = Field(30, ge=1, le=10_000_000, description="Number of virtual patients.")
    age_years: Annotated[
        Annotated[AgeNormal, Tag("normal")] | Annotated[AgeUniform, Tag("uniform")],
        Discriminator(_age_kind),
    ] = Field(
        default_factory=lambda: AgeNormal(mean=35.0, sd=8.0),
        description="{mean, sd} or {min, max} in years.",
    )
    sex_female_fraction: float = Field(0.5, ge=0.0, le=1.0)
    fitzpatrick: list[int] = Field(
        default_factory=lambda: [2, 3, 4], min_length=1, description="Types drawn uniformly."
    )
    region: Region = Region.cheek
    indication: Indication = Indication.rejuvenation
    baseline_severity: Severity = Severity.moderate

    @model_validator(mode="after")
    def _fitzpatrick_range(self) -> Population:
        bad = [t for t in self.fitzpatrick if not 1 <= t <= 6]
        if bad:
            raise ValueError(f"fitzpatrick types must be 1-6, got {bad}")
        return self


class Measurement(StrictModel):
    """One published (or requested) value of an observable at one time."""

    observable: Observable
    day: float | None = Field(None, ge=0.0, le=3650.0, description="Day from the first session.")
    after_last_session_days: float | None = Field(None, ge=0.0, le=3650.0)
    value: float | None = Field(None, description="Measured value; null if none.")
    sd: float | None = Field(None, ge=0.0, description="Reported spread of the value.")

    @model_validator(mode="after")
    def _one_time(self) -> Measurement:
        if (self.day is None) == (self.after_last_session_days is None):
            raise ValueError("give exactly one of 'day' and 'after_last_session_days'")
        return self

    def day_from_first_session(self, last_session_day: float) -> float:
        if self.day is not None:
            return self.day
        assert self.after_last_session_days is not None
        return last_session_day + self.after_last_session_days


class Study(StrictModel):
    """A published (or planned) study, in the study format of DESIGN.md."""

    name: str = Field(min_length=1, max_length=200)
    citation: str | None = None
    population: Population = Field(default_factory=Population)
    protocol: Protocol = Field(default_factory=Protocol)
    measurements: list[Measurement] = Field(default_factory=list)
    simulation: Simulation = Field(default_factory=Simulation)
