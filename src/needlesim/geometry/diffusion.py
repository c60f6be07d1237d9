"""Diffusion on the patch grid: the discrete operator and its L-stable solver.

Space (finite volumes, second order)
------------------------------------
For a species with diffusivity ``D(z)`` (constant within a layer) the operator

    A u = D(z) (d2u/dx2 + d2u/dy2) + d/dz (D(z) du/dz)

is discretised on cell centres. Laterally (periodic) the 5-point stencil
``(u_{i+1} - 2 u_i + u_{i-1}) / dx^2`` is diagonalised by the 2D discrete
Fourier transform with symbol ``-lam(m, n)``,

    lam = (4 / dx^2) sin^2(pi m / nx) + (4 / dy^2) sin^2(pi n / ny)     ("fd2")

or, optionally, the exact spectral symbol ``lam = kx^2 + ky^2`` ("spectral").
In depth the flux through the face between cells ``k`` and ``k+1`` is
``F_{k+1/2} = D_{k+1/2} (u_{k+1} - u_k) / dz`` with the harmonic mean
``D_{k+1/2} = 2 D_k D_{k+1} / (D_k + D_{k+1})`` (exact flux continuity for
piecewise-constant D, zero when either side is impermeable), and
``F_{1/2} = 0`` (no flux through the surface). The bottom face is a wall
(``F_{nz+1/2} = 0``) or, with a bottom conductance ``g >= 0`` (um/day) and an
outside value ``u_b`` per species, exchanges with tissue below the grid held at
``u_b``: ``F_{nz+1/2} = g (u_b - u_{nz})`` (a Robin condition; the operator
is then affine, ``A u + s`` with the constant ``s = g u_b / dz`` in the bottom
cells, and :meth:`DiffusionOperator.apply` is the linear part ``A u``).
Since ``D`` depends on depth only, every lateral Fourier mode ``(m, n)``
evolves independently under the tridiagonal matrix

    A_mn = T - lam(m, n) diag(D_k),   (T u)_k = (F_{k+1/2} - F_{k-1/2}) / dz,

so an implicit step is an exact direct solve of the full 3D system: one real
FFT pair plus a batch of ``S * nx * (ny/2 + 1)`` tridiagonal solves of size
``nz`` (:func:`jax.lax.linalg.tridiagonal_solve`). With uniform ``dz`` every
``A_mn`` is symmetric negative semi-definite.

Implicit solves
---------------
The integrator (:mod:`needlesim.patch.rosenbrock`) needs ``(I - a (A + L))^{-1}``
for a step-dependent ``a > 0`` and a depth-dependent linear rate ``L_k <= 0``
(the stiff linear part of the kinetics, e.g. the decay of a cytokine): ``L``
only adds to the diagonal of every ``A_mn``, so the solve stays one FFT pair
and one batch of tridiagonal systems. The matrix is an M-matrix (diagonally
dominant), so the solve is stable for every ``a``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import NDArray

from .grid import PatchGrid

Lateral = Literal["fd2", "spectral"]


def lateral_symbol(grid: PatchGrid, lateral: Lateral = "fd2") -> NDArray[np.float64]:
    """``lam(m, n) >= 0`` for the ``rfft2`` modes, shape ``(nx, ny // 2 + 1)`` (1/um^2)."""
    nx, ny, _ = grid.shape
    dx, dy, _ = grid.spacing_um
    lx: NDArray[np.float64]
    ly: NDArray[np.float64]
    if lateral == "fd2":
        m = np.arange(nx)
        n = np.arange(ny // 2 + 1)
        lx = np.asarray((4.0 / dx**2) * np.sin(np.pi * m / nx) ** 2, dtype=np.float64)
        ly = np.asarray((4.0 / dy**2) * np.sin(np.pi * n / ny) ** 2, dtype=np.float64)
    elif lateral == "spectral":
        lx = np.asarray((2.0 * np.pi * np.fft.fftfreq(nx, d=dx)) ** 2, dtype=np.float64)
        ly = np.asarray((2.0 * np.pi * np.fft.rfftfreq(ny, d=dy)) ** 2, dtype=np.float64)
    else:
        raise ValueError(f"lateral must be 'fd2' or 'spectral', got {lateral!r}")
    return lx[:, None] + ly[None, :]


def face_diffusivity(d_z: NDArray[np.float64]) -> NDArray[np.float64]:
    """Harmonic-mean diffusivity on the ``nz + 1`` depth faces (``(..., nz + 1)``).

    The surface and bottom faces carry 0 (no flux).
    """
    d = np.asarray(d_z, dtype=np.float64)
    left, right = d[..., :-1], d[..., 1:]
    total = left + right
    with np.errstate(divide="ignore", invalid="ignore"):
        inner = np.where(total > 0, 2.0 * left * right / np.where(total > 0, total, 1.0), 0.0)
    zeros = np.zeros((*d.shape[:-1], 1))
    return np.concatenate([zeros, inner, zeros], axis=-1)


@dataclass(frozen=True, eq=False)
class DiffusionOperator:
    """The discrete ``A`` for ``Sd`` diffusing species on ``grid``.

    ``d_z`` is the diffusivity per species and depth index, shape ``(Sd, nz)``
    (um^2/day). Fields passed in and out have shape ``(Sd, nx, ny, nz)``.
    """

    grid: PatchGrid
    d_z: NDArray[np.float64]
    lateral: Lateral = "fd2"
    bottom_conductance: NDArray[np.float64] | None = None
    bottom_value: NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        d = np.asarray(self.d_z, dtype=np.float64)
        if d.ndim != 2 or d.shape[1] != self.grid.nz:
            raise ValueError(f"d_z needs shape (species, nz={self.grid.nz}), got {d.shape}")
        object.__setattr__(self, "d_z", d)
        n = d.shape[0]
        g = np.zeros(n) if self.bottom_conductance is None else self.bottom_conductance
        g = np.asarray(g, dtype=np.float64).reshape(-1)
        ub = np.zeros(n) if self.bottom_value is None else self.bottom_value
        ub = np.asarray(ub, dtype=np.float64).reshape(-1)
        if g.shape != (n,) or ub.shape != (n,):
            raise ValueError(f"bottom conductance and value need one entry per species ({n})")
        if np.any(g < 0) or not np.all(np.isfinite(g)) or not np.all(np.isfinite(ub)):
            raise ValueError("bottom conductances must be finite and >= 0, values finite")
        object.__setattr__(self, "bottom_conductance", g)
        object.__setattr__(self, "bottom_value", ub)

    @classmethod
    def for_species(
        cls,
        grid: PatchGrid,
        diffusivity: NDArray[np.float64],
        lateral: Lateral = "fd2",
        bottom_conductance: NDArray[np.float64] | None = None,
        bottom_value: NDArray[np.float64] | None = None,
    ) -> DiffusionOperator:
        """From per-layer diffusivities ``(Sd, 5)`` (and optional bottom exchange)."""
        return cls(
            grid,
            grid.per_layer(np.asarray(diffusivity, dtype=np.float64)),
            lateral,
            bottom_conductance,
            bottom_value,
        )

    @property
    def _g_bottom(self) -> NDArray[np.float64]:
        assert self.bottom_conductance is not None
        return self.bottom_conductance

    @property
    def has_bottom_exchange(self) -> bool:
        return bool(np.any(self._g_bottom > 0))

    def bottom_source(self) -> jax.Array:
        """The constant ``s = g u_b / dz`` of the affine operator, ``(Sd, 1, 1, nz)``
        (nonzero in the bottom cells only)."""
        assert self.bottom_value is not None
        dz = self.grid.spacing_um[2]
        s = np.zeros((self.n_species, 1, 1, self.grid.nz))
        s[:, 0, 0, -1] = self._g_bottom * self.bottom_value / dz
        return jnp.asarray(s)

    @property
    def n_species(self) -> int:
        return int(self.d_z.shape[0])

    @property
    def d_face(self) -> NDArray[np.float64]:
        """Face coefficients ``(Sd, nz + 1)`` (um^2/day): harmonic means inside, 0 at the
        surface; at the bottom ``g dz`` (so that ``d_face / dz`` is the conductance)."""
        faces = face_diffusivity(self.d_z)
        faces[:, -1] = self._g_bottom * self.grid.spacing_um[2]
        return faces

    @property
    def max_rate_per_day(self) -> float:
        """Largest eigenvalue magnitude of ``A`` (an upper bound, 1/day): the stiffness."""
        lam = lateral_symbol(self.grid, self.lateral).max()
        dz = self.grid.spacing_um[2]
        return float((self.d_z.max(axis=1) * (lam + 4.0 / dz**2)).max(initial=0.0))

    # explicit application ------------------------------------------------------

    def apply(self, u: jax.Array) -> jax.Array:
        """``A u`` in real space, shape ``(Sd, nx, ny, nz)``."""
        dx, dy, _ = self.grid.spacing_um
        d_z = jnp.asarray(self.d_z)[:, None, None, :]
        if self.lateral == "fd2":
            lap = (jnp.roll(u, 1, axis=1) + jnp.roll(u, -1, axis=1) - 2.0 * u) / dx**2 + (
                jnp.roll(u, 1, axis=2) + jnp.roll(u, -1, axis=2) - 2.0 * u
            ) / dy**2
        else:
            lam = jnp.asarray(lateral_symbol(self.grid, self.lateral))
            u_hat = jnp.fft.rfft2(u, axes=(1, 2))
            lap = jnp.fft.irfft2(-lam[None, :, :, None] * u_hat, s=self.grid.shape[:2], axes=(1, 2))
        return d_z * lap + self._depth_term(u)

    def _depth_term(self, u: jax.Array) -> jax.Array:
        """``(F_{k+1/2} - F_{k-1/2}) / dz``, linear part (real or complex ``u``): no flux
        through the surface, ``-g u`` through the bottom."""
        dz = self.grid.spacing_um[2]
        d_face = jnp.asarray(self.d_face)[:, None, None, :]
        flux_inner = d_face[..., 1:-1] * (u[..., 1:] - u[..., :-1]) / dz
        zero = jnp.zeros((*u.shape[:-1], 1), dtype=u.dtype)
        bottom = -d_face[..., -1:] * u[..., -1:] / dz
        flux = jnp.concatenate([zero, flux_inner, bottom], axis=-1)
        return (flux[..., 1:] - flux[..., :-1]) / dz

    def _apply_hat(self, u_hat: jax.Array, lam: jax.Array) -> jax.Array:
        """``A_mn u_hat`` for Fourier coefficients ``(Sd, nx, nky, nz)``."""
        d_z = jnp.asarray(self.d_z)[:, None, None, :]
        return self._depth_term(u_hat) - lam[None, :, :, None] * d_z * u_hat

    # implicit solve --------------------------------------------------------------

    def _solve_hat(
        self, rhs_hat: jax.Array, a: jax.Array, lam: jax.Array, shift: jax.Array | None = None
    ) -> jax.Array:
        """Solve ``(I - a (A_mn + diag(shift))) x = rhs`` for every mode (``a`` in days)."""
        dz = self.grid.spacing_um[2]
        d_face = jnp.asarray(self.d_face)[:, None, None, :] / dz**2
        d_z = jnp.asarray(self.d_z)[:, None, None, :]
        shape = rhs_hat.shape
        # off-diagonals: inner faces only (the surface and bottom faces couple to no cell)
        inner = d_face.at[..., 0].set(0.0).at[..., -1].set(0.0)
        lower = jnp.broadcast_to(-a * inner[..., :-1], shape)
        upper = jnp.broadcast_to(-a * inner[..., 1:], shape)
        diag = 1.0 + a * (d_face[..., :-1] + d_face[..., 1:] + lam[None, :, :, None] * d_z)
        if shift is not None:
            diag = diag - a * shift[:, None, None, :]
        diag = jnp.broadcast_to(diag, shape)
        b = jnp.stack([rhs_hat.real, rhs_hat.imag], axis=-1)
        dtype = b.dtype  # solve in the precision of the right-hand side
        x = jax.lax.linalg.tridiagonal_solve(
            lower.astype(dtype), diag.astype(dtype), upper.astype(dtype), b
        )
        return jax.lax.complex(x[..., 0], x[..., 1])

    def solve_shifted(
        self, rhs: jax.Array, a: jax.Array, shift: jax.Array | None = None
    ) -> jax.Array:
        """Solve ``(I - a (A + diag(shift))) x = rhs`` in real space.

        ``rhs`` and the result have shape ``(Sd, nx, ny, nz)``; ``shift``
        (``(Sd, nz)``, 1/day, should be ``<= 0``) is a linear rate per depth.
        """
        lam = jnp.asarray(lateral_symbol(self.grid, self.lateral))
        rhs_hat = jnp.fft.rfft2(rhs, axes=(1, 2))
        x = self._solve_hat(rhs_hat, a, lam, shift)
        return jnp.fft.irfft2(x, s=self.grid.shape[:2], axes=(1, 2))

    # factored solves (a preconditioner applies one matrix many times) -------------

    def factor_shifted(
        self, a: jax.Array, shift: jax.Array | None = None, dtype: Any = jnp.float64
    ) -> ShiftedFactor:
        """The LU (Thomas) factors of ``I - a (A_mn + diag(shift))`` for every mode, in
        ``dtype``: build once, then :meth:`solve_factored` as often as needed."""
        dz = self.grid.spacing_um[2]
        lam = jnp.asarray(lateral_symbol(self.grid, self.lateral))
        d_face = jnp.asarray(self.d_face)[:, None, None, :] / dz**2
        d_z = jnp.asarray(self.d_z)[:, None, None, :]
        inner = d_face.at[..., 0].set(0.0).at[..., -1].set(0.0)
        shape = (self.n_species, lam.shape[0], lam.shape[1], self.grid.nz)
        lower = jnp.broadcast_to(-a * inner[..., :-1], shape)
        upper = jnp.broadcast_to(-a * inner[..., 1:], shape)
        diag = 1.0 + a * (d_face[..., :-1] + d_face[..., 1:] + lam[None, :, :, None] * d_z)
        if shift is not None:
            diag = diag - a * shift[:, None, None, :]
        diag = jnp.broadcast_to(diag, shape)
        low, dia, upp = (jnp.moveaxis(m.astype(dtype), -1, 0) for m in (lower, diag, upper))

        def eliminate(c_prev: jax.Array, row: tuple[jax.Array, ...]) -> tuple[jax.Array, Any]:
            l_k, d_k, u_k = row
            inv = 1.0 / (d_k - l_k * c_prev)
            c_k = u_k * inv
            return c_k, (c_k, inv)

        _, (c, inv) = jax.lax.scan(eliminate, jnp.zeros_like(dia[0]), (low, dia, upp))
        return ShiftedFactor(low, c, inv)

    def solve_factored(
        self, rhs: jax.Array, factor: ShiftedFactor, out_dtype: Any = None
    ) -> jax.Array:
        """Solve with the factors of :meth:`factor_shifted` in real space, in the factors'
        precision (``rhs`` is cast; the result has ``out_dtype``, default that of
        ``rhs``)."""
        dtype = factor.inv_pivot.dtype
        rhs_hat = jnp.fft.rfft2(rhs.astype(dtype), axes=(1, 2))
        # depth first; the real factors multiply the complex coefficients directly
        b = jnp.moveaxis(rhs_hat, -1, 0)

        def forward(d_prev: jax.Array, row: tuple[jax.Array, ...]) -> tuple[jax.Array, jax.Array]:
            l_k, inv_k, b_k = row
            d_k = (b_k - l_k * d_prev) * inv_k
            return d_k, d_k

        def backward(x_next: jax.Array, row: tuple[jax.Array, ...]) -> tuple[jax.Array, jax.Array]:
            c_k, d_k = row
            x_k = d_k - c_k * x_next
            return x_k, x_k

        zero = jnp.zeros_like(b[0])
        _, d = jax.lax.scan(forward, zero, (factor.lower, factor.inv_pivot, b))
        _, x = jax.lax.scan(backward, zero, (factor.upper_eliminated, d), reverse=True)
        x_hat = jnp.moveaxis(x, 0, -1)
        out = jnp.fft.irfft2(x_hat, s=self.grid.shape[:2], axes=(1, 2))
        return out.astype(rhs.dtype if out_dtype is None else out_dtype)


class ShiftedFactor(NamedTuple):
    """Thomas factors of the depth systems of all lateral modes (depth axis first):
    the sub-diagonal, the eliminated super-diagonal ``c_k`` and the inverse pivots."""

    lower: jax.Array
    upper_eliminated: jax.Array
    inv_pivot: jax.Array
