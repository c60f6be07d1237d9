"""Hemostasis: tissue damage and the platelet/fibrin clot where capillaries were cut.

``damage`` ``D`` lumps the damage-associated signals of injured cells (DAMPs,
ATP, H2O2, released IL-1alpha): it is set by the injury (see
:mod:`needlesim.biology.injury`) and cleared by spontaneous decay and by
phagocytes::

    dD/dt = -(k_D + k_phago (N + M1)) D

``clot`` ``P`` lumps platelets and fibrin in the channels that bled; platelets
degranulate within minutes (their PDGF/TGF-beta release is the ``clot`` source
terms of :mod:`growth_factors`) and the fibrin plug is lysed::

    dP/dt = -k_lysis P

Both are 0 in unwounded skin, and both losses are proportional to the state, so
they stay non-negative. Lumping platelets with fibrin is fine here because the
platelet release happens within the first hour, far below the resolution of
interest (days), and the clot's only roles are that release and neutrophil
chemotaxis while it lasts.
"""

from __future__ import annotations

from ._xp import Arr
from .context import Compartments
from .parameters import Parameters
from .state import S


def damage_rate(y: Arr, p: Parameters, c: Compartments) -> Arr:
    """``dD/dt = -(k_D + k_phago (N + M1)) D``."""
    phagocytes = y[..., S.neutrophils] + y[..., S.macrophages_inflammatory]
    clearance = p.damage_clearance_rate + p.damage_phagocytosis_rate * phagocytes
    return -clearance * y[..., S.damage]


def clot_rate(y: Arr, p: Parameters, c: Compartments) -> Arr:
    """``dP/dt = -k_lysis P``."""
    return -p.clot_lysis_rate * y[..., S.clot]
