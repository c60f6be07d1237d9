"""Pro-inflammatory cytokines: IL-1 and TNF lumped into one fold signal ``C``.

IL-1alpha/beta and TNF-alpha come from the same sources (injured keratinocytes,
neutrophils, inflammatory macrophages), act on the same targets here (MMP and
KGF induction) and have half-lives of hours, so one species carries them::

    dC/dt = k_C (1 + a_D D + a_N N + a_M M1 - C)

(1 = constitutive production of healthy skin, which the fold normalisation makes
exactly 1 at rest.) ``C`` is also exchanged between neighbouring layers
(:mod:`needlesim.geometry.exchange`).
"""

from __future__ import annotations

from ._production import relax
from ._xp import Arr
from .context import Compartments
from .parameters import Parameters
from .state import S


def cytokine_production(y: Arr, p: Parameters) -> Arr:
    """``1 + a_D D + a_N N + a_M M1`` (fold of the healthy production)."""
    return (
        1.0
        + p.cytokine_from_damage * y[..., S.damage]
        + p.cytokine_from_neutrophils * y[..., S.neutrophils]
        + p.cytokine_from_macrophages * y[..., S.macrophages_inflammatory]
    )


def cytokine_rate(y: Arr, p: Parameters, c: Compartments) -> Arr:
    """``dC/dt = k_C (production - C)``."""
    return relax(p.cytokine_decay_rate, cytokine_production(y, p), y[..., S.cytokines])
