"""Pigment: melanin and the melanogenic response to inflammation (PIH).

Inflammatory cells in the epidermis (neutrophils, inflammatory macrophages)
release mediators (prostaglandins, leukotrienes, IL-1) that drive melanocytes;
how strongly depends on the constitutive pigmentation, i.e. the Fitzpatrick
type ``f``. With ``Pg`` the pigment response (0 at rest) and ``Mel`` melanin
(fold of rest)::

    dPg/dt  = rho_pg s(f) (N + M1) - k_pg Pg
    dMel/dt = tau k_mel (1 + a_mel Pg - Mel)
    s(f)    = f^n / (f^n + f_50^n)

Melanin is cleared with the keratinocytes that carry it (``k_mel`` close to the
epidermal turnover). Darker skin is the main risk factor for post-inflammatory
hyperpigmentation after microneedling (Chu 2021); in types I-III it is close to
absent (Cachafeiro 2016: 0 %; Fabbrocini 2009: none). ``s(f)`` is a steep Hill
function whose midpoint and steepness are fitted to that contrast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._xp import Arr
from .parameters import Parameters
from .state import S

if TYPE_CHECKING:
    from .context import Compartments


def pigment_susceptibility(fitzpatrick: Arr, p: Parameters) -> Arr:
    """``s(f) = f^n / (f^n + f_50^n)`` for Fitzpatrick type ``f`` (1-6)."""
    fn = fitzpatrick**p.pigment_fitzpatrick_hill
    return fn / (fn + p.pigment_fitzpatrick_half**p.pigment_fitzpatrick_hill)


def pigment_response_rate(y: Arr, p: Parameters, c: Compartments) -> Arr:
    """``dPg/dt = rho_pg s(f) (N + M1) - k_pg Pg``."""
    inflammation = y[..., S.neutrophils] + y[..., S.macrophages_inflammatory]
    return (
        p.pigment_induction_rate * c.susceptibility * inflammation
        - p.pigment_decay_rate * y[..., S.pigment_response]
    )


def melanin_rate(y: Arr, p: Parameters, c: Compartments) -> Arr:
    """``dMel/dt = tau k_mel (1 + a_mel Pg - Mel)``."""
    target = 1.0 + p.melanin_pigment_gain * y[..., S.pigment_response]
    return c.turnover * p.melanin_turnover_rate * (target - y[..., S.melanin])
