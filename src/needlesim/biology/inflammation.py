"""Inflammation: neutrophils, and macrophages with their switch to the repair phenotype.

Immune cells are counted in resident-macrophage units (1 = the resident,
repair-like macrophage density of healthy skin). With ``sD = D / (K_D + D)`` the
saturating damage signal (chemokines from injured cells)::

    dN/dt  = rho_N (sD + c_P P) - (k_N + k_eff (M1 + M2)) N
    dM1/dt = rho_M (N + c_D sD) - (k_sw(T1) + k_M1) M1
    dM2/dt = k_M2 (1 - M2) + k_sw(T1) M1
    k_sw(T1) = k_sw mix(w_sw, T1)

Neutrophils are recruited by damage and by the clot and leave by apoptosis and
efferocytosis; monocytes are recruited by neutrophil-derived signals and become
pro-inflammatory macrophages that switch (faster with TGF-beta1) to the repair
phenotype; repair macrophages relax to the resident density. Efferocytosis and
the IL-4/IL-10 drive of the switch are lumped into ``k_sw`` (the two
phenotypes and the switch between them as in Waugh & Sherratt 2006).
At rest ``D = P = N = M1 = 0`` and ``M2 = 1``: all rates vanish.
"""

from __future__ import annotations

from ._production import mix, saturating
from ._xp import Arr
from .context import Compartments
from .parameters import Parameters
from .state import S


def damage_signal(y: Arr, p: Parameters) -> Arr:
    """``sD = D / (K_D + D)``: chemotactic signal of injured cells, saturating."""
    return saturating(y[..., S.damage], p.damage_half_saturation)


def switch_rate(y: Arr, p: Parameters) -> Arr:
    """``k_sw mix(w_sw, T1)``: M1 -> M2 conversion rate (1/day)."""
    return p.macrophage_switch_rate * mix(p.switch_tgf_share, y[..., S.tgf_beta1])


def neutrophil_rate(y: Arr, p: Parameters, c: Compartments) -> Arr:
    """``dN/dt = rho_N (sD + c_P P) - (k_N + k_eff (M1 + M2)) N``."""
    n = y[..., S.neutrophils]
    recruit = p.neutrophil_recruitment_rate * (
        damage_signal(y, p) + p.clot_chemotaxis_share * y[..., S.clot]
    )
    macrophages = y[..., S.macrophages_inflammatory] + y[..., S.macrophages_repair]
    return recruit - (p.neutrophil_apoptosis_rate + p.efferocytosis_rate * macrophages) * n


def inflammatory_macrophage_rate(y: Arr, p: Parameters, c: Compartments) -> Arr:
    """``dM1/dt = rho_M (N + c_D sD) - (k_sw + k_M1) M1``."""
    m1 = y[..., S.macrophages_inflammatory]
    recruit = p.monocyte_recruitment_rate * (
        y[..., S.neutrophils] + p.monocyte_damage_share * damage_signal(y, p)
    )
    return recruit - (switch_rate(y, p) + p.macrophage_inflammatory_death_rate) * m1


def repair_macrophage_rate(y: Arr, p: Parameters, c: Compartments) -> Arr:
    """``dM2/dt = k_M2 (1 - M2) + k_sw M1``."""
    m2 = y[..., S.macrophages_repair]
    switched = switch_rate(y, p) * y[..., S.macrophages_inflammatory]
    return p.macrophage_repair_turnover_rate * (1.0 - m2) + switched
