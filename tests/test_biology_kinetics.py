"""Reaction kinetics: exact rest state, stability, invariance of zero, NumPy = JAX, injury jumps."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from needlesim.biology import (
    PARAMETER_NAMES,
    PRESENCE,
    Covariates,
    Parameters,
    S,
    SessionInjury,
    active_mmp,
    apply_injury,
    baseline_state,
    channel_coverage,
    check_constraints,
    compartments,
    default_parameters,
    linear_loss_rates,
    parameter_ranges,
    reaction_rates,
)
from needlesim.solve import layered_rhs, pack
from needlesim.solve.numpy_twin import NumpyLayered, to_numpy

THICKNESS_UM = np.array([16.8, 108.35, 187.41, 749.65, 5000.0])
RANGES = parameter_ranges()


def _sampled(unit: list[float]) -> Parameters:
    """A parameter set inside the registry ranges (log-uniform for positive ranges)."""
    u = np.asarray(unit)
    lo, hi = RANGES[:, 0], RANGES[:, 1]
    positive = lo > 0
    safe_lo = np.where(positive, lo, 1.0)
    ratio = np.where(positive, hi, 1.0) / safe_lo
    values = np.where(positive, safe_lo * ratio**u, lo + u * (hi - lo))
    p = to_numpy(Parameters.from_array(values))
    shares = {
        "tgf_beta3_macrophage_share": 0.5
        * values[PARAMETER_NAMES.index("tgf_beta3_macrophage_share")]
    }
    p = to_numpy(Parameters.from_dict(shares, base=p))
    turnover = max(
        float(p.fibroblast_turnover_rate),
        2.0 * float(p.myofibroblast_baseline_fraction * p.myofibroblast_apoptosis_rate),
    )
    p = to_numpy(Parameters.from_dict({"fibroblast_turnover_rate": turnover}, base=p))
    check_constraints(p)
    return p


unit_vectors = st.lists(
    st.floats(0.0, 1.0), min_size=len(PARAMETER_NAMES), max_size=len(PARAMETER_NAMES)
)
ages = st.floats(16.0, 90.0)
types = st.integers(1, 6)


@settings(max_examples=25, deadline=None)
@given(unit=unit_vectors, age=ages, fitzpatrick=types, scale=st.floats(0.5, 2.0))
def test_rest_state_is_exact_for_any_parameters_and_patient(
    unit: list[float], age: float, fitzpatrick: int, scale: float
) -> None:
    p = _sampled(unit)
    twin = NumpyLayered.of(p, Covariates.of(THICKNESS_UM * scale, age, float(fitzpatrick)))
    rates = twin.full_rhs(twin.rest)
    assert np.abs(rates).max() <= 1e-13 * max(1.0, np.abs(twin.rest).max())


def test_rest_state_is_stable() -> None:
    p = default_parameters()
    for age in (20.0, 50.0, 85.0):
        cov = Covariates.of(THICKNESS_UM, age, 3.0)
        c = compartments(p, cov)
        rest = baseline_state(p, cov)

        def f(yp: jax.Array, c=c, cov=cov, rest=rest) -> jax.Array:
            y = jnp.zeros(rest.size).at[np.flatnonzero(PRESENCE)].set(yp).reshape(rest.shape)
            return pack(layered_rhs(y, p, c, cov.thickness_um))

        jac = np.asarray(jax.jacfwd(f)(pack(rest)))
        assert np.linalg.eigvals(jac).real.max() < 0.0


@settings(max_examples=20, deadline=None)
@given(
    unit=unit_vectors,
    seed=st.integers(0, 2**31 - 1),
    age=ages,
    fitzpatrick=types,
)
def test_zero_is_invariant_every_species_at_zero_has_a_nonnegative_rate(
    unit: list[float], seed: int, age: float, fitzpatrick: int
) -> None:
    p = _sampled(unit)
    twin = NumpyLayered.of(p, Covariates.of(THICKNESS_UM, age, float(fitzpatrick)))
    rng = np.random.default_rng(seed)
    y = twin.rest * rng.uniform(0.0, 4.0, twin.rest.shape) + PRESENCE * rng.uniform(
        0.0, 2.0, twin.rest.shape
    ) * rng.integers(0, 2, twin.rest.shape)
    y = np.where(PRESENCE, y, 0.0)
    y[:, S.open_channels] = np.minimum(y[:, S.open_channels], 1.0)
    for s in S:
        zeroed = y.copy()
        zeroed[:, s] = 0.0
        rate = twin.full_rhs(zeroed)[:, s]
        assert rate.min() >= -1e-12, (s.name, rate)
    assert np.all(np.isfinite(twin.full_rhs(y)))


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), age=ages, fitzpatrick=types)
def test_numpy_twin_equals_the_jax_right_hand_side(seed: int, age: float, fitzpatrick: int) -> None:
    p = default_parameters()
    cov = Covariates.of(THICKNESS_UM, age, float(fitzpatrick))
    twin = NumpyLayered.of(p, cov)
    rng = np.random.default_rng(seed)
    y = np.where(
        PRESENCE,
        twin.rest * rng.uniform(0.0, 3.0, twin.rest.shape)
        + 0.1 * rng.uniform(size=twin.rest.shape),
        0.0,
    )
    expected = np.asarray(layered_rhs(jnp.asarray(y), p, compartments(p, cov), cov.thickness_um))
    got = twin.full_rhs(y)
    assert isinstance(got, np.ndarray)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_linear_losses_are_nonnegative_and_only_where_species_live() -> None:
    p = default_parameters()
    c = compartments(p, Covariates.of(THICKNESS_UM, 40.0, 3.0))
    lam = np.asarray(linear_loss_rates(p, c))
    assert lam.min() >= 0.0
    assert np.all(lam[~PRESENCE] == 0.0)
    assert lam[1, S.cytokines] == float(p.cytokine_decay_rate)


def test_collagen_I_turns_over_with_a_fifteen_year_half_life_at_rest() -> None:
    p = default_parameters()
    cov = Covariates.of(THICKNESS_UM, 25.0, 3.0)
    rest = baseline_state(p, cov)
    degradation = p.collagen_I_degradation_rate * active_mmp(rest, p) * rest[:, S.collagen_I]
    k = float(degradation[2] / rest[2, S.collagen_I])
    assert (
        math.log(2) / k / 365.25 == np.float64(15.0).round(6)
        or abs(math.log(2) / k / 365.25 - 15.0) < 0.02
    )


def test_older_patients_rest_with_fewer_fibroblasts_and_less_collagen() -> None:
    p = default_parameters()
    young = baseline_state(p, Covariates.of(THICKNESS_UM, 25.0, 3.0))
    old = baseline_state(p, Covariates.of(THICKNESS_UM, 85.0, 3.0))
    assert (
        float(old[2, S.fibroblasts] / young[2, S.fibroblasts])
        == np.float64(1.0 + float(p.fibroblast_ageing_slope) * 60.0).round(12)
        or abs(float(old[2, S.fibroblasts] / young[2, S.fibroblasts]) - 0.6586) < 1e-3
    )
    assert float(old[2, S.collagen_I]) < float(young[2, S.collagen_I])


def _injury(
    v: list[float], bleed: float = 1.0, density: float = 228.0, diameter: float = 135.0
) -> SessionInjury:
    return SessionInjury(
        jnp.asarray(v),
        jnp.asarray(bleed),
        jnp.asarray(density),
        jnp.asarray(diameter),
        jnp.asarray(800.0),
    )


def test_injury_jump() -> None:
    p = default_parameters()
    rest = baseline_state(p, Covariates.of(THICKNESS_UM))
    v = [0.03, 0.028, 0.018, 0.0026, 0.0]
    y = apply_injury(rest, _injury(v), p)
    # the damage index is the signalled volume fraction 1 - exp(-A_D v) (biology.dose),
    # A_D v for sparse tracks, at most 1
    a_d = float(p.damage_amplification)
    np.testing.assert_allclose(y[1:, S.damage], -np.expm1(-a_d * np.array(v[1:])))
    assert np.all(np.asarray(y[1:, S.damage]) <= a_d * np.array(v[1:]))
    assert float(y[0, S.damage]) == 0.0  # nothing lives in the horny layer
    assert float(y[1, S.clot]) == 0.0 and float(y[2, S.clot]) > 0.0  # blood only where vessels are
    assert float(y[2, S.capillaries]) < 1.0 and float(y[4, S.capillaries]) == 1.0
    area = math.pi * 135.0**2 / 4.0 * 228.0 / 1e8
    np.testing.assert_allclose(y[:2, S.open_channels], 1.0 - math.exp(-area))
    np.testing.assert_allclose(channel_coverage(_injury(v)), 1.0 - math.exp(-area))
    again = apply_injury(y, _injury(v), p)
    assert float(again[1, S.open_channels]) > float(y[1, S.open_channels])
    assert float(again[1, S.open_channels]) <= 1.0
    same = apply_injury(y, SessionInjury.none(), p)
    np.testing.assert_array_equal(same, y)
    np.testing.assert_array_equal(
        reaction_rates(same, p, compartments(p, Covariates.of(THICKNESS_UM))),
        reaction_rates(y, p, compartments(p, Covariates.of(THICKNESS_UM))),
    )
