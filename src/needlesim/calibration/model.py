r"""The differentiable map from free parameters to the targets' predictions.

Free parameters ``theta_j`` are optimised as ``u_j = ln theta_j``. A kinetic
parameter replaces the registry value (and is multiplied by each patient's
individual factor where it has one, as in :func:`needlesim.studies.evaluate_batch`);
an observation parameter replaces the value of ``data/outcomes.yaml``. For one
study's cohort (:class:`~needlesim.calibration.cohort.StudyCohort`),

    y_b(t) = solve(theta_kin * f_b, patient_b, sessions, injuries_b)      (layered model)
    O_b(t) = observe(y_b, theta_obs)          (needlesim.outcomes.observe, traced by JAX)
    pred   = sum_b w_b O_b(t_m)        (the cohort mean, w_b = 1/n)

and the Jacobian ``d pred / d u`` is forward-mode (``jax.jacfwd`` with diffrax
``ForwardMode``): the solve is differentiated only along the kinetic
directions, ``dy/du_kin`` (one tangent per kinetic parameter); the observation
parameters enter after the solve, so their columns cost no extra integration:

    d pred / d u_kin = sum_b w_b (dO/dy)(dy/du_kin)     (a JVP per kinetic column)
    d pred / d u_obs = sum_b w_b dO/du_obs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import Array

from ..biology import Covariates, Parameters, SessionInjury
from ..outcomes import ObservationParams, Trajectory
from ..outcomes import observe as observables
from ..solve import SolverOptions
from ..solve.layered import simulate_many
from .cohort import INJURY_FIELDS, StudyCohort

FORWARD = SolverOptions(adjoint="forward")
"""Solver options of the fit: the default tolerances, forward-mode derivatives."""


class CohortArrays(NamedTuple):
    """A padded :class:`StudyCohort` as JAX arrays (a pytree of fixed shapes)."""

    thickness_um: Array
    age_years: Array
    fitzpatrick: Array
    factors: Array
    weights: Array
    session_days: Array
    injuries: SessionInjury
    save_days: Array
    at: Array

    @classmethod
    def of(cls, cohort: StudyCohort, days: Sequence[float]) -> CohortArrays:
        """``at``: the save-day indices of ``days`` (the measurement days)."""
        f64 = partial(jnp.asarray, dtype=jnp.float64)
        return cls(
            thickness_um=f64(cohort.thickness_um),
            age_years=f64(cohort.age_years),
            fitzpatrick=f64(cohort.fitzpatrick),
            factors=f64(cohort.factors),
            weights=f64(cohort.weights),
            session_days=f64(cohort.session_days),
            injuries=SessionInjury(*(f64(cohort.injuries[k]) for k in INJURY_FIELDS)),
            save_days=f64(cohort.save_days),
            at=jnp.asarray([cohort.index_of(d) for d in days], dtype=jnp.int32),
        )


@dataclass(frozen=True)
class Setup:
    """What stays fixed during a fit (hashable: a static argument of the compiled maps).

    ``kinetic``/``observation``: names of the free parameters of each kind;
    ``factor_names``: the parameters with individual factors (columns of
    ``CohortArrays.factors``).
    """

    kinetic: tuple[str, ...]
    observation: tuple[str, ...]
    factor_names: tuple[str, ...]
    options: SolverOptions = FORWARD


def patient_parameters(
    base: Parameters, u_kin: Array, setup: Setup, cohort: CohortArrays
) -> Parameters:
    """Per-patient parameters ``[B]``: free kinetic values, times individual factors."""
    b = cohort.weights.shape[0]
    p = base.replace(**{n: jnp.exp(u_kin[i]) for i, n in enumerate(setup.kinetic)})
    p = p.broadcast((b,))
    scaled = {n: getattr(p, n) * cohort.factors[:, j] for j, n in enumerate(setup.factor_names)}
    return p.replace(**scaled) if scaled else p


def solve(base: Parameters, u_kin: Array, setup: Setup, cohort: CohortArrays) -> Array:
    """``[B, L + 1, 5, N_SPECIES]``: the states on the ``L`` save days, then the rest state.

    One array (not a tuple) so that ``jax.jacfwd`` returns one tangent array.
    """
    params = patient_parameters(base, u_kin, setup, cohort)
    b = cohort.weights.shape[0]
    cov = Covariates(cohort.thickness_um, cohort.age_years, cohort.fitzpatrick)
    days = jnp.broadcast_to(cohort.session_days, (b, cohort.session_days.shape[0]))
    states, rest, _ = simulate_many(
        params, cov, days, cohort.injuries, cohort.save_days, setup.options
    )
    return jnp.concatenate([states, rest[:, None]], axis=1)


def observe(
    solved: Array, u_obs: Array, obs0: ObservationParams, setup: Setup, cohort: CohortArrays
) -> dict[str, Array]:
    """Cohort means ``[M]`` of every observable at the measurement days."""
    states, rest = solved[:, :-1], solved[:, -1]
    p = obs0._replace(**{n: jnp.exp(u_obs[i]) for i, n in enumerate(setup.observation)})
    traj = Trajectory(
        days=cohort.save_days,
        state=states,
        baseline=rest,
        thickness_um=cohort.thickness_um,
        session_days=cohort.session_days,
    )
    values = observables(traj, p)
    return {k: jnp.einsum("b,bm->m", cohort.weights, v[:, cohort.at]) for k, v in values.items()}


@partial(jax.jit, static_argnames=("setup",))
def predict(
    u_kin: Array,
    u_obs: Array,
    base: Parameters,
    obs0: ObservationParams,
    setup: Setup,
    cohort: CohortArrays,
) -> dict[str, Array]:
    """Cohort means of every observable at the measurement days."""
    return observe(solve(base, u_kin, setup, cohort), u_obs, obs0, setup, cohort)


@partial(jax.jit, static_argnames=("setup",))
def predict_and_jacobian(
    u_kin: Array,
    u_obs: Array,
    base: Parameters,
    obs0: ObservationParams,
    setup: Setup,
    cohort: CohortArrays,
) -> tuple[dict[str, Array], dict[str, Array]]:
    """Predictions ``{name: [M]}`` and their Jacobians ``{name: [M, n_kin + n_obs]}``
    with respect to ``u = (ln theta_kin, ln theta_obs)``."""

    def solved(u: Array) -> tuple[Array, Array]:
        y = solve(base, u, setup, cohort)
        return y, y

    if setup.kinetic:
        dy, y = jax.jacfwd(solved, has_aux=True)(u_kin)  # dy: [..., n_kin]
    else:
        y = solve(base, u_kin, setup, cohort)
        dy = jnp.zeros((*y.shape, 0))

    def obs_of(y_: Array, u_: Array) -> dict[str, Array]:
        return observe(y_, u_, obs0, setup, cohort)

    values = obs_of(y, u_obs)
    kin_cols = jax.vmap(
        lambda t: jax.jvp(lambda y_: obs_of(y_, u_obs), (y,), (t,))[1], in_axes=-1, out_axes=-1
    )(dy)
    obs_cols = jax.jacfwd(lambda u_: obs_of(y, u_))(u_obs)
    jac = {k: jnp.concatenate([kin_cols[k], obs_cols[k]], axis=-1) for k in values}
    return values, jac
