"""Elastin: new tropoelastin and the old (mature and elastotic) elastic material.

Masses in young-adult elastic-material units (rest: tropoelastin ``Te*``, old
material ``Eo* = 1 - Te*``)::

    dTe/dt = s_e (F/F*) mix(w_e, T1) - (k_te A + k_em) Te
    dEo/dt = k_em Te - (k_eo A + k_eN N) Eo

Fibroblasts make tropoelastin (TGF-beta1 raises it); what is not cross-linked
into fibres is degraded within weeks (``k_te``), the rest matures slowly into the
fibre pool (``k_em``). The old material, including the elastotic material of
photo-aged skin, turns over over decades (``k_eo``) but is digested by the
elastolytic MMPs (``A``) and by neutrophil elastase (``k_eN N``) after an injury:
the MMP burst that El-Domyati 2015 describe as clearing elastotic material.
Steady state: ``k_em = k_eo Eo*/Te*`` and ``s_e = (k_te + k_em) Te*``.
"""

from __future__ import annotations

from ._production import mix
from ._xp import Arr
from .context import Compartments
from .parameters import Parameters
from .proteases import active_mmp
from .state import S


def tropoelastin_rate(y: Arr, p: Parameters, c: Compartments) -> Arr:
    """``dTe/dt = s_e (F/F*) mix(w_e, T1) - (k_te A + k_em) Te``."""
    fib = y[..., S.fibroblasts] * c.inv_fibroblasts0
    synthesis = c.tropoelastin_synthesis * fib * mix(p.tropoelastin_tgf_share, y[..., S.tgf_beta1])
    loss = p.tropoelastin_turnover_rate * active_mmp(y, p) + c.elastin_maturation_rate
    return synthesis - loss * y[..., S.tropoelastin]


def elastin_old_rate(y: Arr, p: Parameters, c: Compartments) -> Arr:
    """``dEo/dt = k_em Te - (k_eo A + k_eN N) Eo``."""
    matured = c.elastin_maturation_rate * y[..., S.tropoelastin]
    loss = (
        p.elastin_turnover_rate * active_mmp(y, p)
        + p.neutrophil_elastase_rate * y[..., S.neutrophils]
    )
    return matured - loss * y[..., S.elastin_old]
