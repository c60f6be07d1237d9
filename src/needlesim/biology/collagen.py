"""Collagen: type III laid down first and matured into type I; turnover by MMPs.

Masses in young-adult dermal collagen units (rest: ``I* = 0.80 c(age)``,
``III* = 0.15 c(age)``, calibration.yaml ``collagen.type_ratio`` and
``ageing.collagen_score_by_age``)::

    dIII/dt = s_3 mix(w_3, PDGF) - k_III mix(w_A, A) III - k_mat r(u) III
    dI/dt   = s_1 Q mix(w_1, T1) + k_mat r(u) III - k_I A I

    Q    = (F + mu Mf) / (F* + mu Mf*)   synthetic capacity (myofibroblasts make mu x more)
    A    = active MMP (fold, :func:`needlesim.biology.proteases.active_mmp`)
    u    = x / x* - 1, x = Mf / (F + Mf)  excess myofibroblast fraction (0 at rest, >= -1)
    r(u) = u^2 / (1 + |u|)               remodelling activity: 0 at rest, ~|u| when large

Type III is the collagen of the early, PDGF-driven repair matrix (30 % of new
wound collagen against 15 % at rest): its synthesis follows PDGF, not the
fibroblast count, because the fibroblasts of the later remodelling phase make
type I (type I is again the main type by week 2, calibration.yaml
``collagen.type_ratio``). Type I follows the TGF-beta1-driven,
myofibroblast-rich remodelling and turns over with the 15-year half-life of
skin collagen (Verzijl 2000).

Maturation: while the wound is remodelled by an excess of myofibroblasts
(``u > 0``: a raised myofibroblast *fraction*, which follows TGF-beta1 over
weeks, not the fibroblast count, which stays up for months), type III is
converted into type I (lumping lysyl-oxidase cross-linking and the replacement
of type III-rich by type I-rich fibrils; the mass is carried over, so it does
not change total collagen). At rest there is no maturation flux (``r(0) = 0``,
and ``r`` is quadratic near rest so a slight myofibroblast excess barely
matters); type III then turns over by degradation at ``k_III``, a share
``w_A`` of it by active MMPs. ``r`` is twice continuously differentiable.

Steady state fixes the synthesis rates: ``s_3 = k_III III*``, ``s_1 = k_I I*``.
"""

from __future__ import annotations

from ._production import mix
from ._xp import Arr, namespace
from .context import Compartments
from .parameters import Parameters
from .proteases import active_mmp
from .state import S

_TINY = 1e-30


def synthetic_capacity(y: Arr, p: Parameters, c: Compartments) -> Arr:
    """``Q = (F + mu Mf) / (F* + mu Mf*)``: 1 at rest."""
    mu = p.myofibroblast_synthesis_ratio
    return (y[..., S.fibroblasts] + mu * y[..., S.myofibroblasts]) * c.inv_synthetic_capacity0


def remodelling_activity(y: Arr, c: Compartments) -> Arr:
    """``r(u) = u^2 / (1 + |u|)``, ``u = x/x* - 1``, ``x = Mf/(F + Mf)``; 0 outside the dermis.

    ``x`` is bounded (0..1) and defined when fibroblasts are gone (a tiny constant
    keeps ``0/0`` away), so ``u`` stays finite for any non-negative state.
    """
    mf = y[..., S.myofibroblasts]
    fraction = mf / (y[..., S.fibroblasts] + mf + _TINY)
    u = (fraction * c.inv_myofibroblast_fraction0 - 1.0) * c.is_connective
    return u * u / (1.0 + namespace(u).abs(u))


def maturation_flux(y: Arr, p: Parameters, c: Compartments) -> Arr:
    """``k_mat r(u) III``: type III converted into type I (per day)."""
    return p.collagen_maturation_rate * remodelling_activity(y, c) * y[..., S.collagen_III]


def collagen_III_rate(y: Arr, p: Parameters, c: Compartments) -> Arr:
    """``dIII/dt = s_3 mix(w_3, PDGF) - k_III mix(w_A, A) III - k_mat r(u) III``."""
    synthesis = c.collagen_III_synthesis * mix(p.collagen_III_pdgf_share, y[..., S.pdgf])
    degradation = (
        p.collagen_III_turnover_rate
        * mix(p.collagen_III_mmp_share, active_mmp(y, p))
        * y[..., S.collagen_III]
    )
    return synthesis - degradation - maturation_flux(y, p, c)


def collagen_I_rate(y: Arr, p: Parameters, c: Compartments) -> Arr:
    """``dI/dt = s_1 Q mix(w_1, T1) + k_mat r(u) III - k_I A I``."""
    synthesis = (
        c.collagen_I_synthesis
        * synthetic_capacity(y, p, c)
        * mix(p.collagen_I_tgf_share, y[..., S.tgf_beta1])
    )
    degraded = p.collagen_I_degradation_rate * active_mmp(y, p) * y[..., S.collagen_I]
    return synthesis + maturation_flux(y, p, c) - degraded
