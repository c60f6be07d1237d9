"""Shared courses and helpers of the layered-model tests (no tests here).

Injuries are the device model's summary for the roller of
``examples/roller-cheek.yaml`` (192 needles, 15 crosshatch passes, cheek of a
28-year-old woman) at 0.5 and 1.5 mm, fixed here so that these tests exercise
the healing model alone (``test_layered_device.py`` runs the device itself).
Every course is padded to :data:`N_SESSIONS` sessions with zero injuries at the
end day, and saved on :data:`SAVE_DAYS`, so that the solver compiles once: each
segment's save days are padded to one width (:data:`SAVE_WIDTH`, the solver pads
with the segment's end, which changes no saved state), so courses with different
session days share the compiled solver instead of compiling once per schedule.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import jax.numpy as jnp
import numpy as np

import needlesim  # noqa: F401
import needlesim.solve.layered as layered_solver
from needlesim.biology import Covariates, SessionInjury, default_parameters
from needlesim.solve import Trajectory, simulate_layered

THICKNESS_UM = np.array([16.8, 108.35, 187.41, 749.65, 5000.0])
PD, RD = 2, 3
N_SESSIONS = 6
END_DAY = 400.0
SAVE_DAYS = np.concatenate([np.arange(0.0, 30.0, 1.0 / 24.0), np.arange(30.0, END_DAY + 0.5, 0.5)])
SAVE_WIDTH = SAVE_DAYS.size
"""Per-segment save width of every course: a segment holds at most all of SAVE_DAYS."""

ROLLER_15MM = {
    "injured_fraction": [0.0332, 0.0281, 0.0178, 0.00263, 0.0],
    "bleeding_fraction": 1.0,
    "channel_density_per_cm2": 228.0,
    "surface_diameter_um": 135.0,
    "depth_um": 782.0,
}
ROLLER_05MM = {
    "injured_fraction": [0.0228, 0.0119, 0.00086, 0.0, 0.0],
    "bleeding_fraction": 1.0,
    "channel_density_per_cm2": 228.0,
    "surface_diameter_um": 115.0,
    "depth_um": 222.0,
}
NONE = {
    "injured_fraction": [0.0] * 5,
    "bleeding_fraction": 0.0,
    "channel_density_per_cm2": 0.0,
    "surface_diameter_um": 0.0,
    "depth_um": 0.0,
}


def injuries(per_session: list[dict[str, object]]) -> SessionInjury:
    """Stack per-session injury dicts, padded with zero injuries to N_SESSIONS."""
    rows = per_session + [NONE] * (N_SESSIONS - len(per_session))
    return SessionInjury(
        *(jnp.asarray([row[k] for row in rows], dtype=jnp.float64) for k in SessionInjury._fields)
    )


def padded_days(days: list[float]) -> np.ndarray:
    return np.asarray(list(days) + [END_DAY] * (N_SESSIONS - len(days)), dtype=np.float64)


@contextmanager
def one_save_width(width: int = SAVE_WIDTH) -> Iterator[None]:
    """Round every segment's save width up to ``width`` (one compiled shape for all)."""
    quantum = layered_solver.SEGMENT_SAVE_QUANTUM
    layered_solver.SEGMENT_SAVE_QUANTUM = width
    try:
        yield
    finally:
        layered_solver.SEGMENT_SAVE_QUANTUM = quantum


@cache
def course(
    days: tuple[float, ...],
    depth: str = "1.5",
    age: float = 28.0,
    fitzpatrick: float = 3.0,
    overrides: tuple[tuple[str, float], ...] = (),
) -> Trajectory:
    """A course of sessions on ``days`` at the given needle length (mm)."""
    injury = {"1.5": ROLLER_15MM, "0.5": ROLLER_05MM, "0": NONE}[depth]
    params = default_parameters().replace(**dict(overrides))
    with one_save_width():
        return simulate_layered(
            params,
            Covariates.of(THICKNESS_UM, age, fitzpatrick),
            padded_days(list(days)),
            injuries([injury] * len(days)),
            SAVE_DAYS,
        )


def at(traj: Trajectory, day: float) -> int:
    """Index of the saved day closest to ``day``."""
    return int(np.argmin(np.abs(np.asarray(traj.days) - day)))


def change(traj: Trajectory, species: str, layer: int = PD) -> np.ndarray:
    """``(value - rest) / rest`` of one species in one layer over the save days."""
    rest = float(np.asarray(traj.baseline)[layer, list(traj.species).index(species)])
    return np.asarray(traj.get(species))[:, layer] / rest - 1.0


def dermal_collagen_change(traj: Trajectory) -> np.ndarray:
    """Thickness-weighted (papillary + reticular) collagen I + III over its rest value."""
    h = THICKNESS_UM[PD : RD + 1]
    i1, i3 = list(traj.species).index("collagen_I"), list(traj.species).index("collagen_III")
    states = np.asarray(traj.states)[:, PD : RD + 1]
    rest = np.asarray(traj.baseline)[PD : RD + 1]
    return (states[..., i1] + states[..., i3]) @ h / ((rest[:, i1] + rest[:, i3]) @ h) - 1.0


def peak_day(traj: Trajectory, species: str, layer: int = PD, before: float = 30.0) -> float:
    days = np.asarray(traj.days)
    v = np.asarray(traj.get(species))[:, layer]
    window = days <= before
    return float(days[window][np.argmax(v[window])])
