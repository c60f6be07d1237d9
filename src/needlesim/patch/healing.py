"""The real healing kinetics on the patch: an adapter from :mod:`needlesim.biology`.

Every voxel runs the kinetics of the ``layered`` level for the compartment of
its layer (:func:`needlesim.biology.reaction_rates` with the layer's row of
:func:`needlesim.biology.compartments`); the state has the 24 species of
:data:`needlesim.biology.SPECIES` in the same units. Transport:

* the six soluble mediators (:data:`~needlesim.biology.DIFFUSIBLE`) diffuse
  with the registry's ``mediator_diffusivity_um2_per_day`` in every living
  layer and not into the stratum corneum (``D = 0`` there: the harmonic face
  mean makes the interface impermeable, as the layered exchange does);
* fibroblasts migrate at random with :data:`FIBROBLAST_MOTILITY_UM2_PER_DAY`
  in the connective layers and climb PDGF gradients with the sensitivity
  :data:`FIBROBLAST_CHEMOTAXIS_CHI` (both assumptions, see below);
* everything else (matrix, resident and immune cells, wound indices) stays
  where it is (``D = 0``).

Injury per voxel (:func:`healing_injury`): the layered jump
(:func:`needlesim.biology.apply_injury`) with the voxel's damage fraction ``d``
in place of the layer's injured volume fraction: ``damage += A_D d``;
``clot += A_P d`` where the voxel is below the dermo-epidermal junction (a
channel voxel in the dermis bleeds; the layered level uses ``A_P b v_l`` with
``b`` the fraction of channels that crossed the junction, the same for
devices whose channels all reach the dermis); capillaries lose
``min(c_cut d, 1)``; in the stratum corneum and viable epidermis the open
channel fraction becomes ``O + d - O d`` (the voxel's opened area fraction in
place of the Boolean coverage ``a``). A voxel with ``d = 0`` is unchanged.

Initial state: the layered rest state :func:`needlesim.biology.baseline_state`
of the patient, row by row according to each voxel's layer.

Assumptions (documented in ``docs/patch.md``):

* ``FIBROBLAST_MOTILITY_UM2_PER_DAY = 8.64e3`` (1e-9 cm^2/s, the random
  motility coefficient of fibroblasts used in continuum wound models, e.g.
  Olsen et al. 1995; order of magnitude only);
* ``FIBROBLAST_CHEMOTAXIS_CHI = 4.0e3`` um^2/day per fold of PDGF: a drift of
  ~100 um/day up a gradient of one fold per 40 um (a ~4 um/h bias on cells
  that crawl at 10-50 um/h);
* chemotaxis acts in the reticular dermis and hypodermis only: the patch's
  chemotaxis operator averages ``chi`` on depth faces, so a sensitivity in the
  papillary dermis would drag fibroblasts across the dermo-epidermal junction
  into the epidermis, where they do not exist. Papillary fibroblasts move by
  random motility only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import NDArray

from ..anatomy import Layer, SkinProfile
from ..biology import (
    DIFFUSIBLE,
    N_SPECIES,
    PRESENCE,
    SPECIES_NAMES,
    SPECIES_UNITS,
    Compartments,
    Covariates,
    Parameters,
    S,
    baseline_state,
    compartments,
    reaction_rates,
)
from .grid import N_LAYERS, PatchGrid
from .model import Chemotaxis, PatchModel, ReactionContext

FloatArray = NDArray[np.float64]

FIBROBLAST_MOTILITY_UM2_PER_DAY = 8.64e3
"""Random motility of fibroblasts (um^2/day; 1e-9 cm^2/s). An assumption."""

FIBROBLAST_CHEMOTAXIS_CHI = 4.0e3
"""Chemotactic sensitivity of fibroblasts to PDGF (um^2/day per fold). An assumption."""

_CHEMOTAXIS_LAYERS = (Layer.reticular_dermis, Layer.hypodermis)
_DERMAL = np.zeros(N_LAYERS)
_DERMAL[[Layer.papillary_dermis, Layer.reticular_dermis, Layer.hypodermis]] = 1.0

ATOL_DEFAULT = 1e-6
"""Absolute tolerance of every species (all are O(1) in their units)."""


class HealingParams(NamedTuple):
    """The pytree handed to the patch kinetics: biology parameters and per-layer context."""

    p: Parameters
    c: Compartments


def healing_params(p: Parameters, cov: Covariates) -> HealingParams:
    """Parameters and the patient's compartment context (trailing layer axis of 5)."""
    return HealingParams(p, compartments(p, cov))


def _layer_row(c: Compartments, layer: jax.Array) -> Compartments:
    return Compartments(*(jnp.asarray(a)[..., layer] for a in c))


