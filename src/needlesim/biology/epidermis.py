"""Epidermis: keratinocyte turnover (viable-epidermis thickness) and channel closure.

``E`` is the keratinocyte mass of the viable epidermis (fold of rest, i.e. its
thickness); ``O`` the skin surface in open channels (area fraction), tracked in
the stratum corneum (barrier) and in the viable epidermis (epithelium)::

    dE/dt = tau r_E E (mix(w_K, FGF) + w_A (E - 1) - E)
          = tau r_E E (w_K (FGF - 1) - (1 - w_A)(E - 1))
    dO/dt = -k_barrier O                                  (stratum corneum)
    dO/dt = -tau k_close O                                (viable epidermis)

Keratinocytes proliferate towards a capacity set by KGF/FGF (the dermal
fibroblast -> KGF -> keratinocyte paracrine loop of Menon et al. 2012) and are shed at the turnover
rate ``r_E``, so a sustained rise of dermal KGF thickens the epidermis (Aust
2008: stratum spinosum +40 % at one year). The keratinocytes' own
EGF-receptor ligands (TGF-alpha, amphiregulin, HB-EGF; Coffey et al. 1987)
add an autocrine share ``w_A`` to the capacity: a thickened epidermis keeps
itself thick and relaxes at ``tau r_E (1 - w_A)``, so the epidermis stays
thicker for a year after a course (Aust 2008) while the dermal fibroblasts are
back near rest within months. ``w_A < 1`` keeps the rest state stable and the
response bounded: ``E - 1 -> w_K (FGF - 1) / (1 - w_A)``. Channels close by keratinocyte
migration, faster with KGF/FGF; the barrier of the horny layer is plugged
within hours (Gupta 2011: 2 h; Kalluri 2011: TEWL back in 4-5 h), the
epithelium in 12-18 h (Kalluri 2011) to 48 h (3D models, Wessollek 2023).
``tau`` is the ageing factor of epidermal turnover.
"""

from __future__ import annotations

from ._production import mix
from ._xp import Arr
from .context import Compartments
from .parameters import Parameters
from .state import S


def keratinocyte_rate(y: Arr, p: Parameters, c: Compartments) -> Arr:
    """``dE/dt = tau r_E E (mix(w_K, FGF) + w_A (E - 1) - E)``."""
    e = y[..., S.keratinocytes]
    paracrine = mix(p.keratinocyte_fgf_share, y[..., S.fgf_kgf])
    capacity = paracrine + p.keratinocyte_autocrine_share * (e - 1.0)
    return c.turnover * p.keratinocyte_turnover_rate * e * (capacity - e)


def open_channel_rate(y: Arr, p: Parameters, c: Compartments) -> Arr:
    """Barrier plug (stratum corneum) or re-epithelialisation (viable epidermis)."""
    epithelial = c.turnover * p.channel_closure_rate
    rate = c.is_horny * p.barrier_recovery_rate + (1.0 - c.is_horny) * epithelial
    return -rate * y[..., S.open_channels]
