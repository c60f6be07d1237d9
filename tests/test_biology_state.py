"""State layout: one ordered list of species, units, and where each lives."""

from __future__ import annotations

import numpy as np
import pytest

from needlesim.anatomy import LAYER_NAMES, Layer
from needlesim.biology import (
    DIFFUSIBLE,
    LAYERS,
    N_LAYERS,
    N_SPECIES,
    PRESENCE,
    SPECIES,
    SPECIES_NAMES,
    SPECIES_UNITS,
    S,
    index,
    unit,
)

REQUIRED = {
    "damage", "clot", "neutrophils", "macrophages_inflammatory", "macrophages_repair",
    "cytokines", "tgf_beta1", "tgf_beta3", "pdgf", "fgf_kgf", "vegf", "mmp", "timp",
    "fibroblasts", "myofibroblasts", "collagen_III", "collagen_I", "tropoelastin",
    "elastin_old", "keratinocytes", "open_channels", "capillaries", "melanin",
    "pigment_response",
}  # fmt: skip


def test_species_cover_the_cascade_once_each() -> None:
    assert set(SPECIES_NAMES) == REQUIRED
    assert len(SPECIES_NAMES) == len(set(SPECIES_NAMES)) == N_SPECIES
    assert tuple(s.name for s in S) == SPECIES_NAMES
    assert all(SPECIES_UNITS) and all(s.description for s in SPECIES)


def test_index_and_unit_helpers() -> None:
    for i, name in enumerate(SPECIES_NAMES):
        assert index(name) == i == S[name]
        assert unit(name) == SPECIES_UNITS[i]
    with pytest.raises(KeyError, match="collagen_I"):
        index("collagen_iv")


def test_presence_follows_anatomy() -> None:
    assert PRESENCE.shape == (N_LAYERS, N_SPECIES) and LAYERS == LAYER_NAMES
    sc, ve = Layer.stratum_corneum, Layer.viable_epidermis
    assert set(np.array(SPECIES_NAMES)[PRESENCE[sc]]) == {"open_channels"}
    assert PRESENCE[ve, S.keratinocytes] and not PRESENCE[Layer.papillary_dermis, S.keratinocytes]
    assert not PRESENCE[ve, S.fibroblasts] and not PRESENCE[ve, S.capillaries]
    for layer in (Layer.papillary_dermis, Layer.reticular_dermis, Layer.hypodermis):
        assert PRESENCE[layer, S.collagen_I] and PRESENCE[layer, S.clot]


def test_only_soluble_mediators_diffuse() -> None:
    diffusing = set(np.array(SPECIES_NAMES)[DIFFUSIBLE])
    assert diffusing == {"cytokines", "tgf_beta1", "tgf_beta3", "pdgf", "fgf_kgf", "vegf"}
    with pytest.raises(ValueError):
        PRESENCE[0, 0] = False
