"""The layered solver: batch = single, IMEX = fully implicit, steps onto sessions, exchange."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from needlesim.biology import (
    DIFFUSIBLE,
    PRESENCE,
    Covariates,
    Parameters,
    baseline_state,
    default_parameters,
)
from needlesim.geometry.exchange import exchange_rates
from needlesim.solve import (
    SolverOptions,
    simulate_layered,
    simulate_layered_batch,
)
from needlesim.solve._tridiagonal import thomas
from test_layered_support import (
    ROLLER_05MM,
    ROLLER_15MM,
    THICKNESS_UM,
    injuries,
    one_save_width,
    padded_days,
)

SHORT_SAVE = np.arange(0.0, 60.01, 0.25)


def test_batch_equals_single_patient_runs() -> None:
    ages = np.array([25.0, 50.0, 80.0])
    fitz = np.array([2.0, 4.0, 6.0])
    thickness = THICKNESS_UM * np.array([[1.0], [0.9], [1.1]])
    rates = np.array([0.4, 0.6, 0.9])
    params = default_parameters().replace(fibroblast_max_proliferation_rate=rates)
    inj = injuries([ROLLER_15MM, ROLLER_05MM])
    days = padded_days([0.0, 20.0])
    batch = simulate_layered_batch(
        params,
        Covariates(jnp.asarray(thickness), jnp.asarray(ages), jnp.asarray(fitz)),
        days,
        inj,
        SHORT_SAVE,
    )
    for i in range(3):
        with one_save_width():  # the single-patient solver the other layered tests compiled
            one = simulate_layered(
                default_parameters().replace(fibroblast_max_proliferation_rate=rates[i]),
                Covariates.of(thickness[i], ages[i], fitz[i]),
                days,
                inj,
                SHORT_SAVE,
            )
        np.testing.assert_allclose(batch.states[i], one.states, rtol=1e-9, atol=1e-12)


def test_shared_sessions_save_per_segment_as_every_segment_saving_all_days() -> None:
    """Shared session days take the per-segment save path: same steps, same states.

    Per-patient (2-D) session days take the path where every segment saves every
    day (clipped to it); the two must agree to rounding, save days in any order,
    days before the first session at rest, days on a session just after it.
    """
    params = default_parameters().replace(fibroblast_max_proliferation_rate=np.array([0.4, 0.9]))
    cov = Covariates(
        jnp.asarray(THICKNESS_UM * np.array([[1.0], [1.1]])),
        jnp.asarray([30.0, 70.0]),
        jnp.asarray([2.0, 5.0]),
    )
    days = padded_days([3.0, 10.0, 10.0, 31.0])
    inj = injuries([ROLLER_15MM, ROLLER_05MM, ROLLER_05MM, ROLLER_15MM])
    save = np.array([40.0, 0.0, 3.0, 9.99, 10.0, 2.5, 31.0, 3.5, 12.0, 10.0, 31.25])
    shared = simulate_layered_batch(params, cov, days, inj, save)
    each = simulate_layered_batch(params, cov, np.stack([days, days]), inj, save)
    np.testing.assert_array_equal(np.asarray(shared.steps), np.asarray(each.steps))
    np.testing.assert_allclose(shared.states, each.states, rtol=1e-12, atol=1e-14)
    assert np.all(np.asarray(shared.states)[:, 1] == np.asarray(shared.baseline))


@pytest.mark.slow
def test_imex_agrees_with_fully_implicit_kvaerno5() -> None:
    params = default_parameters()
    patient = Covariates.of(THICKNESS_UM, 40.0, 4.0)
    days = padded_days([0.0, 20.0])
    inj = injuries([ROLLER_15MM, ROLLER_15MM])
    ref = simulate_layered(
        params,
        patient,
        days,
        inj,
        SHORT_SAVE,
        SolverOptions(method="kvaerno5", rtol=1e-8, atol=1e-11),
    )
    with one_save_width():
        imex = simulate_layered(params, patient, days, inj, SHORT_SAVE)
    scale = np.maximum(np.abs(np.asarray(ref.states)).max(axis=0), 1e-3)
    err = np.abs(np.asarray(imex.states) - np.asarray(ref.states)) / scale
    assert err.max() < 1e-3


def test_sessions_are_hit_exactly_and_saves_in_any_order() -> None:
    params = default_parameters()
    patient = Covariates.of(THICKNESS_UM, 40.0, 3.0)
    days = padded_days([0.0, 7.3])
    inj = injuries([ROLLER_15MM, ROLLER_15MM])
    save = np.array([7.3, 0.0, 7.2999, 30.0])
    with one_save_width():
        traj = simulate_layered(params, patient, days, inj, save)
    d = list(traj.species).index("damage")
    # the second session's damage jump appears at exactly 7.3, not before
    assert traj.states[0, 2, d] > 10 * traj.states[2, 2, d]
    assert float(traj.days[0]) == 7.3


def test_unsorted_sessions_are_rejected() -> None:
    with pytest.raises(ValueError, match="sorted"):
        simulate_layered(
            default_parameters(),
            Covariates.of(THICKNESS_UM),
            padded_days([10.0, 0.0]),
            injuries([ROLLER_15MM, ROLLER_15MM]),
            SHORT_SAVE,
        )


def test_exchange_conserves_thickness_weighted_mass_and_vanishes_at_rest() -> None:
    params = default_parameters()
    cov = Covariates.of(THICKNESS_UM)
    rest = baseline_state(params, cov)
    np.testing.assert_array_equal(
        exchange_rates(rest, cov.thickness_um, params.mediator_diffusivity_um2_per_day), 0.0
    )
    y = rest * jax.random.uniform(jax.random.PRNGKey(0), rest.shape, minval=0.0, maxval=3.0)
    dy = exchange_rates(y, cov.thickness_um, params.mediator_diffusivity_um2_per_day)
    np.testing.assert_allclose(jnp.einsum("l,ls->s", cov.thickness_um, dy), 0.0, atol=1e-9)
    assert np.all(np.asarray(dy)[:, ~DIFFUSIBLE] == 0.0)
    assert np.all(np.asarray(dy)[~PRESENCE] == 0.0)


def test_thomas_solves_tridiagonal_systems() -> None:
    key = jax.random.PRNGKey(1)
    lower, upper = (
        jax.random.uniform(k, (5, 7), minval=-1.0, maxval=0.0) for k in jax.random.split(key)
    )
    lower = lower.at[0].set(0.0)
    upper = upper.at[-1].set(0.0)
    diag = 3.0 + jnp.zeros((5, 7))
    rhs = jax.random.normal(key, (5, 7))
    x = thomas(lower, diag, upper, rhs)
    for s in range(7):
        m = jnp.diag(diag[:, s]) + jnp.diag(lower[1:, s], -1) + jnp.diag(upper[:-1, s], 1)
        np.testing.assert_allclose(m @ x[:, s], rhs[:, s], atol=1e-12)


def test_derivative_through_the_solver_matches_finite_differences() -> None:
    """Forward-mode sensitivity of collagen I to the proliferation rate (for calibration)."""
    patient = Covariates.of(THICKNESS_UM, 40.0, 3.0)
    days = padded_days([0.0])
    inj = injuries([ROLLER_15MM])
    save = np.array([0.0, 10.0, 30.0])
    col1 = 16

    def collagen_at_30(rate: jax.Array) -> jax.Array:
        params = default_parameters().replace(fibroblast_max_proliferation_rate=rate)
        forward = SolverOptions(adjoint="forward")
        return simulate_layered(params, patient, days, inj, save, forward).states[-1, 2, col1]

    _, slope = jax.jvp(collagen_at_30, (jnp.asarray(0.6),), (jnp.asarray(1.0),))
    eps = 1e-3
    fd = (collagen_at_30(jnp.asarray(0.6 + eps)) - collagen_at_30(jnp.asarray(0.6 - eps))) / (
        2 * eps
    )
    assert np.isfinite(slope) and slope > 0
    np.testing.assert_allclose(slope, fd, rtol=0.02)


def test_parameters_from_array_batch_shape() -> None:
    p = Parameters.from_array(np.ones((4, 2)), ["damage_amplification", "clot_amplification"])
    assert p.batch_shape == (4,)
