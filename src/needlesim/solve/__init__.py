"""Time integration of the ``layered`` fidelity level, sessions as discrete events.

* :func:`simulate_layered` / :func:`simulate_layered_batch` - one patient or a
  batch (vmap) through a course of sessions, saved at requested days;
* :class:`Trajectory` - states ``[..., time, layer, species]`` with names and units;
* :func:`layered_rhs` - the right-hand side (reactions + the inter-layer exchange of
  :mod:`needlesim.geometry.exchange`);
* :mod:`~needlesim.solve.packing` - the live entries the integrator carries.
"""

from .errors import SolveError
from .layered import (
    SolverOptions,
    Trajectory,
    layered_rhs,
    simulate_layered,
    simulate_layered_batch,
)
from .packing import LIVE_INDEX, N_LIVE, pack, unpack

__all__ = [
    "LIVE_INDEX",
    "N_LIVE",
    "SolveError",
    "SolverOptions",
    "Trajectory",
    "layered_rhs",
    "pack",
    "simulate_layered",
    "simulate_layered_batch",
    "unpack",
]
