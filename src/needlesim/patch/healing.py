"""The real healing kinetics on the patch: an adapter from :mod:`needlesim.biology`.

Every voxel runs the kinetics of the ``layered`` level for the compartment of
its layer (the rate laws of :func:`needlesim.biology.reaction_rates` with the
layer's row of :func:`needlesim.biology.compartments`); the state has the 24
species of :data:`needlesim.biology.SPECIES` in the same units. Transport:

* the six soluble mediators (:data:`~needlesim.biology.DIFFUSIBLE`) diffuse
  with the registry's ``mediator_diffusivity_um2_per_day`` in every living
  layer and not into the stratum corneum (``D = 0`` there: the harmonic face
  mean makes the interface impermeable, as the layered exchange does); at the
  bottom of the grid they exchange with the rest of the hypodermis, a
  well-mixed compartment at rest as in the layered level
  (:func:`bottom_exchange`);
* fibroblasts migrate at random with :data:`FIBROBLAST_MOTILITY_UM2_PER_DAY`
  in the connective layers and climb PDGF gradients with the sensitivity
  :data:`FIBROBLAST_CHEMOTAXIS_CHI` in all three of them (both assumptions,
  see below; the harmonic face sensitivity keeps them out of the epidermis);
* everything else (matrix, resident and immune cells, wound indices) stays
  where it is (``D = 0``).

Injury per voxel (:func:`healing_damage`, :func:`healing_injury`): the one
session jump of both levels (:func:`needlesim.biology.injury.injury_jump`) with
fields of the session's punctures in place of the layer's injured fraction
``v_l``: the track volume fraction (clot, capillaries; the tracks are the
device model's needle geometry with its tilt), the signalling volume (damage;
``A_D`` times the track volume around each track, since ``A_D`` amplifies the
volume that damage signals reach), the opened footprint (open channels) and
the session's bleeding fraction (clot); see :func:`healing_damage`.

Initial state: the layered rest state :func:`needlesim.biology.baseline_state`
of the patient, row by row according to each voxel's layer.

Assumptions (documented in ``docs/patch.md``):

* ``FIBROBLAST_MOTILITY_UM2_PER_DAY = 8.64e3`` (1e-9 cm^2/s, the random
  motility coefficient of fibroblasts used in continuum wound models, e.g.
  Olsen et al. 1995; order of magnitude only);
* ``FIBROBLAST_CHEMOTAXIS_CHI = 4.0e3`` um^2/day per fold of PDGF: a drift of
  ~100 um/day up a gradient of one fold per 40 um (a ~4 um/h bias on cells
  that crawl at 10-50 um/h);
* the hypodermis below the grid is at rest (it is much thicker than the grid's
  part of it) and exchanges through its centre, as in the layered level;
* the signalling volume is the track dilated by a uniform margin (isotropic,
  as a diffusing signal spreads), intensity 1 inside.
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
    linear_loss_rates,
)
from ..biology.dose import effective_injured_fraction
from ..biology.injury import injury_jump
from ..biology.kinetics import RATES
from ..device.needle import NeedleGeometry
from ..geometry.grid import N_LAYERS, PatchGrid
from .events import PunctureLike, damage_from_punctures, dilation_margin_um, surface_opening
from .model import Chemotaxis, PatchModel, ReactionContext

FloatArray = NDArray[np.float64]

FIBROBLAST_MOTILITY_UM2_PER_DAY = 8.64e3
"""Random motility of fibroblasts (um^2/day; 1e-9 cm^2/s). An assumption."""

FIBROBLAST_CHEMOTAXIS_CHI = 4.0e3
"""Chemotactic sensitivity of fibroblasts to PDGF (um^2/day per fold). An assumption."""

_CHEMOTAXIS_LAYERS = (Layer.papillary_dermis, Layer.reticular_dermis, Layer.hypodermis)

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
    # the rate laws of reaction_rates, masked with the voxel's row of PRESENCE only
    # (reaction_rates would broadcast to all 5 layers and pick one: 5x the work).
    # Masked with `where`, not a product: the rate law of an absent species may have
    # an infinite derivative at its zero inputs (fibroblast activation at TGF-beta1 = 0
    # in the stratum corneum), and 0 * inf would put NaN into the Jacobian products.
    rates = jnp.stack([RATES[s](y, params.p, c) for s in S])
    return jnp.where(jnp.asarray(PRESENCE)[ctx.layer], rates, 0.0)


INJURY_FIELDS = ("dose", "signal", "opening", "bleeding")
"""The fields of a session's damage (:func:`healing_damage`), in this order."""


