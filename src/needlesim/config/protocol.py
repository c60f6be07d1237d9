"""Protocol configuration: the device and the schedule of sessions."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Annotated, Any

from pydantic import Discriminator, Field, Tag, model_validator

from ._base import StrictModel
from .device import AnyDevice, Device, RollerDevice
from .enums import Adjunct


class SessionSpec(StrictModel):
    """One session of an explicit schedule; omitted fields follow the protocol."""

    day: float | None = Field(
        None, ge=0.0, le=3650.0, description="Day from the first session (default: by interval)."
    )
    device: Device | None = Field(None, description="Device for this session only.")
    passes: int | None = Field(None, ge=0, le=200, description="Passes for this session only.")
    needle_length_mm: float | None = Field(
        None, ge=0.0, le=3.0, description="Needle length for this session only."
    )


@dataclass(frozen=True)
class ScheduledSession:
    """A session resolved to its day and the exact device used."""

    index: int
    day: float
    device: AnyDevice


def _sessions_kind(value: Any) -> str:
    """Pick the branch of ``sessions`` from the input, so errors name one branch."""
    return "list" if isinstance(value, list | tuple) else "count"


class Protocol(StrictModel):
    """A treatment course: ``sessions`` sessions ``interval_days`` apart, or an explicit list."""

    device: Device = Field(default_factory=RollerDevice, description="Device of every session.")
    sessions: Annotated[
        Annotated[int, Tag("count")] | Annotated[list[SessionSpec], Tag("list")],
        Discriminator(_sessions_kind),
    ] = Field(1, description="Number of sessions (0-50), or an explicit list of sessions.")
    interval_days: float = Field(
        30.0, gt=0.0, le=365.0, description="Days between sessions when no day is given."
    )
    adjuncts: list[Adjunct] = Field(
        default_factory=list,
        description="What was added to needling (topicals, PRP, peels, ...); see Adjunct.",
    )

    @model_validator(mode="after")
    def _check_sessions(self) -> Protocol:
        if isinstance(self.sessions, int):
            if not 0 <= self.sessions <= 50:
                raise ValueError(f"sessions must be between 0 and 50, got {self.sessions}")
        else:
            days = [s.day for s in self.schedule()]
            if any(b <= a for a, b in pairwise(days)):
                raise ValueError(f"session days must increase strictly, got {days}")
            if len(self.sessions) > 50:
                raise ValueError(f"at most 50 sessions, got {len(self.sessions)}")
        repeated = sorted({a.value for a in self.adjuncts if self.adjuncts.count(a) > 1})
        if repeated:
            raise ValueError(f"adjuncts must not repeat, got {repeated} more than once")
        return self

    @property
    def session_count(self) -> int:
        return self.sessions if isinstance(self.sessions, int) else len(self.sessions)

    def schedule(self) -> list[ScheduledSession]:
        """Every session with its day (from the first session) and resolved device."""
        if isinstance(self.sessions, int):
            return [
                ScheduledSession(i, i * self.interval_days, self.device)
                for i in range(self.sessions)
            ]
        out: list[ScheduledSession] = []
        day = 0.0
        for i, spec in enumerate(self.sessions):
            if spec.day is not None:
                day = spec.day
            elif i > 0:
                day = out[-1].day + self.interval_days
            device = spec.device if spec.device is not None else self.device
            update: dict[str, object] = {}
            if spec.passes is not None:
                update["passes"] = spec.passes
            if spec.needle_length_mm is not None:
                update["needle_length_mm"] = spec.needle_length_mm
            if update:
                device = device.model_validate({**device.model_dump(), **update})
            out.append(ScheduledSession(i, day, device))
        return out

    @property
    def last_session_day(self) -> float:
        sched = self.schedule()
        return sched[-1].day if sched else 0.0
