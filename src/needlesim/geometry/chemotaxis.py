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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import NDArray

from .grid import PatchGrid


class ChemotaxisTerm(Protocol):
    """One chemotaxis term: species ``cells`` climbs the gradient of ``attractant``."""

    @property
    def cells(self) -> int: ...

    @property
    def attractant(self) -> int: ...

    def chi_per_layer(self) -> NDArray[np.float64]: ...


class HasChemotaxis(Protocol):
    """A model that lists its chemotaxis terms (the patch level's ``PatchModel``)."""

    @property
    def chemotaxis(self) -> Sequence[ChemotaxisTerm]: ...


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


def shifted(a: jax.Array, axis: int, offsets: tuple[int, ...], mode: str) -> list[jax.Array]:
    """``a_{i+k}`` along ``axis`` for every ``k`` in ``offsets``, as slices of one padded
    array (``mode="wrap"``: periodic; ``"edge"``: the end values repeated, so that
    differences across a wall are zero). XLA fuses the slices of a padded array into
    the stencil that reads them (``jnp.roll`` materialises a copy per shift)."""
    lo, hi = -min(offsets), max(offsets)
    pad = [(0, 0)] * a.ndim
    pad[axis] = (lo, hi)
    padded = jnp.pad(a, pad, mode=mode)
    size = a.shape[axis]
    return [jax.lax.slice_in_dim(padded, lo + k, lo + k + size, axis=axis) for k in offsets]


def _face_flux(
    v: jax.Array, n_ll: jax.Array, n_l: jax.Array, n_r: jax.Array, n_rr: jax.Array
) -> jax.Array:
    """MUSCL/van Leer upwind flux through the face between cells ``l`` and ``r`` with face
    velocity ``v`` (``n_ll``, ``n_rr``: the next cells out, for the limited slopes)."""
    s_l = _van_leer(n_l - n_ll, n_r - n_l)
    s_r = _van_leer(n_r - n_l, n_rr - n_r)
    return jnp.maximum(v, 0.0) * (n_l + 0.5 * s_l) + jnp.minimum(v, 0.0) * (n_r - 0.5 * s_r)


def _flux_divergence(
    n: jax.Array,
    c: jax.Array,
    chi_left: jax.Array,
    chi_right: jax.Array,
    axis: int,
    h: float,
    mode: str,
) -> jax.Array:
    """``-(F_{i+1/2} - F_{i-1/2}) / h`` along ``axis`` with face velocities
    ``chi (c_{i+1} - c_i) / h``, as one fused stencil; ``chi_left``/``chi_right`` are the
    sensitivities on the faces ``i -+ 1/2``. Both faces of a cell are evaluated by the
    same expression on the same values as the neighbour's, so the fluxes telescope and
    the total is conserved to round-off."""
    nm2, nm1, n0, np1, np2 = shifted(n, axis, (-2, -1, 0, 1, 2), mode)
    cm1, c0, cp1 = shifted(c, axis, (-1, 0, 1), mode)
    f_right = _face_flux(chi_right * (cp1 - c0) / h, nm1, n0, np1, np2)
    f_left = _face_flux(chi_left * (c0 - cm1) / h, nm2, nm1, n0, np1)
    return -(f_right - f_left) / h


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
    def for_model(cls, grid: PatchGrid, model: HasChemotaxis) -> ChemotaxisOperator:
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

    def apply(self, y: jax.Array) -> jax.Array:
        """The chemotaxis tendency ``-div(chi n grad c)`` of the chemotactic species at
        state ``y`` (``(Sc, nx, ny, nz)``, in the order of :attr:`cells`)."""
        dx, dy, dz = self.grid.spacing_um
        order = self.cells
        out: list[jax.Array | None] = [None] * len(order)
        for p, (species, attractant) in enumerate(self.pairs):
            n, c = y[species], y[attractant]
            chi = jnp.asarray(self.chi_z[p])
            d = _flux_divergence(n, c, chi, chi, 0, dx, "wrap") + _flux_divergence(
                n, c, chi, chi, 1, dy, "wrap"
            )
            if self.grid.nz > 1:
                # faces 0..nz: the surface and bottom faces carry no flux
                faces = jnp.asarray(np.concatenate([[0.0], self.chi_face[p], [0.0]]))
                d = d + _flux_divergence(n, c, faces[:-1], faces[1:], 2, dz, "edge")
            pos = order.index(species)
            prev = out[pos]
            out[pos] = d if prev is None else prev + d
        return jnp.stack([o if o is not None else jnp.zeros_like(y[0]) for o in out])

    def frozen_upwind(self, y: jax.Array) -> Callable[[jax.Array], jax.Array]:
        """The linear map ``v -> -div(v_n u)`` with the face velocities ``u`` of state ``y``
        frozen and first-order upwinding: a cheap approximation of the chemotaxis
        Jacobian for the implicit stages (the integrator is a W-method, so any
        approximation keeps its order; this one keeps the stiffness of the advection)."""
        dx, dy, dz = self.grid.spacing_um
        order = self.cells
        frozen = []
        for vx, vy, vz in self.velocities(y):
            # depth faces 0..nz, the walls with zero velocity (built once per step)
            zero = jnp.zeros((*vz.shape[:-1], 1), dtype=vz.dtype)
            frozen.append((vx, vy, jnp.concatenate([zero, vz, zero], axis=-1)))

        def upwind(
            n: jax.Array, v_left: jax.Array, v_right: jax.Array, axis: int, h: float, mode: str
        ) -> jax.Array:
            nm1, n0, np1 = shifted(n, axis, (-1, 0, 1), mode)
            f_right = jnp.maximum(v_right, 0.0) * n0 + jnp.minimum(v_right, 0.0) * np1
            f_left = jnp.maximum(v_left, 0.0) * nm1 + jnp.minimum(v_left, 0.0) * n0
            return -(f_right - f_left) / h

        def apply(v_state: jax.Array) -> jax.Array:
            out = [jnp.zeros_like(v_state[0]) for _ in order]
            for (species, _), (vx, vy, vz) in zip(self.pairs, frozen, strict=True):
                n = v_state[species]
                vx_left, vx_right = shifted(vx, 0, (-1, 0), "wrap")
                vy_left, vy_right = shifted(vy, 1, (-1, 0), "wrap")
                d = upwind(n, vx_left, vx_right, 0, dx, "wrap")
                d = d + upwind(n, vy_left, vy_right, 1, dy, "wrap")
                if self.grid.nz > 1:
                    d = d + upwind(n, vz[..., :-1], vz[..., 1:], 2, dz, "edge")
                pos = order.index(species)
                out[pos] = out[pos] + d
            return jnp.stack(out)

        return apply
