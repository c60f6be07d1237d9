"""Perfusion: capillary density, cut by the needles and regrown by VEGF.

Fold of the rest density::

    dCap/dt = r_c Cap (mix(w_V, VEGF) - Cap)

Angiogenesis raises the density towards a VEGF-set capacity and regression
brings it back; the session cuts the capillaries inside the injured volume
(:mod:`needlesim.biology.injury`). Proportional to ``Cap``, so zero is
invariant.
"""

from __future__ import annotations

from ._production import mix
from ._xp import Arr
from .context import Compartments
from .parameters import Parameters
from .state import S


def capillary_rate(y: Arr, p: Parameters, c: Compartments) -> Arr:
    """``dCap/dt = r_c Cap (mix(w_V, VEGF) - Cap)``."""
    cap = y[..., S.capillaries]
    return p.angiogenesis_rate * cap * (mix(p.capillary_vegf_share, y[..., S.vegf]) - cap)
