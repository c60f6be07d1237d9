"""State layout of one skin compartment: the ordered species, their units and where they live.

The state of the ``layered`` model is an array ``y[..., layer, species]`` of shape
``(..., 5, N_SPECIES)``: layers in :class:`needlesim.anatomy.Layer` order (surface
first), species in the order of :data:`SPECIES`. This module is the single place
that defines that order; everything else (kinetics, solver, outcomes) indexes
through :class:`S` or :func:`index`.

Normalisations (``unit`` of each species):

* ``fold``: concentration divided by the healthy (unwounded) value of the same
  patient and layer, so the unwounded steady state is exactly 1. Used for the
  soluble mediators (cytokines, growth factors, MMPs, TIMPs), for the
  keratinocyte mass (viable-epidermis thickness), capillaries and melanin.
  Absolute wound-fluid concentrations (pg/mL) are known only for a few factors
  and transfer poorly between wounds, so amplitudes are not carried in ng/mL.
* ``resident macrophage density``: immune cells counted in units of the resident
  (repair-phenotype) macrophage density of healthy skin, so
  ``macrophages_repair`` is 1 at rest and neutrophils and inflammatory
  macrophages are 0.
* ``young-adult fibroblast density``: fibroblasts and myofibroblasts in units of
  the dermal fibroblast density at 18-29 years (Varani 2006), so an older
  patient rests below 1.
* ``young-adult dermal collagen`` / ``young-adult elastic material``: matrix
  masses as fractions of the young-adult dermal content (collagen I 80 %, III
  15 % at rest; the other 5 % are other collagen types, not modelled).
* ``index``: dimensionless wound indices that are 0 in unwounded skin (damage,
  clot, pigment response); ``area fraction``: fraction of the skin surface.

A species that does not exist in a layer (fibroblasts in the epidermis,
keratinocytes in the dermis, anything living in the dead stratum corneum) has
value 0 there and a zero rate; :data:`PRESENCE` records which entries are live.
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from ..anatomy import LAYER_NAMES, Layer

SC, VE, PD, RD, HD = (
    Layer.stratum_corneum,
    Layer.viable_epidermis,
    Layer.papillary_dermis,
    Layer.reticular_dermis,
    Layer.hypodermis,
)
_LIVING = (VE, PD, RD, HD)
_CONNECTIVE = (PD, RD, HD)


class SpeciesInfo(NamedTuple):
    """One state variable: name, unit, meaning, the layers it lives in, whether it diffuses."""

    name: str
    unit: str
    description: str
    layers: tuple[Layer, ...]
    diffusible: bool = False


_FOLD = "fold of healthy baseline"
_IMMUNE = "resident macrophage density"
_FIB = "young-adult fibroblast density"
_COL = "young-adult dermal collagen"
_ELA = "young-adult elastic material"

SPECIES: tuple[SpeciesInfo, ...] = (
    SpeciesInfo(
        "damage", "index", "injured volume fraction x wound-signalling amplification", _LIVING
    ),
    SpeciesInfo(
        "clot",
        "index",
        "platelet/fibrin clot from cut capillaries (bleeding x volume)",
        _CONNECTIVE,
    ),
    SpeciesInfo("neutrophils", _IMMUNE, "neutrophil density", _LIVING),
    SpeciesInfo(
        "macrophages_inflammatory", _IMMUNE, "pro-inflammatory (M1-like) macrophages", _LIVING
    ),
    SpeciesInfo(
        "macrophages_repair",
        _IMMUNE,
        "repair-phenotype (M2-like) and resident macrophages",
        _LIVING,
    ),
    SpeciesInfo(
        "cytokines", _FOLD, "pro-inflammatory cytokines, IL-1 and TNF lumped", _LIVING, True
    ),
    SpeciesInfo("tgf_beta1", _FOLD, "TGF-beta1", _LIVING, True),
    SpeciesInfo("tgf_beta3", _FOLD, "TGF-beta3", _LIVING, True),
    SpeciesInfo("pdgf", _FOLD, "PDGF", _LIVING, True),
    SpeciesInfo("fgf_kgf", _FOLD, "FGF-2 and KGF (FGF-7) lumped", _LIVING, True),
    SpeciesInfo("vegf", _FOLD, "VEGF", _LIVING, True),
    SpeciesInfo("mmp", _FOLD, "matrix metalloproteinases (total, active + latent)", _LIVING),
    SpeciesInfo("timp", _FOLD, "tissue inhibitors of metalloproteinases", _LIVING),
    SpeciesInfo("fibroblasts", _FIB, "dermal fibroblasts", _CONNECTIVE),
    SpeciesInfo("myofibroblasts", _FIB, "myofibroblasts (activated, synthetic)", _CONNECTIVE),
    SpeciesInfo("collagen_III", _COL, "type III collagen", _CONNECTIVE),
    SpeciesInfo("collagen_I", _COL, "type I collagen", _CONNECTIVE),
    SpeciesInfo("tropoelastin", _ELA, "newly synthesised elastin", _CONNECTIVE),
    SpeciesInfo(
        "elastin_old", _ELA, "mature and elastotic elastic material laid down before", _CONNECTIVE
    ),
    SpeciesInfo("keratinocytes", _FOLD, "keratinocyte mass = viable-epidermis thickness", (VE,)),
    SpeciesInfo("open_channels", "area fraction", "skin surface in open needle channels", (SC, VE)),
    SpeciesInfo("capillaries", _FOLD, "capillary density", _CONNECTIVE),
    SpeciesInfo("melanin", _FOLD, "epidermal melanin", (VE,)),
    SpeciesInfo(
        "pigment_response", "index", "melanogenic response to inflammation (PIH drive)", (VE,)
    ),
)
"""The species of one compartment, in state order."""


class S(IntEnum):
    """Index of each species in the last axis of the state."""

    damage = 0
    clot = 1
    neutrophils = 2
    macrophages_inflammatory = 3
    macrophages_repair = 4
    cytokines = 5
    tgf_beta1 = 6
    tgf_beta3 = 7
    pdgf = 8
    fgf_kgf = 9
    vegf = 10
    mmp = 11
    timp = 12
    fibroblasts = 13
    myofibroblasts = 14
    collagen_III = 15
    collagen_I = 16
    tropoelastin = 17
    elastin_old = 18
    keratinocytes = 19
    open_channels = 20
    capillaries = 21
    melanin = 22
    pigment_response = 23


N_SPECIES = len(SPECIES)
N_LAYERS = len(Layer)
SPECIES_NAMES: tuple[str, ...] = tuple(s.name for s in SPECIES)
SPECIES_UNITS: tuple[str, ...] = tuple(s.unit for s in SPECIES)
LAYERS: tuple[str, ...] = LAYER_NAMES


def _presence() -> NDArray[np.bool_]:
    out = np.zeros((N_LAYERS, N_SPECIES), dtype=bool)
    for i, info in enumerate(SPECIES):
        out[list(info.layers), i] = True
    return out


PRESENCE: NDArray[np.bool_] = _presence()
"""``PRESENCE[layer, species]``: whether the species exists in that layer."""
PRESENCE.setflags(write=False)

DIFFUSIBLE: NDArray[np.bool_] = np.array([s.diffusible for s in SPECIES])
"""Species exchanged between neighbouring layers (the soluble mediators)."""
DIFFUSIBLE.setflags(write=False)


def index(name: str) -> int:
    """Index of a species by name; raises ``KeyError`` naming the known species."""
    try:
        return SPECIES_NAMES.index(name)
    except ValueError:
        raise KeyError(f"unknown species {name!r}; known: {', '.join(SPECIES_NAMES)}") from None


def unit(name: str) -> str:
    """Unit (normalisation) of a species."""
    return SPECIES_UNITS[index(name)]


def _check() -> None:
    if tuple(s.name for s in S) != SPECIES_NAMES:
        raise RuntimeError("S and SPECIES are out of order")


_check()
