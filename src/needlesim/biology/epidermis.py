"""Epidermis: keratinocyte turnover (viable-epidermis thickness) and channel closure.

``E`` is the keratinocyte mass of the viable epidermis (fold of rest, i.e. its
thickness); ``O`` the skin surface in open channels (area fraction), tracked in
the stratum corneum (barrier) and in the viable epidermis (epithelium)::

    dE/dt = tau r_E E (min(mix(w_K, FGF) + w_A (E - 1), E_max) - E)
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

The capacity is capped at :data:`KERATINOCYTE_CAPACITY_MAX`. Without a cap the
paracrine loop closes on itself in the viable epidermis, where keratinocytes are
the resident FGF/KGF producer: the loop gain ``s_FR mix(w_FC, C)`` exceeds 1 once
the cytokines pass ~4.75-fold of rest, the capacity then grows in proportion to
``E`` and ``dE/dt ~ E^2`` has a finite-time singularity. Dense, deep courses
(e.g. a 2.5 mm pen, 20 passes, sessions every 1-3 days) keep the cytokines that
high for days and the state blew up within half a day of the second session
(the cause of the "maximum number of solver steps" failures of issue 13). The
cap is ``min``: courses that never reach it are unchanged bit for bit.
"""

from __future__ import annotations

from ._production import mix
from ._xp import Arr, namespace
from .context import Compartments
from .parameters import Parameters
from .state import S

KERATINOCYTE_CAPACITY_MAX = 7.58
"""Upper bound of the keratinocyte capacity (fold of the rest epidermal thickness): the
largest epidermal thickening measured after needling, +658 % after four sessions in rats
(Zeitter et al. 2014, Burns 40:966; ``../shared/data/calibration.yaml``
``histology_after_needling.zeitter_2014_rat``)."""


def keratinocyte_rate(y: Arr, p: Parameters, c: Compartments) -> Arr:
    """``dE/dt = tau r_E E (min(mix(w_K, FGF) + w_A (E - 1), E_max) - E)``."""
    e = y[..., S.keratinocytes]
    xp = namespace(e)
    paracrine = mix(p.keratinocyte_fgf_share, y[..., S.fgf_kgf])
    capacity = xp.minimum(
        paracrine + p.keratinocyte_autocrine_share * (e - 1.0), KERATINOCYTE_CAPACITY_MAX
    )
    return c.turnover * p.keratinocyte_turnover_rate * e * (capacity - e)


def open_channel_rate(y: Arr, p: Parameters, c: Compartments) -> Arr:
    """Barrier plug (stratum corneum) or re-epithelialisation (viable epidermis)."""
    epithelial = c.turnover * p.channel_closure_rate
    rate = c.is_horny * p.barrier_recovery_rate + (1.0 - c.is_horny) * epithelial
    return -rate * y[..., S.open_channels]
