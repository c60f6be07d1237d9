"""The reaction right-hand side of one compartment: every species' rate, in state order.

``reaction_rates(y, params, ctx)`` maps a state ``y[..., 5, N_SPECIES]`` (any
leading axes) to ``dy/dt`` with the same shape. It is a pure array function
(JAX or NumPy, see :mod:`needlesim.biology._xp`), vectorised over leading axes,
differentiable, and it knows nothing of the other layers: the exchange of
mediators between layers is added by the solver
(:mod:`needlesim.geometry.exchange`). Rates of species absent from a layer are
masked to zero, so those entries stay 0.

At the rest state :func:`needlesim.biology.context.baseline_state` every rate is
zero (to rounding): each module's production terms equal its losses there by
construction.
"""

from __future__ import annotations

from collections.abc import Callable

from ._xp import Arr, namespace, stack
from .collagen import collagen_I_rate, collagen_III_rate
from .context import Compartments
from .cytokines import cytokine_rate
from .elastin import elastin_old_rate, tropoelastin_rate
from .epidermis import keratinocyte_rate, open_channel_rate
from .fibroblasts import fibroblast_rate, myofibroblast_rate
from .growth_factors import fgf_rate, pdgf_rate, tgf_beta1_rate, tgf_beta3_rate, vegf_rate
from .hemostasis import clot_rate, damage_rate
from .inflammation import inflammatory_macrophage_rate, neutrophil_rate, repair_macrophage_rate
from .parameters import Parameters
from .perfusion import capillary_rate
from .pigment import melanin_rate, pigment_response_rate
from .proteases import mmp_rate, timp_rate
from .state import PRESENCE, S

Rate = Callable[[Arr, Parameters, Compartments], Arr]

RATES: dict[S, Rate] = {
    S.damage: damage_rate,
    S.clot: clot_rate,
    S.neutrophils: neutrophil_rate,
    S.macrophages_inflammatory: inflammatory_macrophage_rate,
    S.macrophages_repair: repair_macrophage_rate,
    S.cytokines: cytokine_rate,
    S.tgf_beta1: tgf_beta1_rate,
    S.tgf_beta3: tgf_beta3_rate,
    S.pdgf: pdgf_rate,
    S.fgf_kgf: fgf_rate,
    S.vegf: vegf_rate,
    S.mmp: mmp_rate,
    S.timp: timp_rate,
    S.fibroblasts: fibroblast_rate,
    S.myofibroblasts: myofibroblast_rate,
    S.collagen_III: collagen_III_rate,
    S.collagen_I: collagen_I_rate,
    S.tropoelastin: tropoelastin_rate,
    S.elastin_old: elastin_old_rate,
    S.keratinocytes: keratinocyte_rate,
    S.open_channels: open_channel_rate,
    S.capillaries: capillary_rate,
    S.melanin: melanin_rate,
    S.pigment_response: pigment_response_rate,
}
"""The rate law of each species (one module per concept)."""


def reaction_rates(y: Arr, p: Parameters, c: Compartments) -> Arr:
    """``dy/dt`` of the reactions in every compartment, absent species masked to 0."""
    xp = namespace(y)
    rates = stack([RATES[s](y, p, c) for s in S], axis=-1)
    return rates * xp.asarray(PRESENCE, dtype=rates.dtype)


def linear_loss_rates(p: Parameters, c: Compartments) -> Arr:
    """``lambda[..., 5, N_SPECIES]``: the constant, linear part of each species' loss (1/day).

    Every rate law here has the form ``dy/dt = production(y) - loss(y) y`` and
    ``lambda <= loss`` collects the part of ``loss`` that does not depend on the
    state: mediator turnover, cell death, clot lysis, barrier plugging, channel
    closure, melanin clearance. The solver
    integrates ``-lambda y`` (and the exchange between layers) implicitly and
    the rest, ``reaction_rates + lambda y``, explicitly (an IMEX split; the sum
    is exactly :func:`reaction_rates`). Zero for slow species.
    """
    xp = namespace(p.cytokine_decay_rate, c.turnover)
    zero = xp.zeros_like(c.turnover)
    one = xp.ones_like(c.turnover)
    closure = (
        c.is_horny * p.barrier_recovery_rate
        + (1.0 - c.is_horny) * c.turnover * p.channel_closure_rate
    )
    lam = {
        S.damage: p.damage_clearance_rate * one,
        S.clot: p.clot_lysis_rate * one,
        S.neutrophils: p.neutrophil_apoptosis_rate * one,
        S.macrophages_inflammatory: (
            p.macrophage_inflammatory_death_rate
            + p.macrophage_switch_rate * (1.0 - p.switch_tgf_share)
        )
        * one,
        S.macrophages_repair: p.macrophage_repair_turnover_rate * one,
        S.cytokines: p.cytokine_decay_rate * one,
        S.tgf_beta1: p.tgf_beta1_decay_rate * one,
        S.tgf_beta3: p.tgf_beta3_decay_rate * one,
        S.pdgf: p.pdgf_decay_rate * one,
        S.fgf_kgf: p.fgf_decay_rate * one,
        S.vegf: p.vegf_decay_rate * one,
        S.mmp: p.mmp_decay_rate * one,
        S.timp: p.timp_decay_rate * one,
        S.myofibroblasts: p.myofibroblast_apoptosis_rate * one,
        S.open_channels: closure,
        S.melanin: c.turnover * p.melanin_turnover_rate,
        S.pigment_response: p.pigment_decay_rate * one,
    }
    columns = stack([lam.get(s, zero) for s in S], axis=-1)
    return columns * xp.asarray(PRESENCE, dtype=columns.dtype)
