"""Discrete operators of the patch level: diffusion, chemotaxis, GMRES, Rosenbrock tableaus."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from needlesim.geometry.chemotaxis import ChemotaxisOperator
from needlesim.geometry.diffusion import face_diffusivity
from needlesim.patch import Chemotaxis, DiffusionOperator, PatchGrid, PatchModel, lateral_symbol
from needlesim.patch.krylov import fgmres, gmres, krylov_workspace
from needlesim.patch.rosenbrock import TABLEAUS

GRID = PatchGrid.with_layers((6, 8, 10), (10.0, 12.0, 8.0), [1, 1, 2, 2, 2, 3, 3, 3, 3, 4])
D_LAYERS = np.array([[0.0, 50.0, 400.0, 200.0, 0.0], [10.0, 10.0, 30.0, 5.0, 5.0]])


def _random(shape: tuple[int, ...], seed: int = 0) -> jax.Array:
    return jnp.asarray(np.random.default_rng(seed).uniform(0.5, 1.5, shape))


def test_face_diffusivity_is_the_harmonic_mean_with_closed_walls() -> None:
    faces = face_diffusivity(np.array([[1.0, 3.0, 0.0, 2.0]]))
    np.testing.assert_allclose(faces, [[0.0, 1.5, 0.0, 0.0, 0.0]])


@pytest.mark.parametrize("lateral", ["fd2", "spectral"])
def test_diffusion_conserves_mass_and_the_solve_inverts(lateral: str) -> None:
    op = DiffusionOperator.for_species(GRID, D_LAYERS, lateral)  # type: ignore[arg-type]
    u = _random((2, *GRID.shape))
    au = op.apply(u)
    np.testing.assert_allclose(jnp.sum(au, axis=(1, 2, 3)), 0.0, atol=1e-9)
    shift = -jnp.asarray(np.random.default_rng(1).uniform(0.0, 3.0, (2, GRID.nz)))
    a = 0.37
    x = op.solve_shifted(u, a, shift)
    residual = x - a * (op.apply(x) + shift[:, None, None, :] * x) - u
    assert float(jnp.max(jnp.abs(residual))) < 1e-10


def test_fd2_stencil_matches_the_real_space_laplacian() -> None:
    op = DiffusionOperator(GRID, np.ones((1, GRID.nz)))
    u = _random((1, *GRID.shape), seed=2)
    dx, dy, dz = GRID.spacing_um
    lap = (np.roll(u, 1, 1) + np.roll(u, -1, 1) - 2 * u) / dx**2
    lap += (np.roll(u, 1, 2) + np.roll(u, -1, 2) - 2 * u) / dy**2
    up = np.concatenate([u[..., :1], u[..., :-1]], axis=-1)  # ghost = mirror (no flux)
    down = np.concatenate([u[..., 1:], u[..., -1:]], axis=-1)
    lap += (up + down - 2 * u) / dz**2
    np.testing.assert_allclose(op.apply(u), lap, atol=1e-12)


def test_spectral_symbol_is_exact_for_a_fourier_mode() -> None:
    grid = PatchGrid.uniform((16, 8, 1), 5.0)
    x = grid.x_um[:, None, None]
    k = 2 * np.pi * 3 / grid.lengths_um[0]
    u = jnp.asarray(np.broadcast_to(np.cos(k * x), grid.shape)[None])
    op = DiffusionOperator(grid, np.full((1, 1), 7.0), "spectral")
    np.testing.assert_allclose(op.apply(u), -7.0 * k**2 * u, atol=1e-10)
    assert lateral_symbol(grid, "spectral").shape == (16, 5)


def test_chemotaxis_conserves_cells_and_moves_them_uphill() -> None:
    model = PatchModel(("c", "n"), [0.0, 0.0], chemotaxis=(Chemotaxis(1, 0, 20.0),))
    op = ChemotaxisOperator.for_model(GRID, model)
    c = jnp.asarray(np.broadcast_to(GRID.x_um[:, None, None] / 60.0, GRID.shape))
    n = _random(GRID.shape, seed=3)
    tendency = op.apply(jnp.stack([c, n]))[0]
    assert float(jnp.abs(jnp.sum(tendency))) < 1e-10
    # uniform cells on a gradient: a flux to +x, so the cells pile up where c peaks
    flat = op.apply(jnp.stack([c, jnp.ones(GRID.shape)]))[0]
    assert float(flat[-1].mean()) > 0 > float(flat[0].mean())
    jac = op.frozen_upwind(jnp.stack([c, n]))
    assert float(jnp.abs(jnp.sum(jac(jnp.stack([c, n]))))) < 1e-10


def test_chemotaxis_rejects_moving_attractants() -> None:
    with pytest.raises(ValueError):
        PatchModel(
            ("a", "b"),
            [1.0, 1.0],
            chemotaxis=(Chemotaxis(0, 1, 1.0), Chemotaxis(1, 0, 1.0)),
        )


def test_gmres_solves_a_preconditioned_system() -> None:
    rng = np.random.default_rng(0)
    mat = jnp.asarray(np.eye(30) * 4 + rng.normal(size=(30, 30)) * 0.3)
    b = jnp.asarray(rng.normal(size=30))
    diag = jnp.diagonal(mat)
    x, info = gmres(
        lambda v: mat @ v, lambda r: r / diag, b, target=1e-12, restart=10, max_restarts=10
    )
    assert bool(info.converged)
    np.testing.assert_allclose(mat @ x, b, atol=1e-10)
    zero, info0 = gmres(lambda v: mat @ v, lambda r: r, jnp.zeros(30), target=1e-12)
    assert int(info0.iterations) == 0 and float(jnp.abs(zero).max()) == 0.0


def test_single_precision_krylov_storage_meets_the_same_residual() -> None:
    # The integrator stores the Arnoldi basis and the directions in single precision:
    # GMRES is asked for a residual of 1 % of the error tolerance, far above float32's
    # rounding (6e-8), so the solve must take the same iterations and its Givens
    # residual must be the true one to that rounding.
    rng = np.random.default_rng(1)
    n = 200
    mat = jnp.asarray(np.eye(n) * 4 + rng.normal(size=(n, n)) * 0.25)
    b = jnp.asarray(rng.normal(size=n))
    diag = jnp.diagonal(mat)
    target = 1e-4 * float(jnp.linalg.norm(b))
    out = {}
    for dtype in (jnp.float64, jnp.float32):
        ws = krylov_workspace((n,), 6, dtype, dtype)
        x, info, ws = fgmres(
            lambda v: mat @ v, lambda r: r / diag, b, ws, target=target, max_restarts=20
        )
        assert ws.basis.dtype == dtype and x.dtype == jnp.float64
        true = float(jnp.linalg.norm(b - mat @ x))
        assert bool(info.converged) and true <= 1.001 * target, (dtype, true, target)
        assert abs(true - float(info.residual)) < 1e-5 * float(jnp.linalg.norm(b))
        out[dtype] = (x, int(info.iterations))
    assert abs(out[jnp.float32][1] - out[jnp.float64][1]) <= 1  # a rounding may tip one
    x64, x32 = out[jnp.float64][0], out[jnp.float32][0]
    assert float(jnp.max(jnp.abs(x32 - x64))) < 1e-5 * float(jnp.max(jnp.abs(x64)))


@pytest.mark.parametrize("name", sorted(TABLEAUS))
def test_tableaus_are_l_stable_and_consistent(name: str) -> None:
    tab = TABLEAUS[name]
    assert abs(tab.stability(-1e9)) < 1e-6  # L-stable
    assert all(abs(tab.stability(1j * w)) <= 1 + 1e-12 for w in np.logspace(-3, 6, 50))
    assert tab.b.sum() == pytest.approx(1.0)
    assert tab.b_hat.sum() == pytest.approx(1.0)
    # second-order condition sum b_i beta'_i = 1/2 - gamma
    beta = tab.alpha + tab.gamma
    beta_prime = (beta - np.diag(np.diag(beta))).sum(axis=1)
    assert tab.b @ beta_prime == pytest.approx(0.5 - tab.gamma_diag)


def test_chemotaxis_face_sensitivity_is_harmonic() -> None:
    # layers VE, VE, PD, PD, PD, RD, ...: chi = 0 in the epidermis, 30 in PD, 10 below
    model = PatchModel(("c", "n"), [0.0, 0.0], chemotaxis=(Chemotaxis(1, 0, (0, 0, 30, 10, 10)),))
    op = ChemotaxisOperator.for_model(GRID, model)
    faces = op.chi_face[0]
    assert faces[1] == 0.0  # VE | PD: no chemotactic flux into the epidermis
    assert faces[2] == pytest.approx(30.0)  # inside the papillary dermis
    assert faces[4] == pytest.approx(2 * 30 * 10 / 40)  # PD | RD: harmonic mean
    assert faces[5] == pytest.approx(10.0)


@pytest.mark.parametrize(("precision", "rel"), [("float64", 1e-10), ("auto", 1e-8)])
def test_chemotaxis_moves_cells_up_a_fixed_gradient_in_every_dermal_layer(
    precision: str, rel: float
) -> None:
    """Cells (present in the dermis only) on an attractant that rises towards the
    surface: they drift up inside the papillary and reticular dermis, none enter the
    epidermis (chi = 0 there), and chemotaxis alone conserves them: to double-precision
    rounding with double-precision GMRES storage, to its single-precision rounding
    (about 1e-9 here) with the default single-precision storage."""
    from needlesim.patch import OutputSpec, StepperOptions, simulate_patch

    grid = PatchGrid.with_layers((4, 4, 12), 10.0, [1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3])
    chi = (0.0, 0.0, 400.0, 400.0, 400.0)
    model = PatchModel(("c", "n"), [0.0, 0.0], chemotaxis=(Chemotaxis(1, 0, chi),))
    z = grid.z_um
    c = np.broadcast_to(1.0 - z / z[-1], grid.shape)  # fixed: D = 0, no kinetics
    dermis = grid.layer_of_z >= 2
    n = np.broadcast_to(np.where(dermis, 1.0, 0.0), grid.shape)
    y0 = np.stack([c, n])
    options = StepperOptions(preconditioner_precision=precision)  # type: ignore[arg-type]
    result = simulate_patch(
        grid, model, y0, t_end=0.5, outputs=OutputSpec(profile_days=(0.0, 0.5)), options=options
    )
    n_end = result.y_final[1]
    profile = n_end.mean(axis=(0, 1))
    assert np.sum(n_end) == pytest.approx(np.sum(n), rel=rel)
    np.testing.assert_array_equal(profile[~dermis], 0.0)  # nothing entered the epidermis
    np.testing.assert_allclose(result.y_final[0], c)  # the attractant did not move
    assert profile[2] > 1.05  # piled up at the top of the papillary dermis
    centre = lambda p: float(np.sum(p * z) / np.sum(p))  # noqa: E731
    assert centre(profile) < centre(n.mean(axis=(0, 1))) - 1.0  # moved up (um)
    pd = grid.layer_of_z == 2
    assert profile[pd][0] > profile[pd][-1]  # a gradient inside the papillary dermis


def test_diffusion_bottom_exchange_is_a_robin_condition() -> None:
    g, ub = np.array([0.0, 3.0]), np.array([0.0, 2.0])
    op = DiffusionOperator.for_species(GRID, D_LAYERS, "fd2", g, ub)
    dz = GRID.spacing_um[2]
    u = _random((2, *GRID.shape), seed=4)
    total = op.apply(u) + op.bottom_source()
    # what leaves through the bottom: g (u_b - u) per bottom cell face
    flux_in = (g[:, None, None] * (ub[:, None, None] - np.asarray(u[..., -1]))).sum(axis=(1, 2))
    np.testing.assert_allclose(jnp.sum(total, axis=(1, 2, 3)) * dz, flux_in, atol=1e-9)
    # the outside value is a steady state; the implicit solve inverts the linear part
    steady = jnp.broadcast_to(jnp.asarray(ub)[:, None, None, None], u.shape)
    assert float(jnp.max(jnp.abs(op.apply(steady) + op.bottom_source()))) < 1e-12
    a = 0.21
    x = op.solve_shifted(u, a)
    assert float(jnp.max(jnp.abs(x - a * op.apply(x) - u))) < 1e-10


@pytest.mark.parametrize(("dtype", "tol"), [(jnp.float64, 1e-12), (jnp.float32, 1e-5)])
def test_factored_solve_equals_the_direct_solve(dtype: object, tol: float) -> None:
    g, ub = np.array([0.0, 3.0]), np.array([0.0, 2.0])
    op = DiffusionOperator.for_species(GRID, D_LAYERS, "fd2", g, ub)
    u = _random((2, *GRID.shape), seed=5)
    shift = -jnp.asarray(np.random.default_rng(2).uniform(0.0, 3.0, (2, GRID.nz)))
    a = 0.73
    direct = op.solve_shifted(u, a, shift)
    factored = op.solve_factored(u, op.factor_shifted(a, shift, dtype))
    assert factored.dtype == u.dtype
    scale = float(jnp.max(jnp.abs(direct)))
    assert float(jnp.max(jnp.abs(factored - direct))) < tol * scale


def test_kinetics_that_mix_in_double_precision_are_linearised_in_double() -> None:
    """A single-precision Jacobian is asked for, but the kinetics close over a double array
    and write it into the state's vector: no warning, and the product is the exact
    double-precision one; kinetics written on their inputs alone get the single one."""
    import warnings

    from needlesim.patch.reaction import ReactionOperator

    grid = PatchGrid.with_layers((4, 4, 4), 20.0, [1, 2, 3, 3])
    rates = jnp.asarray(np.array([0.3, 1.7], dtype=np.float64))

    def mixing(y: jax.Array, p: Any, ctx: Any) -> jax.Array:
        return (-y * y).at[0].add(rates[1] * y[1])  # rates stay double inside a single run

    def clean(y: jax.Array, p: Any, ctx: Any) -> jax.Array:
        return (-y * y).at[0].add(p * y[1])

    y = jnp.asarray(np.random.default_rng(0).uniform(0.5, 2.0, (2, *grid.shape)))
    v = jnp.ones_like(y) / 3.0
    for kinetics, params, single in ((mixing, None, False), (clean, jnp.asarray(1.7), True)):
        op = ReactionOperator(grid, kinetics, 2)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            _, lin32 = op.linearize(y, jnp.asarray(0.0), params, None, jnp.float32)
        _, lin64 = op.linearize(y, jnp.asarray(0.0), params, None)
        diff = float(jnp.max(jnp.abs(lin32(v) - lin64(v))))
        assert (diff > 0.0) == single and diff < 1e-6, (kinetics.__name__, diff)
