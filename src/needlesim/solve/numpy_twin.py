"""The layered model's right-hand side evaluated with NumPy alone (no JAX).

The rate laws of :mod:`needlesim.biology` are written against an array
namespace (:mod:`needlesim.biology._xp`): given NumPy arrays they run as plain
NumPy. :class:`NumpyLayered` prepares one patient's parameters and context as
NumPy arrays and exposes ``rhs(t, y)`` on the packed state (the live entries,
as the JAX solver integrates), so that any NumPy/SciPy integrator can solve the
same equations: the baseline of ``benchmarks/bench_layered.py`` and a check
that both backends give the same derivatives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import numpy as np
from numpy.typing import NDArray

from ..biology import (
    N_LAYERS,
    N_SPECIES,
    Compartments,
    Covariates,
    Parameters,
    SessionInjury,
    apply_injury,
    baseline_state,
    compartments,
    reaction_rates,
)
from ..geometry.exchange import exchange_rates
from .packing import LIVE_INDEX

FloatArray = NDArray[np.float64]


def to_numpy(tree: Any) -> Any:
    """Every array leaf of a pytree as a float64 NumPy array."""
    return jax.tree.map(lambda x: np.asarray(x, dtype=np.float64), tree)


def pack_np(y: FloatArray) -> FloatArray:
    """``y[5, N_SPECIES]`` -> live entries."""
    return y.reshape(N_LAYERS * N_SPECIES)[LIVE_INDEX]


def unpack_np(yp: FloatArray) -> FloatArray:
    """Live entries -> ``y[5, N_SPECIES]`` (0 elsewhere)."""
    y = np.zeros(N_LAYERS * N_SPECIES)
    y[LIVE_INDEX] = yp
    return y.reshape(N_LAYERS, N_SPECIES)


@dataclass(frozen=True, eq=False)
class NumpyLayered:
    """One patient's layered right-hand side in NumPy."""

    params: Parameters
    context: Compartments
    thickness_um: FloatArray
    rest: FloatArray

    @classmethod
    def of(cls, params: Parameters, patient: Covariates) -> NumpyLayered:
        p = to_numpy(params)
        cov = to_numpy(patient)
        return cls(p, compartments(p, cov), cov.thickness_um, baseline_state(p, cov))

    def full_rhs(self, y: FloatArray) -> FloatArray:
        """``dy/dt`` of ``y[5, N_SPECIES]``: reactions + exchange."""
        return reaction_rates(y, self.params, self.context) + exchange_rates(
            y, self.thickness_um, self.params.mediator_diffusivity_um2_per_day
        )

    def rhs(self, t: float, yp: FloatArray) -> FloatArray:
        """``dy/dt`` on the packed state (signature of ``scipy.integrate.solve_ivp``)."""
        return pack_np(self.full_rhs(unpack_np(yp)))

    def jump(self, yp: FloatArray, injury: SessionInjury) -> FloatArray:
        """The packed state just after a session."""
        return pack_np(apply_injury(unpack_np(yp), to_numpy(injury), self.params))