def healing_injury(
    y: jax.Array, damage: jax.Array, params: HealingParams, ctx: ReactionContext
) -> jax.Array:
    """The layered session jump of one voxel (:func:`needlesim.biology.injury.injury_jump`).

    ``damage`` holds the voxel's :data:`INJURY_FIELDS` (shape ``(4,)``, see
    :func:`healing_damage`): the track volume fraction ``v`` (``dose``), the
    signalling-volume fraction ``w`` (``signal``, in place of the layered
    ``A_D v``), the opened footprint fraction ``a`` (``opening``) and the
    session's bleeding fraction ``b`` (``bleeding``)::

        D += w,   P += A_P b v,   Cap *= 1 - min(c_cut v, 1),   O += a - O a

    (each where the species is present in the voxel's layer; the clot only below
    the dermo-epidermal junction). A scalar ``damage`` ``d`` stands for
    ``(v_eff, A_D v_eff, d, 1)`` with ``v_eff`` the saturating dose of
    :mod:`needlesim.biology.dose`: a voxel injured with the layered jump of a layer
    whose injured fraction is ``d``, every channel bleeding.
    """
    p = params.p
    present = jnp.asarray(PRESENCE, dtype=y.dtype)[ctx.layer]
    if jnp.ndim(damage) == 0:
        d = effective_injured_fraction(damage, p)  # the layer's saturating dose (biology.dose)
        v, w, a, b = d, p.damage_amplification * d, damage, jnp.ones_like(damage)
    else:
        v, w, a, b = damage[0], damage[1], damage[2], damage[3]
    return injury_jump(y, v, w, a, b, present, p)


def healing_damage(
    grid: PatchGrid,
    punctures: PunctureLike,
    p: Parameters,
    needle: NeedleGeometry | None = None,
    *,
    bleeding_fraction: float = 1.0,
    samples: int = 3,
) -> FloatArray:
    """The :data:`INJURY_FIELDS` of one session's punctures, ``(4, nx, ny, nz)``.

    Channels are the tracks of ``needle`` (profile and tilt: the geometry of the
    device model, :func:`needlesim.device.needle.track_mask`; ``None``: cones of
    the punctures' surface diameters).

    * ``dose``: the track volume fraction of each voxel, overlapping channels
      summed (as the device model sums track volumes into the layer's injured
      fraction ``v_l``), scaled in each grid layer by ``v_eff(v_l) / v_l``, the
      saturation of :mod:`needlesim.biology.dose` (the layered jump's dose), so its
      mean over a layer approaches ``v_eff(v_l)`` as the voxels shrink (a voxel
      runs the kinetics of the layer holding its centre, so each grid layer's
      boundaries lie up to half a voxel from the skin's);
    * ``signal``: the damage signal. The ``layered`` level raises damage by
      ``A_D v_l``: the signalling volume (DAMPs, ATP, H2O2 reach cells beyond
      the track) is ``A_D`` times the track volume, mixed over the layer. On
      the patch that volume is placed around each track: the track dilated by
      a margin (:func:`dilation_margin_um`) that makes its volume ``A_D`` times
      the track's, intensity 1 inside, overlaps summed, then scaled in each
      grid layer so that its layer mean is ``A_D`` times the dose's, the signalled
      fraction ``1 - exp(-A_D v_l)`` (the layered ``w = A_D v_eff`` per layer: the
      dilation gives the signal its shape,
      not its amount; a uniform margin would otherwise move signal from the thin
      top layers into the layers below the tips). Where channels are dense the
      regions overlap and the field approaches the layered value, where they
      are sparse the signal stays near the channels;
    * ``opening``: the fraction of the voxel's footprint inside a channel
      opening (union over channels; its mean is the surface coverage ``a`` of
      the layered jump), used in the stratum corneum and viable epidermis;
    * ``bleeding``: the session's bleeding fraction ``b`` (the device summary's
      fraction of channels reaching the dermal capillaries), uniform: the clot
      jump is ``A_P b v`` as on the layered level.
    """
    if not (np.isfinite(bleeding_fraction) and 0.0 <= bleeding_fraction <= 1.0):
        raise ValueError(f"bleeding_fraction must lie in [0, 1], got {bleeding_fraction}")
    amplification = float(np.asarray(p.damage_amplification))

    def tracks(margin: float | FloatArray) -> FloatArray:
        return damage_from_punctures(
            grid, punctures, needle=needle, samples=samples, margin_um=margin, combine="sum"
        )

    dose = tracks(0.0)
    margins = dilation_margin_um(
        np.asarray(punctures.penetration_depth_um, dtype=np.float64),
        np.asarray(punctures.surface_diameter_um, dtype=np.float64),
        amplification,
        needle,
    )
    signal = tracks(margins)
    for layer in range(N_LAYERS):
        k = grid.layer_of_z == layer
        mean = float(signal[..., k].mean()) if k.any() else 0.0
        track = float(dose[..., k].mean()) if k.any() else 0.0
        if track > 0.0:  # the layer's saturating dose v_eff(v_l) of biology.dose
            dose[..., k] *= float(effective_injured_fraction(np.asarray(track), p)) / track
        if mean > 0.0:  # signal mean A_D v_eff: the signalled fraction phi(v_l)
            signal[..., k] *= amplification * float(dose[..., k].mean()) / mean
    opening = np.broadcast_to(surface_opening(grid, punctures)[:, :, None], grid.shape)
    bleeding = np.full(grid.shape, float(bleeding_fraction))
    return np.stack([dose, signal, opening, bleeding])


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


