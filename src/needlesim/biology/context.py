"""Patient covariates and the per-compartment context of the kinetics.

The kinetics ``f(y, params, ctx)`` need, besides the state and the parameters,
what is specific to a patient and a layer: which cells live there, the rest
values of the patient (age lowers fibroblasts and collagen), and the rest
synthesis rates that make that rest state exact. :func:`compartments` derives
them once per patient from the steady-state conditions:

* fibroblasts ``F* = f_F(age)``, myofibroblasts ``Mf* = m_0 F*``, and the rest
  capacity ``K = F* / (1 - k_FM / r_0)`` that balances the rest activation
  ``k_FM = m_0 k_Mf`` (``k_FM < r_0`` is required);
* collagen ``III* = 0.15 c(age)``, ``I* = 0.80 c(age)``, with
  ``s_3 = k_III III*`` and ``s_1 = k_I I*`` (no maturation flux at rest);
* elastin ``Te*``, ``Eo* = 1 - Te*``, ``k_em = k_eo Eo*/Te*``,
  ``s_e = (k_te + k_em) Te*``;
* everything else rests at 1 (fold species, repair macrophages) or 0 (wound
  indices, neutrophils, inflammatory macrophages, open channels).

Fields are arrays with a trailing layer axis (5); absent cells have 0 there.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..anatomy import Layer
from ._xp import Arr, namespace
from .ageing import ageing_factors
from .parameters import Parameters
from .pigment import pigment_susceptibility
from .state import N_LAYERS, PRESENCE, SPECIES, S

_CONNECTIVE = PRESENCE[:, S.fibroblasts].astype(np.float64)
_HORNY = np.eye(N_LAYERS)[Layer.stratum_corneum]
_EPITHELIAL = np.eye(N_LAYERS)[Layer.viable_epidermis]
_FOLD_AT_REST = np.array([s.unit.startswith("fold") for s in SPECIES], dtype=np.float64)


class Covariates(NamedTuple):
    """What the kinetics need to know about a patient.

    ``thickness_um``: the 5 layer thicknesses (um), surface first; ``age_years``;
    ``fitzpatrick``: skin type 1-6 (a float, so it can be batched and varied).
    Add leading axes to batch.
    """

    thickness_um: Arr
    age_years: Arr
    fitzpatrick: Arr

    @classmethod
    def of(cls, thickness_um: Arr, age_years: float = 25.0, fitzpatrick: float = 3.0) -> Covariates:
        """Float64 arrays from plain values (a :class:`SkinProfile`'s thickness_um)."""
        xp = namespace(thickness_um)
        return cls(
            xp.asarray(thickness_um, dtype=xp.float64),
            xp.asarray(age_years, dtype=xp.float64),
            xp.asarray(fitzpatrick, dtype=xp.float64),
        )


class Compartments(NamedTuple):
    """Per-layer context of the kinetics (trailing axis: the 5 layers)."""

    is_horny: Arr
    is_epithelial: Arr
    is_connective: Arr
    fibroblasts0: Arr
    myofibroblasts0: Arr
    inv_fibroblasts0: Arr
    inv_myofibroblast_fraction0: Arr
    inv_fibroblast_capacity: Arr
    inv_synthetic_capacity0: Arr
    collagen_III0: Arr
    collagen_I0: Arr
    collagen_III_synthesis: Arr
    collagen_I_synthesis: Arr
    tropoelastin0: Arr
    elastin_old0: Arr
    tropoelastin_synthesis: Arr
    elastin_maturation_rate: Arr
    response: Arr
    turnover: Arr
    susceptibility: Arr


def resident(y: Arr, c: Compartments) -> Arr:
    """``R``: the resident producer of a layer, 1 at rest.

    Keratinocytes in the viable epidermis, fibroblasts over their rest density in
    the dermis and hypodermis, 0 in the stratum corneum.
    """
    return c.is_epithelial * y[..., S.keratinocytes] + y[..., S.fibroblasts] * c.inv_fibroblasts0


def compartments(p: Parameters, cov: Covariates) -> Compartments:
    """Derive the context of the 5 compartments of a patient (see the module docstring)."""
    xp = namespace(p.fibroblast_turnover_rate, cov.age_years)
    conn = xp.asarray(_CONNECTIVE)
    age = ageing_factors(xp.asarray(cov.age_years)[..., None], p)

    f0 = age.fibroblasts * conn
    k_fm = p.myofibroblast_baseline_fraction * p.myofibroblast_apoptosis_rate
    mf0 = p.myofibroblast_baseline_fraction * f0
    inv_f0 = conn / age.fibroblasts
    inv_capacity = inv_f0 * (1.0 - k_fm / p.fibroblast_turnover_rate)
    q_rest = 1.0 + p.myofibroblast_synthesis_ratio * p.myofibroblast_baseline_fraction
    inv_q0 = inv_f0 / q_rest

    col3 = p.collagen_III_baseline_fraction * age.collagen * conn
    col1 = p.collagen_I_baseline_fraction * age.collagen * conn
    s3 = p.collagen_III_turnover_rate * col3
    s1 = p.collagen_I_degradation_rate * col1

    te0 = p.tropoelastin_baseline_fraction * conn
    eo0 = (1.0 - p.tropoelastin_baseline_fraction) * conn
    k_em = (
        p.elastin_turnover_rate
        * (1.0 - p.tropoelastin_baseline_fraction)
        / p.tropoelastin_baseline_fraction
    ) * conn
    s_e = (p.tropoelastin_turnover_rate + k_em) * te0

    ones = xp.ones(N_LAYERS)
    fitz = xp.asarray(cov.fitzpatrick)[..., None]
    return Compartments(
        is_horny=xp.asarray(_HORNY),
        is_epithelial=xp.asarray(_EPITHELIAL),
        is_connective=conn,
        fibroblasts0=f0,
        myofibroblasts0=mf0,
        inv_fibroblasts0=inv_f0,
        inv_myofibroblast_fraction0=conn
        * (1.0 + p.myofibroblast_baseline_fraction)
        / p.myofibroblast_baseline_fraction,
        inv_fibroblast_capacity=inv_capacity,
        inv_synthetic_capacity0=inv_q0,
        collagen_III0=col3,
        collagen_I0=col1,
        collagen_III_synthesis=s3,
        collagen_I_synthesis=s1,
        tropoelastin0=te0,
        elastin_old0=eo0,
        tropoelastin_synthesis=s_e,
        elastin_maturation_rate=k_em,
        response=age.response * p.wound_response_capacity * ones,
        turnover=age.turnover * ones,
        susceptibility=pigment_susceptibility(fitz, p) * ones,
    )


def baseline_state(p: Parameters, cov: Covariates) -> Arr:
    """The unwounded steady state ``y*[..., layer, species]`` of a patient."""
    c = compartments(p, cov)
    xp = namespace(c.fibroblasts0)
    present = xp.asarray(PRESENCE, dtype=xp.float64)
    y = present * xp.asarray(_FOLD_AT_REST)
    columns = {
        S.macrophages_repair: present[:, S.macrophages_repair] * xp.ones_like(c.fibroblasts0),
        S.fibroblasts: c.fibroblasts0,
        S.myofibroblasts: c.myofibroblasts0,
        S.collagen_III: c.collagen_III0,
        S.collagen_I: c.collagen_I0,
        S.tropoelastin: c.tropoelastin0,
        S.elastin_old: c.elastin_old0,
    }
    y = y * xp.ones((*c.fibroblasts0.shape, 1))
    parts = [columns.get(S(i), y[..., i]) for i in range(len(SPECIES))]
    return xp.stack(parts, axis=-1)
