"""The study format of DESIGN.md: a population, a protocol and measurements."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Discriminator, Field, Tag, model_validator

from ._base import StrictModel
from .enums import Indication, Observable, Region, Severity, Statistic
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
    """One published (or requested) value of an observable at one time.

    ``statistic`` says what ``value`` summarises over the patients: their mean
    (default), the share with the observable ``<= threshold``
    (``fraction_at_most``) or ``>= threshold`` (``fraction_at_least``), or the
    between-patient SD (``sd``).
    """

    observable: Observable
    day: float | None = Field(None, ge=0.0, le=3650.0, description="Day from the first session.")
    after_last_session_days: float | None = Field(None, ge=0.0, le=3650.0)
    statistic: Statistic = Field(
        Statistic.mean,
        description="mean | fraction_at_most | fraction_at_least | sd over the patients.",
    )
    threshold: float | None = Field(
        None,
        description="For fraction_*: the observable's threshold (<= for at_most, >= for at_least).",
    )
    value: float | None = Field(None, description="Measured value; null if none.")
    sd: float | None = Field(
        None, ge=0.0, description="Reported between-patient SD of the observable (or its change)."
    )
    n: int | None = Field(
        None, ge=1, le=10_000_000, description="Patients measured (default: population.n)."
    )
    source: str | None = Field(
        None,
        max_length=2000,
        description="Where the number comes from (calibration.yaml key path) and how derived.",
    )

    @model_validator(mode="after")
    def _one_time(self) -> Measurement:
        if (self.day is None) == (self.after_last_session_days is None):
            raise ValueError("give exactly one of 'day' and 'after_last_session_days'")
        return self

    @model_validator(mode="after")
    def _statistic_fields(self) -> Measurement:
        kind = self.statistic
        fraction = kind in (Statistic.fraction_at_most, Statistic.fraction_at_least)
        if fraction and self.threshold is None:
            side = "<=" if kind == Statistic.fraction_at_most else ">="
            raise ValueError(
                f"threshold is required when statistic is {kind.value!r}: the value is the "
                f"fraction of patients with {self.observable.value} {side} threshold"
            )
        if not fraction and self.threshold is not None:
            raise ValueError(
                f"threshold ({self.threshold}) is only allowed with statistic "
                f"'fraction_at_most' or 'fraction_at_least', not {kind.value!r}"
            )
        if self.value is not None and fraction and not 0.0 <= self.value <= 1.0:
            raise ValueError(
                f"value ({self.value}) is a fraction of patients for statistic "
                f"{kind.value!r}; allowed: 0 to 1"
            )
        if self.value is not None and kind == Statistic.sd and self.value < 0.0:
            raise ValueError(f"value ({self.value}) is an SD for statistic 'sd'; allowed: >= 0")
        if self.observable == Observable.pih_incidence and kind != Statistic.mean:
            raise ValueError(
                f"statistic {kind.value!r} is not allowed for pih_incidence (a share of the "
                "cohort already); allowed: 'mean'"
            )
        if self.value is not None and self.observable == Observable.pih_incidence:
            if not 0.0 <= self.value <= 1.0:
                raise ValueError(
                    f"value ({self.value}) of pih_incidence is a fraction; allowed: 0 to 1"
                )
        return self

    @property
    def is_fraction(self) -> bool:
        return self.statistic in (Statistic.fraction_at_most, Statistic.fraction_at_least)

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
    group: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="Studies sharing a group id are not independent (same trial or cohort).",
    )

    @model_validator(mode="after")
    def _measured_patients(self) -> Study:
        for i, m in enumerate(self.measurements):
            if m.n is not None and m.n > self.population.n:
                raise ValueError(
                    f"measurements[{i}].n ({m.n}) exceeds population.n ({self.population.n}); "
                    "allowed: 1 to population.n (the patients measured are among those enrolled)"
                )
        return self