def hypodermis_below_um(grid: PatchGrid) -> float:
    """Thickness of the skin's hypodermis below the grid (um; 0 when the grid holds the
    whole stack or has no skin profile)."""
    if grid.skin is None:
        return 0.0
    return max(0.0, float(grid.skin.boundaries_um[-1]) - grid.lengths_um[2])


def bottom_exchange(grid: PatchGrid, p: Parameters) -> tuple[list[float], list[float]] | None:
    """Conductance (um/day) and outside value of every species at the grid's bottom.

    The hypodermis below the grid is represented as the ``layered`` level
    represents a layer: one well-mixed compartment, at rest (its thickness
    ``h`` is much larger than the grid's, so its level barely moves). A
    mediator crosses the bottom face with the layered exchange flux between the
    bottom voxel and that compartment, ``2 D (G_rest - G) / (dz + h)`` (centre to
    centre distance, :mod:`needlesim.geometry.exchange`). Nothing else crosses.
    ``None`` when nothing lies below the grid (a no-flux bottom, as in
    ``layered``).
    """
    below = hypodermis_below_um(grid)
    if below <= 0.0 or grid.layer_of_z[-1] != Layer.hypodermis:
        return None
    d_med = float(np.asarray(p.mediator_diffusivity_um2_per_day))
    g = 2.0 * d_med / (grid.spacing_um[2] + below)
    live = DIFFUSIBLE & PRESENCE[Layer.hypodermis]
    conductance = [g if ok else 0.0 for ok in live]
    value = [1.0 if ok else 0.0 for ok in live]  # fold species rest at 1
    return conductance, value


def healing_model(p: Parameters, grid: PatchGrid | None = None) -> PatchModel:
    """The :class:`PatchModel` of the healing kinetics (24 species); with ``grid``, the
    mediators exchange with the hypodermis below it (:func:`bottom_exchange`)."""
    bottom = bottom_exchange(grid, p) if grid is not None else None
    return PatchModel(
        species=SPECIES_NAMES,
        diffusivity_um2_per_day=healing_diffusivities(p),
        reaction=healing_reaction,
        injury=healing_injury,
        chemotaxis=(healing_chemotaxis(),),
        units=SPECIES_UNITS,
        nonnegative=True,
        name="healing",
        bottom_conductance_um_per_day=None if bottom is None else bottom[0],
        bottom_value=None if bottom is None else bottom[1],
        linear_decay=healing_linear_decay,
    )


def healing_linear_decay(params: HealingParams) -> jax.Array:
    """``(S, 5)``: the constant linear loss rates of every species and layer
    (:func:`needlesim.biology.linear_loss_rates`), for the preconditioner."""
    return jnp.asarray(linear_loss_rates(params.p, params.c)).T


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
        model=healing_model(p, grid),
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
