"""What is simulated on the patch: species, their transport, kinetics and injury.

A :class:`PatchModel` is the continuous problem, for ``S`` species with
concentrations ``y_s(x, y, z, t)`` (time in days, lengths in um):

    dy_s/dt = div(D_s(z) grad y_s)                      diffusion (per-layer D)
              - div(chi_s(z) y_s grad y_a(s))            chemotaxis (Keller-Segel)
              + R_s(y, params, ctx)                      reaction, voxel by voxel

* ``D_s(z)`` is the diffusivity of species ``s`` in the layer at depth ``z``
  (um^2/day); species with ``D_s = 0`` everywhere (matrix, resident cells that
  do not move) are not transported at all.
* A :class:`Chemotaxis` term moves a cell species up the gradient of an
  attractant ``a(s)`` with sensitivity ``chi`` (um^2/day per unit of the
  attractant); the flux is ``J = chi n grad c``.
* ``R(y, params, ctx) -> dy/dt`` is any pure JAX function of one voxel's state
  vector (shape ``(S,)``): the same kinetics as the ``layered`` level, applied
  to every voxel with :func:`jax.vmap`. ``ctx`` is a :class:`ReactionContext`
  (time, the voxel's layer, its depth and optional auxiliary inputs).
* At a treatment session the state jumps: ``y <- injury(y, damage, params,
  ctx)`` in every voxel, where ``damage`` in ``[0, 1]`` is the fraction of the
  voxel inside a needle channel (:mod:`needlesim.patch.events`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import jax
import numpy as np
from numpy.typing import NDArray

from ..geometry.grid import N_LAYERS, PatchGrid

Params = Any
"""Any pytree of parameters; passed unchanged to the reaction and injury functions."""


class ReactionContext(NamedTuple):
    """What a voxel's kinetics may know besides its state.

    ``t`` is the time in days (a scalar), ``layer`` the voxel's
    :class:`~needlesim.anatomy.Layer` index (an integer, use it to pick
    per-layer parameters: ``jax.tree.map(lambda a: a[ctx.layer], per_layer)``),
    ``depth_um`` the depth of its centre and ``aux`` the voxel's slice of the
    model's auxiliary inputs (``None`` when there are none).
    """

    t: jax.Array
    layer: jax.Array
    depth_um: jax.Array
    aux: Any = None


ReactionFn = Callable[[jax.Array, Params, ReactionContext], jax.Array]
"""``reaction(y, params, ctx) -> dy/dt`` for one voxel; ``y`` and the result have shape ``(S,)``."""

InjuryFn = Callable[[jax.Array, jax.Array, Params, ReactionContext], jax.Array]
"""``injury(y, damage, params, ctx) -> y_after`` for one voxel; ``damage`` is a scalar in
``[0, 1]`` and the function must return ``y`` unchanged where ``damage == 0``."""


@dataclass(frozen=True)
class Chemotaxis:
    """Cells (species ``cells``) climbing the gradient of ``attractant``.

    ``chi`` is the chemotactic sensitivity in um^2/day per unit of the
    attractant's concentration, one value for all layers or one per layer
    (5 values, surface first). The flux is ``J = chi(z) n grad c``.
    """

    cells: int
    attractant: int
    chi: float | tuple[float, ...]

    def chi_per_layer(self) -> NDArray[np.float64]:
        chi = np.asarray(self.chi, dtype=np.float64)
        if chi.ndim == 0:
            return np.full(N_LAYERS, float(chi))
        if chi.shape != (N_LAYERS,):
            raise ValueError(f"chi needs one value or {N_LAYERS} (one per layer), got {chi.shape}")
        return chi


@dataclass(frozen=True, eq=False)
class PatchModel:
    """Species, transport coefficients, kinetics and injury of a patch simulation.

    ``diffusivity_um2_per_day`` has one row per species: a scalar (same in all
    layers) or 5 values (one per layer, surface first). ``units`` names the
    unit of every species (outputs carry it). ``aux`` is an optional pytree of
    arrays of shape ``(nx, ny, nz, ...)`` handed to the kinetics voxel by
    voxel as ``ctx.aux``. ``nonnegative`` marks species that must stay
    ``>= 0``: a step that makes one of them more negative than its absolute
    tolerance is rejected and retried smaller.

    ``bottom_conductance_um_per_day`` and ``bottom_value`` (one per species,
    default: none) let diffusing species exchange through the bottom face of
    the grid with tissue below it held at ``bottom_value``: the flux into the
    grid is ``g (u_b - u)`` (a Robin condition; ``g = 0`` is the no-flux wall).
    Choose ``u_b`` as the rest value, so that the rest state stays a steady
    state.

    ``linear_decay(params) -> (S, 5)`` (optional): rates ``lambda >= 0`` (1/day)
    of the loss of each species that is linear in it with a constant rate, per
    layer (e.g. mediator turnover). The integrator's preconditioner then uses
    ``-lambda`` for the diagonal of the reaction Jacobian instead of computing
    it (``S`` Jacobian-vector products per step). Only the number of Krylov
    iterations depends on it, not the solution or its order.
    """

    species: tuple[str, ...]
    diffusivity_um2_per_day: Sequence[float | Sequence[float]]
    reaction: ReactionFn | None = None
    injury: InjuryFn | None = None
    chemotaxis: tuple[Chemotaxis, ...] = ()
    units: tuple[str, ...] | None = None
    aux: Any = None
    nonnegative: bool | tuple[bool, ...] = True
    name: str = "patch"
    bottom_conductance_um_per_day: Sequence[float] | None = None
    bottom_value: Sequence[float] | None = None
    linear_decay: Callable[[Params], Any] | None = None
    _diffusivity: NDArray[np.float64] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.species)
        if n == 0:
            raise ValueError("a patch model needs at least one species")
        if len(set(self.species)) != n:
            raise ValueError(f"species names must be unique, got {self.species}")
        if len(self.diffusivity_um2_per_day) != n:
            raise ValueError(f"need one diffusivity row per species ({n})")
        rows = []
        for name, row in zip(self.species, self.diffusivity_um2_per_day, strict=True):
            r = np.asarray(row, dtype=np.float64)
            if r.ndim == 0:
                r = np.full(N_LAYERS, float(r))
            if r.shape != (N_LAYERS,):
                raise ValueError(f"diffusivity of {name!r}: one value or {N_LAYERS} per layer")
            if np.any(r < 0) or not np.all(np.isfinite(r)):
                raise ValueError(f"diffusivity of {name!r} must be finite and >= 0, got {r}")
            rows.append(r)
        object.__setattr__(self, "_diffusivity", np.stack(rows))
        if self.units is not None and len(self.units) != n:
            raise ValueError(f"need one unit per species ({n})")
        if not isinstance(self.nonnegative, bool) and len(self.nonnegative) != n:
            raise ValueError(f"nonnegative needs one flag per species ({n})")
        g = self.bottom_conductance
        if (self.bottom_conductance_um_per_day is None) != (self.bottom_value is None):
            raise ValueError("give both bottom_conductance_um_per_day and bottom_value, or neither")
        if g is not None:
            ub = np.asarray(self.bottom_value, dtype=np.float64)
            if g.shape != (n,) or ub.shape != (n,):
                raise ValueError(f"bottom conductance and value need one entry per species ({n})")
            if np.any(g < 0) or not np.all(np.isfinite(g)) or not np.all(np.isfinite(ub)):
                raise ValueError("bottom conductances must be finite and >= 0, values finite")
            still = (g > 0) & (self._diffusivity.max(axis=1) == 0)
            if np.any(still):
                names = [self.species[i] for i in np.flatnonzero(still)]
                raise ValueError(f"species without diffusion cannot cross the bottom: {names}")
        cells = {c.cells for c in self.chemotaxis}
        for c in self.chemotaxis:
            for idx in (c.cells, c.attractant):
                if not 0 <= idx < n:
                    raise ValueError(f"chemotaxis species index {idx} out of range [0, {n})")
            if c.attractant in cells:
                raise ValueError(
                    f"attractant {self.species[c.attractant]!r} is itself chemotactic; "
                    "attractants must not move by chemotaxis"
                )
            c.chi_per_layer()

    @property
    def n_species(self) -> int:
        return len(self.species)

    @property
    def bottom_conductance(self) -> NDArray[np.float64] | None:
        """Bottom conductances ``(S,)`` (um/day), or ``None`` (no-flux bottom)."""
        if self.bottom_conductance_um_per_day is None:
            return None
        return np.asarray(self.bottom_conductance_um_per_day, dtype=np.float64).reshape(-1)

    @property
    def diffusivity(self) -> NDArray[np.float64]:
        """Diffusivities, shape ``(S, 5)`` (um^2/day)."""
        return self._diffusivity

    @property
    def diffusing(self) -> tuple[int, ...]:
        """Indices of the species that diffuse somewhere (``D > 0`` in some layer)."""
        return tuple(int(i) for i in np.flatnonzero(self._diffusivity.max(axis=1) > 0))

    @property
    def chemotactic(self) -> tuple[int, ...]:
        """Indices of the species moved by chemotaxis."""
        return tuple(sorted({c.cells for c in self.chemotaxis}))

    @property
    def species_units(self) -> tuple[str, ...]:
        return self.units if self.units is not None else ("1",) * self.n_species

    def nonnegative_mask(self) -> NDArray[np.bool_]:
        if isinstance(self.nonnegative, bool):
            return np.full(self.n_species, self.nonnegative)
        return np.asarray(self.nonnegative, dtype=bool)

    def index(self, species: str | int) -> int:
        """Index of a species given by name or index."""
        if isinstance(species, int | np.integer):
            return int(species)
        try:
            return self.species.index(species)
        except ValueError:
            raise KeyError(f"unknown species {species!r}; known: {self.species}") from None

    def check_grid(self, grid: PatchGrid) -> None:
        """Raise if the auxiliary inputs do not match the grid."""
        for leaf in jax.tree.leaves(self.aux):
            if tuple(np.shape(leaf))[:3] != grid.shape:
                raise ValueError(
                    f"aux arrays need a leading shape {grid.shape}, got {np.shape(leaf)}"
                )

    def fingerprint(self) -> str:
        """A string that identifies the model's structure (for checkpoint matching)."""
        fn = self.reaction
        inj = self.injury
        return "|".join(
            [
                self.name,
                ",".join(self.species),
                np.array2string(self._diffusivity, precision=17, separator=","),
                repr([(c.cells, c.attractant, tuple(c.chi_per_layer())) for c in self.chemotaxis]),
                getattr(fn, "__qualname__", repr(fn)) if fn is not None else "-",
                getattr(inj, "__qualname__", repr(inj)) if inj is not None else "-",
                repr(tuple(self.nonnegative_mask())),
                getattr(self.linear_decay, "__qualname__", "-"),
                repr(
                    None
                    if self.bottom_value is None
                    else (
                        tuple(float(v).hex() for v in np.asarray(self.bottom_conductance)),
                        tuple(float(v).hex() for v in np.asarray(self.bottom_value)),
                    )
                ),
            ]
        )
