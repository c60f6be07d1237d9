r"""The observation models in JAX: differentiable twins of :mod:`needlesim.outcomes.observables`.

Same mappings, same numbers (``tests/test_calibration_observables.py`` checks
them against the NumPy versions), written with static shapes so that they can
be traced once and differentiated with respect to both the states and the
observation parameters:

* changes ``100 (x - x_0) / x_0``; dermal masses ``M_x = sum_l h_l y_{l,x}``
  over the papillary and reticular dermis;
* scar depth ``max(-g_fill / f_sev * dDermis%, -100)``, scar score
  ``max(-g_score / f_sev * dPapillary%, -100)``, grade
  ``max(G_0 max(-g_grade / f_sev * dPapillary%, -100) / 100, 1 - G_0)``: linear
  in the gains;
* PIH ``Phi(ln(max_{s <= t} Pg(s) / theta) / sigma)`` with a running maximum
  (:func:`jax.lax.cummax`);
* erythema flare ``tau max(0, ln(max_window D_s / theta_f))``, smooth in
  ``theta_f`` and the states;
* episode durations (inflammatory erythema, channel closure): the time from a session until
  the signal falls back under its threshold, the crossing interpolated
  linearly between saved days,

      t_x = t_{k-1} + (s_{k-1} - theta) / (s_{k-1} - s_k) (t_k - t_{k-1}),

  so ``d t_x / d theta = -(t_k - t_{k-1}) / (s_{k-1} - s_k)``: the duration is
  differentiable in the threshold and in the states.

Sessions are masks over the saved days instead of Python loops over windows,
so a course padded with extra sessions after its last saved day gives the same
numbers as the unpadded one.
"""

from __future__ import annotations

from dataclasses import fields
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import Array
from jax.scipy.special import ndtr

from ..anatomy import Layer
from ..biology.state import S
from ..config import Observable, Severity
from ..outcomes import OutcomeParameters

_RESOLVED = ("depth_factor", "goodman_baron_grade", "lemperle_grade")
DERMIS = (int(Layer.papillary_dermis), int(Layer.reticular_dermis))
VE, PD = int(Layer.viable_epidermis), int(Layer.papillary_dermis)


class ObservationParams(NamedTuple):
    """Observation-model constants for one severity, as arrays (a pytree: can be traced).

    Names follow :class:`~needlesim.outcomes.OutcomeParameters`; the severity-
    dependent ones are resolved: ``depth_factor`` (``f_sev``), ``goodman_baron_grade``
    and ``lemperle_grade`` (``G_0``).
    """

    scar_fill_gain: Array
    scar_score_gain: Array
    scar_grade_gain: Array
    depth_factor: Array
    goodman_baron_grade: Array
    lemperle_grade: Array
    elasticity_weight_collagen_I: Array
    elasticity_weight_tropoelastin: Array
    erythema_flare_threshold: Array
    erythema_flare_time_constant_days: Array
    erythema_inflammatory_fold: Array
    channel_closed_fraction: Array
    pih_threshold: Array
    pih_log_sd: Array

    @classmethod
    def of(cls, p: OutcomeParameters, severity: Severity | str) -> ObservationParams:
        """From the NumPy-side parameters and a baseline severity."""
        sev = Severity(severity).value
        scalars = {
            f.name: jnp.asarray(getattr(p, f.name), dtype=jnp.float64)
            for f in fields(p)
            if f.name in cls._fields and f.name not in _RESOLVED
        }
        return cls(
            depth_factor=jnp.asarray(p.depth_factor(sev), dtype=jnp.float64),
            goodman_baron_grade=jnp.asarray(p.goodman_baron_grade[sev], dtype=jnp.float64),
            lemperle_grade=jnp.asarray(p.lemperle_grade[sev], dtype=jnp.float64),
            **scalars,
        )


def change_pct(value: Array, base: Array) -> Array:
    """``100 (value - base) / base``, ``value[B, T]``, ``base[B]``."""
    base = base[:, None]
    return 100.0 * (value - base) / jnp.where(base > 0, base, jnp.nan)


