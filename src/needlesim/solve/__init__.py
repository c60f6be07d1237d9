"""Time integration: the ``layered`` fidelity level, sessions as discrete events.

* :func:`simulate_layered` / :func:`simulate_layered_batch` - one patient or a
  batch (vmap) through a course of sessions, saved at requested days;
* :class:`Trajectory` - states ``[..., time, layer, species]`` with names and units;
* :func:`layered_rhs` - the right-hand side (reactions + exchange);
* :mod:`~needlesim.solve.exchange` - the inter-layer exchange operator.
"""

from .errors import SolveError
from .exchange import INTERFACE_MASK, exchange_rates, interface_conductance
from .layered import (
    LIVE_INDEX,
    N_LIVE,
    SolverOptions,
    Trajectory,
    layered_rhs,
    pack,
    simulate_layered,
    simulate_layered_batch,
    unpack,
)

__all__ = [
    "INTERFACE_MASK",
    "LIVE_INDEX",
    "N_LIVE",
    "SolveError",
    "SolverOptions",
    "Trajectory",
    "exchange_rates",
    "interface_conductance",
    "layered_rhs",
    "pack",
    "simulate_layered",
    "simulate_layered_batch",
    "unpack",
]
