"""One configured patient through a whole course: device -> injury -> healing -> observables.

:func:`simulate_course` is the Python API behind ``needlesim simulate``. Each
session's injury comes from the device model on the patient's skin (sampled
punctures, reproducible from the seed); the ``layered`` model integrates the
healing response, stepping exactly onto every session; the observation models
turn the states into the observables of DESIGN.md.

Save times are the requested output days plus a dense grid in the first week
after every session, which the observables read from the whole trajectory
(:data:`GRID_OBSERVABLES`: channel closure, erythema, the running PIH peak)
need; the others are read at the output days only and do not depend on it
(saving does not change the solver's steps).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from ..anatomy import SkinProfile, skin_for
from ..biology import Covariates, Parameters, SessionInjury, default_parameters, stack_sessions
from ..config import RunConfig
from ..device import DeviceResult, simulate_device
from ..outcomes import OutcomeParameters, Trajectory, compute_observables
from ..safety import Advisory, check_run
from ..solve import SolveError, simulate_layered
from ..solve.layered import Trajectory as LayeredTrajectory

FloatArray = NDArray[np.float64]

EARLY_WINDOW_DAYS = 7.0
"""Length of the dense save grid after each session (days)."""
EARLY_POINTS = 48
"""Points of the dense save grid after each session (log-spaced from 15 minutes)."""
GRID_OBSERVABLES = frozenset({"erythema_duration_days", "channel_closure_hours", "pih_incidence"})
"""Observables computed from the saved trajectory up to the output day (episode
durations after the latest session, the running peak of the pigment response):
their values depend on the save grid. Every other observable is a function of
the state at the output day."""


@dataclass(frozen=True)
class CourseResult:
    """Everything one simulated course produced."""

    config: RunConfig
    skin: SkinProfile
    session_days: FloatArray
    devices: list[DeviceResult]
    trajectory: Trajectory
    observables: dict[str, FloatArray]  # name -> (days,) for this patient
    output_days: FloatArray
    warnings: list[Advisory] = field(default_factory=list)

    def at(self, day: float) -> dict[str, float]:
        """Observables at the saved day nearest to ``day``."""
        i = int(self.trajectory.at_days(np.array([day]))[0])
        return {name: float(values[i]) for name, values in self.observables.items()}


def output_days(config: RunConfig) -> FloatArray:
    """The days reported: configured, or every day from the first session to the end."""
    last = config.protocol.last_session_day
    end = config.simulation.end_day(last)
    if config.simulation.output_days is not None:
        return np.asarray([d for d in config.simulation.output_days if d <= end], dtype=float)
    return np.arange(0.0, np.floor(end) + 1.0)


def save_days(
    requested: FloatArray, session_days: FloatArray, end: float, *, dense: bool = True
) -> FloatArray:
    """Requested days plus a dense (log-spaced) grid in the week after each session.

    ``dense=False``: the requested days only (and ``end``), enough when no
    observable of :data:`GRID_OBSERVABLES` is asked for.
    """
    if dense:
        early = np.geomspace(1.0 / 96.0, EARLY_WINDOW_DAYS, EARLY_POINTS)
        grid = (session_days[:, None] + np.concatenate([[0.0], early])[None, :]).ravel()
        days = np.concatenate([requested, grid, [0.0, end]])
    else:
        days = np.concatenate([requested, [end]])
    return np.unique(days[(days >= 0.0) & (days <= end)])


def needs_dense_grid(observables: Iterable[str] | None) -> bool:
    """Whether computing ``observables`` (``None``: all) needs the dense save grid."""
    return observables is None or not GRID_OBSERVABLES.isdisjoint(observables)


def session_injuries(config: RunConfig) -> tuple[FloatArray, SessionInjury, list[DeviceResult]]:
    """Days and injuries of every session up to the end of the run, from sampled punctures
    on this patient's skin (sessions after ``simulation.duration_days`` are not simulated;
    :func:`needlesim.safety.check_run` warns about them).

    A course without sessions is simulated as one zero-depth session on day 0.
    """
    schedule = config.simulated_sessions()
    if not schedule:
        return np.zeros(1), SessionInjury.none(1), []
    devices = [simulate_device(config, session_index=s.index) for s in schedule]
    injuries = stack_sessions([SessionInjury.from_summary(d.summary) for d in devices])
    return np.array([s.day for s in schedule], dtype=float), injuries, devices


def course_trajectory(
    solved: LayeredTrajectory, skin: SkinProfile, session_days: FloatArray
) -> Trajectory:
    """One patient's :class:`~needlesim.outcomes.Trajectory` from a ``layered`` solve:
    what the observation models read (``session_days`` empty for a course without
    sessions)."""
    return Trajectory(
        days=np.asarray(solved.days),
        state=np.asarray(solved.states)[None],
        baseline=np.asarray(solved.baseline)[None],
        thickness_um=np.asarray(skin.thickness_um, dtype=float)[None],
        session_days=np.asarray(session_days, dtype=float),
    )


def simulate_course(
    config: RunConfig,
    params: Parameters | None = None,
    outcome_params: OutcomeParameters | None = None,
) -> CourseResult:
    """Simulate one configured patient (``layered`` fidelity)."""
    params = params or default_parameters()
    patient = config.patient
    skin = skin_for(patient)
    days, injuries, devices = session_injuries(config)
    wanted = output_days(config)
    end = config.end_day()
    saved = save_days(wanted, days, end)
    cov = Covariates.of(
        np.asarray(skin.thickness_um), patient.age_years, float(patient.fitzpatrick)
    )
    try:
        solved = simulate_layered(params, cov, days, injuries, saved)
    except SolveError as exc:
        who = f"the patient of {config.name!r}"
        raise SolveError(str(exc).replace("the patient", who, 1), exc.patients) from None
    traj = course_trajectory(solved, skin, days if devices else np.zeros(0))
    observed = compute_observables(traj, patient.baseline_severity, outcome_params)
    return CourseResult(
        config=config,
        skin=skin,
        session_days=days if devices else np.zeros(0),
        devices=devices,
        trajectory=traj,
        observables={name: values[0] for name, values in observed.items()},
        output_days=wanted,
        warnings=check_run(config),
    )