def _dermal_mass(
    state: Array, baseline: Array, thickness: Array, species: list[int]
) -> tuple[Array, Array]:
    d = list(DERMIS)
    h = thickness[:, d]
    now = jnp.einsum("btls,bl->bt", state[:, :, d][..., species], h)
    base = jnp.einsum("bls,bl->b", baseline[:, d][..., species], h)
    return now, base


def _layer_value(
    state: Array, baseline: Array, layer: int, species: list[int]
) -> tuple[Array, Array]:
    return state[:, :, layer, species].sum(-1), baseline[:, layer, species].sum(-1)


def episode_duration(t: Array, signal: Array, threshold: Array, window: Array) -> Array:
    """Duration of the episode in ``window`` (a mask over ``t``) for each row of ``signal``.

    Mirrors :func:`needlesim.outcomes.observables.episode_duration` applied to
    ``t[window]``: from the window's first day until the signal falls back to
    ``threshold[b]`` after exceeding it (0 if it never does; censored at the
    window's last day if it never falls back).
    """
    n = t.shape[0]
    idx = jnp.arange(n)
    first = jnp.argmax(window)
    last = n - 1 - jnp.argmax(window[::-1])
    over = (signal > threshold[:, None]) & window[None, :]
    ever = over.any(axis=1)
    first_over = jnp.argmax(over, axis=1)
    below = window[None, :] & ~over & (idx[None, :] > first_over[:, None])
    clears = below.any(axis=1)
    k = jnp.where(clears, jnp.argmax(below, axis=1), last)
    km1 = jnp.maximum(k - 1, 0)
    s0 = jnp.take_along_axis(signal, km1[:, None], axis=1)[:, 0]
    s1 = jnp.take_along_axis(signal, k[:, None], axis=1)[:, 0]
    frac = jnp.clip((s0 - threshold) / jnp.where(s0 > s1, s0 - s1, 1.0), 0.0, 1.0)
    crossing = jnp.where(clears, t[km1] + frac * (t[k] - t[km1]), t[last])
    return jnp.where(ever, crossing - t[first], 0.0)


def per_session(
    days: Array, session_days: Array, signal: Array, threshold: Array, relative: bool
) -> Array:
    """Per saved day, the duration of the episode that followed the latest session.

    ``threshold[B]`` is absolute, or (``relative``) a fraction of each window's
    maximum of the signal. Windows with fewer than two saved days report 0.
    """
    ends = jnp.concatenate([session_days[1:], jnp.array([jnp.inf])])
    out = jnp.zeros(signal.shape)
    for s in range(session_days.shape[0]):
        window = (days >= session_days[s]) & (days < ends[s])
        thr = threshold
        if relative:
            thr = threshold * jnp.max(jnp.where(window[None, :], signal, -jnp.inf), axis=1)
        duration = episode_duration(days, signal, thr, window)
        duration = jnp.where(window.sum() >= 2, duration, 0.0)
        out = jnp.where(window[None, :], duration[:, None], out)
    return out


def superficial_damage(state: Array, thickness_um: Array) -> Array:
    """Thickness-weighted damage index of the viable epidermis and papillary dermis, ``[B, T]``."""
    h = thickness_um[:, jnp.array([VE, PD])]
    d = state[:, :, jnp.array([VE, PD]), S.damage]
    return jnp.einsum("btl,bl->bt", d, h) / h.sum(axis=1)[:, None]


def per_session_peak(days: Array, session_days: Array, signal: Array) -> Array:
    """Per saved day, the maximum of ``signal`` over the latest session's window (0 before)."""
    ends = jnp.concatenate([session_days[1:], jnp.array([jnp.inf])])
    out = jnp.zeros(signal.shape)
    for s in range(session_days.shape[0]):
        window = (days >= session_days[s]) & (days < ends[s])
        peak = jnp.max(jnp.where(window[None, :], signal, -jnp.inf), axis=1)
        out = jnp.where(window[None, :], peak[:, None], out)
    return out


