"""Ageing: fewer fibroblasts, less collagen, a weaker and slower response.

Linear in age ``a`` from the young-adult reference ``a_ref`` (floored at 5 %)::

    f_F(a) = 1 + beta_F (a - a_ref)     rest fibroblast density (Varani 2006:
                                        -35 % at 80+ against 18-29 years)
    c(a)   = 1 + beta_C (a - a_ref)     rest collagen (collagen score 73.3 at
                                        25-34 y, 55.3 at 65-74 y; Sibilla via
                                        Reilly & Lozano 2021)
    g(a)   = 1 + beta_g (a - a_ref)     responsiveness of fibroblast proliferation
    tau(a) = 1 + beta_t (a - a_ref)     epidermal and melanin turnover speed

The slow drift of these values during a course (under 1 % a year) is not
modelled: age is fixed at its value on the first session.
"""

from __future__ import annotations

from typing import NamedTuple

from ._xp import Arr, maximum
from .parameters import Parameters

_FLOOR = 0.05


class AgeingFactors(NamedTuple):
    """Multipliers at a given age, all 1 at the reference age."""

    fibroblasts: Arr
    collagen: Arr
    response: Arr
    turnover: Arr


def ageing_factors(age_years: Arr, p: Parameters) -> AgeingFactors:
    """The four ageing multipliers of :class:`AgeingFactors` at ``age_years``."""
    years = age_years - p.ageing_reference_age_years

    def line(slope: Arr) -> Arr:
        return maximum(1.0 + slope * years, _FLOOR)

    return AgeingFactors(
        fibroblasts=line(p.fibroblast_ageing_slope),
        collagen=line(p.collagen_ageing_slope),
        response=line(p.response_ageing_slope),
        turnover=line(p.turnover_ageing_slope),
    )