def healing_reaction(y: jax.Array, params: HealingParams, ctx: ReactionContext) -> jax.Array:
    """``dy/dt`` of one voxel: the layered kinetics of the compartment ``ctx.layer``.

    The compartment context is reduced to the voxel's layer, so the rate laws
    see scalars; absent species are masked with ``PRESENCE[layer]``.
    """
    c = _layer_row(params.c, ctx.layer)
    rates = reaction_rates(y, params.p, c)  # (5, S) by the PRESENCE broadcast
    return rates[ctx.layer]


def healing_injury(
    y: jax.Array, damage: jax.Array, params: HealingParams, ctx: ReactionContext
) -> jax.Array:
    """The layered session jump of one voxel with damage fraction ``damage``."""
    p = params.p
    present = jnp.asarray(PRESENCE, dtype=y.dtype)[ctx.layer]
    dermal = jnp.asarray(_DERMAL, dtype=y.dtype)[ctx.layer]
    d = damage
    o = y[S.open_channels]
    cut = jnp.minimum(p.capillary_cut_fraction * d, 1.0)
    y = y.at[S.damage].add(p.damage_amplification * d * present[S.damage])
    y = y.at[S.clot].add(p.clot_amplification * dermal * d * present[S.clot])
    y = y.at[S.open_channels].add((d - o * d) * present[S.open_channels])
    return y.at[S.capillaries].add(-y[S.capillaries] * cut)


def healing_diffusivities(p: Parameters) -> list[list[float]]:
    """Per-species, per-layer diffusivities (um^2/day), see the module docstring."""
    d_med = float(np.asarray(p.mediator_diffusivity_um2_per_day))
    rows: list[list[float]] = []
    for s in range(N_SPECIES):
        if DIFFUSIBLE[s]:
            live = PRESENCE[:, s] & (np.arange(N_LAYERS) != Layer.stratum_corneum)
            rows.append([d_med if ok else 0.0 for ok in live])
        elif s == S.fibroblasts:
            rows.append([FIBROBLAST_MOTILITY_UM2_PER_DAY if ok else 0.0 for ok in PRESENCE[:, s]])
        else:
            rows.append([0.0] * N_LAYERS)
    return rows


def healing_chemotaxis() -> Chemotaxis:
    """Fibroblasts up PDGF gradients in the reticular dermis and hypodermis."""
    chi = tuple(
        FIBROBLAST_CHEMOTAXIS_CHI if layer in _CHEMOTAXIS_LAYERS else 0.0
        for layer in range(N_LAYERS)
    )
    return Chemotaxis(cells=int(S.fibroblasts), attractant=int(S.pdgf), chi=chi)


def healing_model(p: Parameters) -> PatchModel:
    """The :class:`PatchModel` of the healing kinetics (24 species)."""
    return PatchModel(
        species=SPECIES_NAMES,
        diffusivity_um2_per_day=healing_diffusivities(p),
        reaction=healing_reaction,
        injury=healing_injury,
        chemotaxis=(healing_chemotaxis(),),
        units=SPECIES_UNITS,
        nonnegative=True,
        name="healing",
    )


def healing_initial_state(grid: PatchGrid, p: Parameters, cov: Covariates) -> FloatArray:
    """The layered rest state on the grid, ``(S, nx, ny, nz)``."""
    rest = np.asarray(baseline_state(p, cov), dtype=np.float64)  # (5, S)
    column = rest[grid.layer_of_z].T  # (S, nz)
    return np.ascontiguousarray(np.broadcast_to(column[:, None, None, :], (N_SPECIES, *grid.shape)))


@dataclass(frozen=True)
class HealingSetup:
    """Everything :func:`needlesim.patch.simulate_patch` needs for the healing kinetics."""

    grid: PatchGrid
    model: PatchModel
    y0: FloatArray
    params: HealingParams
    covariates: Covariates


def healing_setup(
    skin: SkinProfile,
    p: Parameters,
    cov: Covariates,
    *,
    side_um: float,
    spacing_um: float,
    depth_um: float | None = None,
) -> HealingSetup:
    """Grid, model, rest state and parameters of a patch of ``skin``."""
    grid = PatchGrid.from_skin(skin, side_um=side_um, spacing_um=spacing_um, depth_um=depth_um)
    return HealingSetup(
        grid=grid,
        model=healing_model(p),
        y0=healing_initial_state(grid, p, cov),
        params=healing_params(p, cov),
        covariates=cov,
    )


def describe_assumptions() -> dict[str, Any]:
    """JSON-safe record of the transport assumptions (for summaries)."""
    return {
        "fibroblast_motility_um2_per_day": FIBROBLAST_MOTILITY_UM2_PER_DAY,
        "fibroblast_chemotaxis_chi_um2_per_day_per_fold": FIBROBLAST_CHEMOTAXIS_CHI,
        "chemotaxis_layers": [Layer(i).name for i in _CHEMOTAXIS_LAYERS],
    }
