"""A session's injury and the jump of the state it causes.

The device model (:mod:`needlesim.device`) summarises a session by the injured
volume fraction of each layer ``v_l``, the bleeding fraction ``b`` (channels
that reached the dermal capillaries), the channel density ``rho`` (per cm^2),
the mean channel surface diameter ``d`` and the penetration depth. At the
session time the state jumps (``+`` = just after)::

    D_l+   = D_l + A_D v_l                    living layers
    P_l+   = P_l + A_P b v_l                  vascularised (dermal) layers
    Cap_l+ = Cap_l (1 - min(c_cut v_l, 1))    capillaries cut in the track volume
    O+     = O + a - O a,  a = 1 - exp(-rho pi d^2 / 4)   stratum corneum, epidermis

``A_D`` is the wound-signalling amplification: damage signals (DAMPs, ATP,
H2O2) reach cells well beyond the needle track, so the signalling volume is a
multiple of the track volume. ``a`` is the Boolean-model coverage of the
channel openings, as in :func:`needlesim.device.coverage_fraction`. An all-zero
injury leaves the state exactly unchanged.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from ..anatomy import LAYER_NAMES
from ._xp import Arr, namespace
from .dose import effective_injured_fraction
from .parameters import Parameters
from .state import PRESENCE, S

_UM2_PER_CM2 = 1.0e8


class SessionInjury(NamedTuple):
    """The injury of one session (add leading axes for sessions and patients).

    ``injured_fraction``: injured volume fraction of the 5 layers (trailing axis);
    ``bleeding_fraction``: fraction of channels that reached dermal capillaries;
    ``channel_density_per_cm2``; ``surface_diameter_um``: mean channel opening;
    ``depth_um``: mean penetration depth (carried for outputs, the kinetics use
    the volume fractions).
    """

    injured_fraction: Arr
    bleeding_fraction: Arr
    channel_density_per_cm2: Arr
    surface_diameter_um: Arr
    depth_um: Arr

    @classmethod
    def none(cls, n_sessions: int | None = None) -> SessionInjury:
        """A zero-depth treatment (nothing injured), optionally ``n_sessions`` of them."""
        import jax.numpy as jnp

        lead = () if n_sessions is None else (n_sessions,)
        zero = jnp.zeros(lead)
        return cls(jnp.zeros((*lead, len(LAYER_NAMES))), zero, zero, zero, zero)

    @classmethod
    def from_summary(cls, summary: Any) -> SessionInjury:
        """From a device :class:`~needlesim.device.InjurySummary` (read by attribute)."""
        import jax.numpy as jnp

        fractions = [summary.injured_volume_fraction[name] for name in LAYER_NAMES]
        return cls(
            jnp.asarray(fractions, dtype=jnp.float64),
            jnp.asarray(summary.bleeding_fraction, dtype=jnp.float64),
            jnp.asarray(summary.channel_density_per_cm2, dtype=jnp.float64),
            jnp.asarray(summary.surface_diameter_um, dtype=jnp.float64),
            jnp.asarray(summary.effective_depth_um, dtype=jnp.float64),
        )


def stack_sessions(injuries: list[SessionInjury]) -> SessionInjury:
    """Stack per-session injuries along a new leading (session) axis."""
    import jax.numpy as jnp

    return SessionInjury(*(jnp.stack(parts) for parts in zip(*injuries, strict=True)))


def channel_coverage(injury: SessionInjury) -> Arr:
    """``a = 1 - exp(-rho pi d^2 / 4)``: surface fraction opened by the session."""
    xp = namespace(injury.channel_density_per_cm2)
    area = math.pi * injury.surface_diameter_um**2 / 4.0
    return -xp.expm1(-injury.channel_density_per_cm2 / _UM2_PER_CM2 * area)


def injury_jump(y: Arr, v: Arr, w: Arr, a: Arr, b: Arr, present: Arr, p: Parameters) -> Arr:
    """The session jump of state ``y[..., N_SPECIES]``, written once for both levels.

    ``v``: injured (track) volume fraction, ``w``: damage-signal volume fraction
    (``A_D v`` on the layered level), ``a``: opened surface fraction, ``b``:
    bleeding fraction (all broadcast against ``y[..., 0]``); ``present``: the
    :data:`PRESENCE` rows of the compartments (``[..., N_SPECIES]``)::

        D+ = D + w,  P+ = P + A_P b v,  Cap+ = Cap (1 - min(c_cut v, 1)),  O+ = O + a - O a

    each where the species is present. ``apply_injury`` (layered) and the patch's
    voxel jump (:func:`needlesim.patch.healing.healing_injury`) both call this.
    """
    xp = namespace(y, v)
    o = y[..., S.open_channels]
    cut = xp.minimum(p.capillary_cut_fraction * v, 1.0)
    delta = {
        S.damage: w * present[..., S.damage],
        S.clot: p.clot_amplification * b * v * present[..., S.clot],
        S.open_channels: (a - o * a) * present[..., S.open_channels],
        S.capillaries: -y[..., S.capillaries] * cut,
    }
    columns = [y[..., s] + delta[s] if s in delta else y[..., s] for s in S]
    return xp.stack(columns, axis=-1)


def apply_injury(y: Arr, injury: SessionInjury, p: Parameters) -> Arr:
    """The state just after a session: ``y[..., 5, N_SPECIES]`` jumped by ``injury``
    (:func:`injury_jump` with ``w = A_D v_l`` and the session's ``a`` and ``b``)."""
    xp = namespace(y, injury.injured_fraction)
    present = xp.asarray(PRESENCE, dtype=xp.float64)
    v = effective_injured_fraction(injury.injured_fraction, p)  # saturating dose (biology.dose)
    bleed = injury.bleeding_fraction[..., None]
    a = channel_coverage(injury)[..., None]
    return injury_jump(y, v, p.damage_amplification * v, a, bleed, present, p)