def compute_observables(
    state: Array,
    baseline: Array,
    thickness_um: Array,
    days: Array,
    session_days: Array,
    p: ObservationParams,
) -> dict[str, Array]:
    """Every observable of DESIGN.md as a ``[patients, days]`` array (JAX).

    ``state[B, T, 5, N_SPECIES]``, ``baseline[B, 5, N_SPECIES]``,
    ``thickness_um[B, 5]``, ``days[T]`` (sorted), ``session_days[S]`` (sorted;
    sessions after the last day are inert padding).
    """
    o = Observable
    out: dict[str, Array] = {}
    kerat = _layer_value(state, baseline, VE, [S.keratinocytes])
    out[o.epidermal_thickness_change_pct] = change_pct(*kerat)

    collagen = _dermal_mass(state, baseline, thickness_um, [S.collagen_I, S.collagen_III])
    out[o.dermal_collagen_change_pct] = change_pct(*collagen)
    out[o.dermal_thickness_change_pct] = out[o.dermal_collagen_change_pct]
    col1 = _dermal_mass(state, baseline, thickness_um, [S.collagen_I])
    col3 = _dermal_mass(state, baseline, thickness_um, [S.collagen_III])
    out[o.collagen_I_change_pct] = change_pct(*col1)
    out[o.collagen_III_change_pct] = change_pct(*col3)
    papillary = _layer_value(state, baseline, PD, [S.collagen_I, S.collagen_III])
    out[o.papillary_collagen_change_pct] = change_pct(*papillary)

    elastin = _dermal_mass(state, baseline, thickness_um, [S.tropoelastin, S.elastin_old])
    tropo = _dermal_mass(state, baseline, thickness_um, [S.tropoelastin])
    out[o.total_elastin_change_pct] = change_pct(*elastin)
    out[o.tropoelastin_change_pct] = change_pct(*tropo)
    out[o.elasticity_change_pct] = (
        p.elasticity_weight_collagen_I * out[o.collagen_I_change_pct]
        + p.elasticity_weight_tropoelastin * out[o.tropoelastin_change_pct]
    )
    out[o.dermal_density_change_pct] = change_pct(col1[0] / collagen[0], col1[1] / collagen[1])

    fill = -p.scar_fill_gain / p.depth_factor
    out[o.scar_depth_change_pct] = jnp.maximum(fill * out[o.dermal_thickness_change_pct], -100.0)
    score = jnp.maximum(
        -p.scar_score_gain / p.depth_factor * out[o.papillary_collagen_change_pct], -100.0
    )
    out[o.scar_score_change_pct] = score
    grade_pct = jnp.maximum(
        -p.scar_grade_gain / p.depth_factor * out[o.papillary_collagen_change_pct], -100.0
    )
    grade0 = p.goodman_baron_grade
    out[o.scar_grade_change] = jnp.maximum(grade0 * grade_pct / 100.0, 1.0 - grade0)
    wrinkle = jnp.maximum(fill * out[o.papillary_collagen_change_pct], -100.0)
    out[o.wrinkle_grade_change] = p.lemperle_grade * wrinkle / 100.0

    melanin = _layer_value(state, baseline, VE, [S.melanin])
    out[o.melasma_index_change_pct] = change_pct(*melanin)

    pigment = jax.lax.cummax(state[:, :, VE, S.pigment_response], axis=1)
    z = jnp.log(jnp.maximum(pigment, 1e-300) / p.pih_threshold) / p.pih_log_sd
    out[o.pih_incidence] = ndtr(z)

    b = state.shape[0]
    redness = state[:, :, PD, S.cytokines]
    threshold = jnp.broadcast_to(p.erythema_inflammatory_fold, (b,))
    inflamed = per_session(days, session_days, redness, threshold, False)
    peak = per_session_peak(days, session_days, superficial_damage(state, thickness_um))
    flare = p.erythema_flare_time_constant_days * jnp.maximum(
        jnp.log(jnp.maximum(peak, 1e-300) / p.erythema_flare_threshold), 0.0
    )
    out[o.erythema_duration_days] = jnp.maximum(flare, inflamed)
    open_area = state[:, :, VE, S.open_channels]
    fraction = jnp.broadcast_to(p.channel_closed_fraction, (b,))
    closure = per_session(days, session_days, open_area, fraction, True)
    out[o.channel_closure_hours] = 24.0 * closure
    return {str(k): v for k, v in out.items()}
