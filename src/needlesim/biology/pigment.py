"""Pigment: melanin and the melanogenic response to inflammation (PIH).

Inflammatory cells in the epidermis (neutrophils, inflammatory macrophages)
release mediators (prostaglandins, leukotrienes, IL-1) that drive melanocytes;
how strongly depends on the constitutive pigmentation, i.e. the Fitzpatrick
type ``f``. With ``Pg`` the pigment response (0 at rest) and ``Mel`` melanin
(fold of rest)::

    dPg/dt  = rho_pg s(f) (N + M1) - k_pg Pg
    dMel/dt = tau k_mel (1 + a_mel Pg - E Mel)
    s(f)    = f^n / (f^n + f_50^n)

Melanin per skin area is made by the melanocytes (``1 + a_mel Pg``: their rest
output, raised by the pigment response) and leaves with the keratinocytes that
carry it (``k_mel`` close to the epidermal turnover). The shedding is the
keratinocytes' own: with the viable epidermis ``E`` (fold of rest, see
:mod:`.epidermis`) shed at ``tau r_E E^2`` per area, the share of the
epidermal mass shed per day, and with it of the melanin it holds, is
``tau r_E E``, so melanin is cleared at ``tau k_mel E Mel``. Without a
pigment response the melanin settles at ``Mel = 1 / E``: the same melanocyte
output spread over a faster-renewing epidermis. After needling the epidermis
is thicker for a year (Aust 2008: +40 %), so the mean melanin of a course
falls unless the inflammatory pigment response outweighs it: the direction
reported after needling (Al Qarqaz 2018: pigmentation index improved in types
III-V; Lima 2017: lightness +13 % in melasma; Budamakuntla 2013: needling
added to tranexamic acid, mMASI -44 % against -36 %). At rest ``E = 1`` and
the rate is the previous ``tau k_mel (1 + a_mel Pg - Mel)``.

Darker skin is a risk factor for post-inflammatory hyperpigmentation after
microneedling (Chu 2021), but at standard protocols PIH is uncommon even in
types IV-VI (Fabbrocini 2014: none in a type VI group; Alster & Li 2020: none
persistent in types I-VI; Al Qarqaz 2018: none in III-V; Chawla 2014: 1 of 30)
and absent in types I-II (Cachafeiro 2016: 0 %; Fabbrocini 2009: none), while 7
of 32 had PIH after needling striae (Arch Dermatol Res 2023, types II-V).
``s(f)`` is a steep Hill function, half-maximal below type 3: near zero in
types I-II, of the same order in types III-VI, so that a standard course stays
under a quarter of patients in types V-VI. The individual melanocyte reactivity
(lognormal) is part of the PIH observation model (``outcomes.yaml``:
``pih_log_sd``).
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
    """``dMel/dt = tau k_mel (1 + a_mel Pg - E Mel)``: melanocyte output, keratinocyte shedding."""
    production = 1.0 + p.melanin_pigment_gain * y[..., S.pigment_response]
    shedding = y[..., S.keratinocytes] * y[..., S.melanin]
    return c.turnover * p.melanin_turnover_rate * (production - shedding)
