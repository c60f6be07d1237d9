"""Chemotaxis: cells climbing a growth-factor gradient (Keller-Segel flux).

For cells ``n`` and attractant ``c`` the flux is ``J = chi(z) n grad c`` and
``dn/dt = -div J``. It is an advection of ``n`` with velocity
``v = chi grad c``, discretised conservatively on cell faces:

* face velocities from centred differences of ``c``:
  ``v_{i+1/2} = chi (c_{i+1} - c_i) / dx`` (laterally periodic; in depth
  ``chi`` on a face is the harmonic mean ``2 chi_k chi_{k+1} / (chi_k + chi_{k+1})``
  of its two cells, as for the diffusivity, so a face next to a layer with
  ``chi = 0`` carries no chemotactic flux: cells sensitive in the papillary
  dermis are not drawn across the dermo-epidermal junction into the
  epidermis, where ``chi = 0``; the surface and bottom faces carry no flux);
* face values of ``n`` by MUSCL reconstruction with the van Leer limiter,
  ``s_i = vL(n_i - n_{i-1}, n_{i+1} - n_i)``, ``vL(a, b) = (ab + |ab|) / (a + b)``,
  upwinded: ``F_{i+1/2} = v^+ (n_i + s_i / 2) + v^- (n_{i+1} - s_{i+1} / 2)``.
  Second order where ``n`` is smooth, first order at extrema; total mass is
  conserved to round-off and no new extrema are created (TVD);
* in time the term is part of the full right-hand side and the integrator
  (:mod:`needlesim.patch.rosenbrock`) treats it linearly implicitly, so there
  is no CFL limit on the step. Its Jacobian in the stage matrices is
  approximated by first-order upwind advection with the velocity frozen
  (:meth:`ChemotaxisOperator.frozen_upwind`; the Rosenbrock-W methods keep
  their order with any Jacobian approximation), or taken exactly with
  :func:`jax.linearize` (``chemotaxis_jacobian="exact"``).
  :meth:`ChemotaxisOperator.cfl_rate` reports the explicit Courant rate
  ``max(|v_x|/dx + |v_y|/dy + |v_z|/dz)`` for diagnostics.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import NDArray

from .grid import PatchGrid
from .model import PatchModel


def harmonic_face(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """``2 a b / (a + b)`` of neighbours along the last axis (``(..., n - 1)``); 0 where
    ``a b <= 0``. Equal neighbours give their value; a zero on either side gives 0."""
    v = np.asarray(values, dtype=np.float64)
    a, b = v[..., :-1], v[..., 1:]
    same = a * b > 0
    out: NDArray[np.float64] = np.where(same, 2.0 * a * b / np.where(same, a + b, 1.0), 0.0)
    return out


def _van_leer(a: jax.Array, b: jax.Array) -> jax.Array:
    ab = a * b
    denom = jnp.where(ab > 0, a + b, 1.0)
    return jnp.where(ab > 0, 2.0 * ab / denom, 0.0)


def _lateral_flux_divergence(n: jax.Array, v: jax.Array, axis: int, h: float) -> jax.Array:
    """``-(F_{i+1/2} - F_{i-1/2}) / h`` along a periodic ``axis``; ``v[i]`` is on face i+1/2."""
    right = jnp.roll(n, -1, axis=axis)
    left = jnp.roll(n, 1, axis=axis)
    slope = _van_leer(n - left, right - n)
    slope_right = jnp.roll(slope, -1, axis=axis)
    flux = jnp.maximum(v, 0.0) * (n + 0.5 * slope) + jnp.minimum(v, 0.0) * (
        right - 0.5 * slope_right
    )
    return -(flux - jnp.roll(flux, 1, axis=axis)) / h


def _depth_flux_divergence(n: jax.Array, v_inner: jax.Array, h: float) -> jax.Array:
    """Same along depth (last axis) with no-flux walls; ``v_inner`` on the nz-1 inner faces."""
    diff = n[..., 1:] - n[..., :-1]
    zero = jnp.zeros((*n.shape[:-1], 1), dtype=n.dtype)
    slope = _van_leer(jnp.concatenate([zero, diff], -1), jnp.concatenate([diff, zero], -1))
    flux_inner = jnp.maximum(v_inner, 0.0) * (n[..., :-1] + 0.5 * slope[..., :-1]) + jnp.minimum(
        v_inner, 0.0
    ) * (n[..., 1:] - 0.5 * slope[..., 1:])
    flux = jnp.concatenate([zero, flux_inner, zero], axis=-1)
    return -(flux[..., 1:] - flux[..., :-1]) / h


@dataclass(frozen=True, eq=False)
class ChemotaxisOperator:
    """All chemotaxis terms of a model on a grid.

    ``pairs[p] = (cells, attractant)`` with sensitivities ``chi_z[p]`` per
    depth index. Acting on the full state ``y`` of shape ``(S, nx, ny, nz)``.
    """

    grid: PatchGrid
    pairs: tuple[tuple[int, int], ...]
    chi_z: NDArray[np.float64]

    @classmethod
    def for_model(cls, grid: PatchGrid, model: PatchModel) -> ChemotaxisOperator:
        pairs = tuple((c.cells, c.attractant) for c in model.chemotaxis)
        rows = [grid.per_layer(c.chi_per_layer()) for c in model.chemotaxis]
        chi = np.stack(rows) if rows else np.zeros((0, grid.nz))
        return cls(grid, pairs, chi)

    @property
    def chi_face(self) -> NDArray[np.float64]:
        """``chi`` on the ``nz - 1`` inner depth faces of every pair: the harmonic mean
        of the two cells (0 when either is 0 or their signs differ), shape
        ``(pairs, nz - 1)``."""
        return harmonic_face(self.chi_z)

    @property
    def cells(self) -> tuple[int, ...]:
        """Species moved by chemotaxis (sorted, unique)."""
        return tuple(sorted({p[0] for p in self.pairs}))

    def velocities(self, y: jax.Array) -> list[tuple[jax.Array, jax.Array, jax.Array]]:
        """Face velocities ``(v_x, v_y, v_z_inner)`` of every pair (um/day)."""
        dx, dy, dz = self.grid.spacing_um
        out = []
        for p, (_, a) in enumerate(self.pairs):
            c = y[a]
            chi = jnp.asarray(self.chi_z[p])
            vx = chi * (jnp.roll(c, -1, axis=0) - c) / dx
            vy = chi * (jnp.roll(c, -1, axis=1) - c) / dy
            chi_face = jnp.asarray(self.chi_face[p])
            vz = chi_face * (c[..., 1:] - c[..., :-1]) / dz
            out.append((vx, vy, vz))
        return out

    def cfl_rate(self, velocities: list[tuple[jax.Array, jax.Array, jax.Array]]) -> jax.Array:
        """``max (|v_x|/dx + |v_y|/dy + |v_z|/dz)`` over pairs (1/day): the CFL rate."""
        dx, dy, dz = self.grid.spacing_um
        r = jnp.zeros(())
        for vx, vy, vz in velocities:
            rz = jnp.max(jnp.abs(vz)) if vz.size else jnp.zeros(())
            r = jnp.maximum(r, jnp.max(jnp.abs(vx)) / dx + jnp.max(jnp.abs(vy)) / dy + rz / dz)
        return r

    def tendency(
        self, cells: jax.Array, velocities: list[tuple[jax.Array, jax.Array, jax.Array]]
    ) -> jax.Array:
        """``-div(chi n grad c)`` for the chemotactic species ``cells`` (``(Sc, nx, ny, nz)``,
        in the order of :attr:`cells`)."""
        dx, dy, dz = self.grid.spacing_um
        out = jnp.zeros_like(cells)
        order = self.cells
        for (species, _), (vx, vy, vz) in zip(self.pairs, velocities, strict=True):
            pos = order.index(species)
            n = cells[pos]
            d = _lateral_flux_divergence(n, vx, 0, dx) + _lateral_flux_divergence(n, vy, 1, dy)
            if self.grid.nz > 1:
                d = d + _depth_flux_divergence(n, vz, dz)
            out = out.at[pos].add(d)
        return out

    def apply(self, y: jax.Array) -> jax.Array:
        """The chemotaxis tendency of the chemotactic species at state ``y`` (``(Sc, ...)``)."""
        return self.tendency(y[jnp.asarray(self.cells)], self.velocities(y))

    def frozen_upwind(self, y: jax.Array) -> Callable[[jax.Array], jax.Array]:
        """The linear map ``v -> -div(v_n u)`` with the face velocities ``u`` of state ``y``
        frozen and first-order upwinding: a cheap approximation of the chemotaxis
        Jacobian for the implicit stages (the integrator is a W-method, so any
        approximation keeps its order; this one keeps the stiffness of the advection)."""
        vel = self.velocities(y)
        dx, dy, dz = self.grid.spacing_um
        order = self.cells

        def upwind(n: jax.Array, v: jax.Array, axis: int, h: float) -> jax.Array:
            flux = jnp.maximum(v, 0.0) * n + jnp.minimum(v, 0.0) * jnp.roll(n, -1, axis=axis)
            return -(flux - jnp.roll(flux, 1, axis=axis)) / h

        def apply(v_state: jax.Array) -> jax.Array:
            out = [jnp.zeros_like(v_state[0]) for _ in order]
            for (species, _), (vx, vy, vz) in zip(self.pairs, vel, strict=True):
                n = v_state[species]
                d = upwind(n, vx, 0, dx) + upwind(n, vy, 1, dy)
                if self.grid.nz > 1:
                    zero = jnp.zeros((*n.shape[:-1], 1), dtype=n.dtype)
                    inner = jnp.maximum(vz, 0.0) * n[..., :-1] + jnp.minimum(vz, 0.0) * n[..., 1:]
                    flux = jnp.concatenate([zero, inner, zero], axis=-1)
                    d = d - (flux[..., 1:] - flux[..., :-1]) / dz
                pos = order.index(species)
                out[pos] = out[pos] + d
            return jnp.stack(out)

        return apply
