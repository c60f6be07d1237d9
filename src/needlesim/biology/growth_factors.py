"""Growth factors: TGF-beta1, TGF-beta3, PDGF, FGF/KGF and VEGF, as fold signals.

Each factor ``G`` turns over towards its production ``P_G`` (1 at rest)::

    dG/dt = k_G (P_G - G)

    P_T1   = mix(s_T1M, M2) + a_T1P P                       (repair macrophages, platelets)
    P_T3   = (1 - s_T3M - s_T3R) + s_T3M M2 + s_T3R R        (macrophages, resident cells)
    P_PDGF = mix(s_PM, M2) + a_PM1 M1 + a_PP P              (macrophages, platelets)
    P_FGF  = (1 - s_FR) + s_FR R mix(w_FC, C) + a_FD D      (IL-1-induced KGF; injured cells)
    P_VEGF = mix(s_VM, M2) + a_VM1 M1                       (macrophages)

``R`` is the resident producer of the layer: keratinocytes in the viable
epidermis, fibroblasts (over their rest density) in the dermis and hypodermis.
The network follows the wound-healing models of Menon et al. 2012 (TGF-beta,
PDGF, IL-1 and KGF between keratinocytes and fibroblasts) and Cumming et al.
2010 (macrophages as the TGF-beta source). The shares and rates are fitted
to the order of the wound-fluid peaks (FGF day 1, PDGF day 3, TGF-beta day 7,
porcine wound fluid 1997), to VEGF rising through day 7 (Nissen 1998) and to
TGF-beta3 raised for two weeks (Aust 2010).

Fibroblasts do not produce the mitogens they respond to (PDGF, TGF-beta1) in
this model: with the slow rest turnover of dermal fibroblasts such an autocrine
loop makes the unwounded steady state unstable (see the docstring of
:mod:`fibroblasts`).
"""

from __future__ import annotations

from ._production import mix, relax
from ._xp import Arr
from .context import Compartments, resident
from .parameters import Parameters
from .state import S


def tgf_beta1_rate(y: Arr, p: Parameters, c: Compartments) -> Arr:
    """``dT1/dt = k_T1 (mix(s_T1M, M2) + a_T1P P - T1)``."""
    production = (
        mix(p.tgf_beta1_macrophage_share, y[..., S.macrophages_repair])
        + p.tgf_beta1_from_clot * y[..., S.clot]
    )
    return relax(p.tgf_beta1_decay_rate, production, y[..., S.tgf_beta1])


def tgf_beta3_rate(y: Arr, p: Parameters, c: Compartments) -> Arr:
    """``dT3/dt = k_T3 ((1 - s_T3M - s_T3R) + s_T3M M2 + s_T3R R - T3)``."""
    s_m, s_r = p.tgf_beta3_macrophage_share, p.tgf_beta3_resident_share
    production = (1.0 - s_m - s_r) + s_m * y[..., S.macrophages_repair] + s_r * resident(y, c)
    return relax(p.tgf_beta3_decay_rate, production, y[..., S.tgf_beta3])


def pdgf_rate(y: Arr, p: Parameters, c: Compartments) -> Arr:
    """``dPDGF/dt = k_PDGF (mix(s_PM, M2) + a_PM1 M1 + a_PP P - PDGF)``."""
    production = (
        mix(p.pdgf_macrophage_share, y[..., S.macrophages_repair])
        + p.pdgf_from_inflammatory_macrophages * y[..., S.macrophages_inflammatory]
        + p.pdgf_from_clot * y[..., S.clot]
    )
    return relax(p.pdgf_decay_rate, production, y[..., S.pdgf])


def fgf_rate(y: Arr, p: Parameters, c: Compartments) -> Arr:
    """``dFGF/dt = k_FGF ((1 - s_FR) + s_FR R mix(w_FC, C) + a_FD D - FGF)``."""
    induced = resident(y, c) * mix(p.fgf_cytokine_share, y[..., S.cytokines])
    production = (
        (1.0 - p.fgf_resident_share)
        + p.fgf_resident_share * induced
        + p.fgf_from_damage * y[..., S.damage]
    )
    return relax(p.fgf_decay_rate, production, y[..., S.fgf_kgf])


def vegf_rate(y: Arr, p: Parameters, c: Compartments) -> Arr:
    """``dVEGF/dt = k_VEGF (mix(s_VM, M2) + a_VM1 M1 - VEGF)``."""
    production = (
        mix(p.vegf_macrophage_share, y[..., S.macrophages_repair])
        + p.vegf_from_inflammatory_macrophages * y[..., S.macrophages_inflammatory]
    )
    return relax(p.vegf_decay_rate, production, y[..., S.vegf])
