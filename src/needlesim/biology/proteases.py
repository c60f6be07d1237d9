"""Matrix metalloproteinases and their inhibition by TIMPs.

Total MMP (collagenases, gelatinases, elastolytic MMPs lumped) and TIMP are fold
signals turning over towards their productions::

    P_MMP  = (1 - s_MR) + s_MR R mix(w_MC, C) + a_MN N + a_MM1 M1 + a_MO O
    P_TIMP = (1 - s_TR) + s_TR R mix(w_TT, T1)

(resident cells induced by IL-1/TNF; neutrophil MMP-8/-9; macrophages; migrating
keratinocytes at open channels, MMP-1. TGF-beta1 induces TIMP-1.) TIMP binds
active MMP 1:1 with nM affinity within seconds, so the complex is at equilibrium
on the time scale of days and the active fraction is lumped as::

    A = MMP (1 + kappa) / (1 + kappa TIMP)

which is 1 at rest; ``kappa`` is the inhibited:free ratio of healthy skin.
"""

from __future__ import annotations

from ._production import mix, relax
from ._xp import Arr
from .context import Compartments, resident
from .parameters import Parameters
from .state import S


def active_mmp(y: Arr, p: Parameters) -> Arr:
    """``A = MMP (1 + kappa) / (1 + kappa TIMP)``: active MMP, fold of rest."""
    kappa = p.timp_inhibition
    return y[..., S.mmp] * (1.0 + kappa) / (1.0 + kappa * y[..., S.timp])


def mmp_rate(y: Arr, p: Parameters, c: Compartments) -> Arr:
    """``dMMP/dt = k_MMP (P_MMP - MMP)``."""
    induced = resident(y, c) * mix(p.mmp_cytokine_share, y[..., S.cytokines])
    production = (
        (1.0 - p.mmp_resident_share)
        + p.mmp_resident_share * induced
        + p.mmp_from_neutrophils * y[..., S.neutrophils]
        + p.mmp_from_inflammatory_macrophages * y[..., S.macrophages_inflammatory]
        + p.mmp_from_open_channels * y[..., S.open_channels]
    )
    return relax(p.mmp_decay_rate, production, y[..., S.mmp])


def timp_rate(y: Arr, p: Parameters, c: Compartments) -> Arr:
    """``dTIMP/dt = k_TIMP ((1 - s_TR) + s_TR R mix(w_TT, T1) - TIMP)``."""
    induced = resident(y, c) * mix(p.timp_tgf_share, y[..., S.tgf_beta1])
    production = (1.0 - p.timp_resident_share) + p.timp_resident_share * induced
    return relax(p.timp_decay_rate, production, y[..., S.timp])
