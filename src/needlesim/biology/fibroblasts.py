"""Fibroblasts and myofibroblasts: proliferation, crowding, activation.

Densities in young-adult fibroblast units; ``F*`` is the patient's rest density
(lower with age, Varani 2006) and ``K`` the rest carrying capacity derived from
the steady state (see :func:`needlesim.biology.context.compartments`)::

    dF/dt  = F [ r_0 (1 - F/K) + g r_s tanh(m) (1 - F/(f_max F*)) - a(T1, T3) ]
    dMf/dt = a(T1, T3) F - k_Mf Mf

    m        = w_P (PDGF - 1) + w_T (T1 - 1)            mitogenic drive, 0 at rest
    a(T1,T3) = k_FM h(T1)^g / mix(w_3, T3)               activation to myofibroblasts
    h(T)     = T^n (1 + K_h^n) / (K_h^n + T^n)           h(1) = 1
    k_FM     = m_0 k_Mf                                  so that Mf* = m_0 F*

``r_0`` is the slow rest turnover (months), ``r_s`` the wound proliferation
rate (a day or two per doubling), saturated by ``tanh`` and by crowding at
``f_max F*``; ``g`` is the responsiveness: the ageing factor (fewer, less
responsive fibroblasts in old skin) times the patient's individual
``wound_response_capacity`` (lognormal between patients,
``data/variability.yaml``): it scales the wound proliferation and, as an
exponent, the activation (``h^g`` is still 1 at rest). Migration into the
injured volume is lumped with proliferation: a compartment is well mixed, so
both only raise the density of the layer. Every term of ``dF/dt`` is proportional to ``F`` and the
myofibroblast loss to ``Mf``, so zero is invariant.

The rest state is stable because the mitogens here come from macrophages and
platelets, not from fibroblasts: with ``r_s >> r_0`` any fibroblast-made
mitogen would close a positive loop of gain ``r_s w s / r_0 > 1``.
"""

from __future__ import annotations

from ._production import mix
from ._xp import Arr, maximum, tanh
from .context import Compartments
from .parameters import Parameters
from .state import S


def activation_hill(t1: Arr, p: Parameters) -> Arr:
    """``h(T1) = T1^n (1 + K^n) / (K^n + T1^n)``, 1 at rest."""
    n, k = p.myofibroblast_tgf_hill_exponent, p.myofibroblast_tgf_half_activation
    tn = maximum(t1, 0.0) ** n
    kn = k**n
    return tn * (1.0 + kn) / (kn + tn)


def activation_rate(y: Arr, p: Parameters, c: Compartments) -> Arr:
    """``a = k_FM h(T1)^g / mix(w_3, T3)`` (1/day), TGF-beta3 restraining the switch."""
    k_fm = p.myofibroblast_baseline_fraction * p.myofibroblast_apoptosis_rate
    restraint = mix(p.myofibroblast_tgf_beta3_inhibition, y[..., S.tgf_beta3])
    return k_fm * activation_hill(y[..., S.tgf_beta1], p) ** c.response / restraint


def mitogenic_drive(y: Arr, p: Parameters) -> Arr:
    """``m = w_P (PDGF - 1) + w_T (T1 - 1)``: 0 at rest."""
    return p.fibroblast_pdgf_weight * (y[..., S.pdgf] - 1.0) + p.fibroblast_tgf_weight * (
        y[..., S.tgf_beta1] - 1.0
    )


def fibroblast_rate(y: Arr, p: Parameters, c: Compartments) -> Arr:
    """``dF/dt = F [r_0 (1 - F/K) + g r_s tanh(m) (1 - F/(f_max F*)) - a]``."""
    f = y[..., S.fibroblasts]
    rest = p.fibroblast_turnover_rate * (1.0 - f * c.inv_fibroblast_capacity)
    crowding = 1.0 - f * c.inv_fibroblasts0 / p.fibroblast_crowding_capacity
    wound = c.response * p.fibroblast_max_proliferation_rate * tanh(mitogenic_drive(y, p))
    return f * (rest + wound * crowding - activation_rate(y, p, c))


def myofibroblast_rate(y: Arr, p: Parameters, c: Compartments) -> Arr:
    """``dMf/dt = a F - k_Mf Mf``."""
    return (
        activation_rate(y, p, c) * y[..., S.fibroblasts]
        - p.myofibroblast_apoptosis_rate * y[..., S.myofibroblasts]
    )
