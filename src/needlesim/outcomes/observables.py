r"""Observables computed from a trajectory: what histology, imaging and clinical scales report.

Changes are ``(after - baseline) / baseline * 100`` for the same patient;
grades are ``after - baseline`` (negative = better). Dermal quantities weight
each dermal layer by its thickness ``h_l`` (mass per skin area):

    M_x(t) = sum_{l in papillary, reticular} h_l y_{l,x}(t).

Mappings (constants in ``data/outcomes.yaml``, see ``docs/outcomes.md``):

* epidermal thickness: keratinocyte mass of the viable epidermis (the state is
  the thickness fold).
* dermal collagen, collagen I, collagen III, papillary collagen: ``M`` of the
  collagens (papillary: that layer only).
* dermal thickness: dermal collagen mass. Collagen fibre density per dermal area
  does not change with age; dermal loss is loss of mass (Branchet 1991), so the
  dermis thickens with its collagen.
* total elastin: tropoelastin + old/elastotic material; tropoelastin: new only.
* elasticity: ``w_I dC_I% + w_e dTropo%`` (assumption, equal weights).
* echo density: share of mature collagen I in dermal collagen: the fibrillar,
  organised type reflects ultrasound; new type III and oedema are echo-poor.
* scar depth: ``-g_fill / f_sev * d(dermal thickness)%``: new dermis fills the
  atrophic depression; deeper lesions (``f_sev``) improve less in relative terms.
* scar score (Goodman-Baron quantitative): ``-g_score / f_sev * d(papillary collagen)%``.
* scar grade (Goodman-Baron qualitative): ``grade_0 * max(-g_grade / f_sev *
  d(papillary collagen)%, -100) / 100`` (baseline grade from the severity), never
  below grade 1; its own gain, because the qualitative grade and the
  quantitative score are different instruments.
* wrinkle grade (Lemperle): ``grade_0 * (-g_fill / f_sev) * d(papillary collagen)% / 100``.
* melasma index (MASI): epidermal melanin change.
* PIH: a patient has PIH when the peak pigment response so far, times a
  lognormal individual reactivity, exceeds a threshold:
  ``P = Phi(ln(peak / theta) / sigma)``; a cohort's incidence is the mean ``P``.
* erythema duration: the longer of two episodes after the latest session.
  The acute flare (axon-reflex and histamine vasodilation) has an amplitude set
  by the superficial damage ``D_s`` (viable epidermis and papillary dermis,
  thickness-weighted; its maximum in the session's window) and fades with a
  time constant ``tau``: it is visible for ``tau * max(0, ln(D_s / theta_f))``.
  Inflammatory erythema lasts while the papillary cytokine fold exceeds
  ``theta_i`` (days, after deep needling).
* channel closure: time after the latest session until the open channel area
  of the epidermis falls to a small fraction of its post-session value.

Written once for NumPy and JAX (the pattern of :mod:`needlesim.biology._xp`):
every function dispatches on its arrays, so ``simulate``, ``study run`` and
``cohort`` evaluate it on NumPy arrays and calibration traces and
differentiates it under ``jit`` (states and :class:`ObservationParams` alike).
Shapes are static: sessions are masks over the saved days, so a course padded
with sessions after its last saved day gives the same numbers. Episode
durations interpolate the crossing linearly,

    t_x = t_{k-1} + (s_{k-1} - theta) / (s_{k-1} - s_k) (t_k - t_{k-1}),

so they are differentiable in the threshold and the states.
"""

from __future__ import annotations

from types import ModuleType

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np
import scipy.special as sp

from ..anatomy import Layer
from ..biology.state import S
from ..config import Observable, Severity
from .parameters import ObservationParams, OutcomeParameters
from .trajectory import Arr, FloatArray, Trajectory

DERMIS = [int(Layer.papillary_dermis), int(Layer.reticular_dermis)]
VE, PD = int(Layer.viable_epidermis), int(Layer.papillary_dermis)
SUPERFICIAL = np.array([VE, PD])


def _xp(*arrays: object) -> ModuleType:
    """``jax.numpy`` if any argument (or leaf) is a JAX array or tracer, else ``numpy``."""
    leaves = jax.tree_util.tree_leaves(arrays)
    return jnp if any(isinstance(a, jax.Array) for a in leaves) else np


def change_pct(value: Arr, base: Arr) -> Arr:
    """``100 (value - base) / base``, ``value[B, T]``, ``base[B]`` broadcast over time."""
    xp = _xp(value, base)
    base = xp.asarray(base)[:, None]
    return 100.0 * (value - base) / xp.where(base > 0, base, xp.nan)


def _dermal_mass(traj: Trajectory, species: list[S]) -> tuple[Arr, Arr]:
    xp = _xp(traj.state, traj.baseline, traj.thickness_um)
    h = traj.thickness_um[:, DERMIS]  # (B, 2)
    now = xp.einsum("btls,bl->bt", traj.state[:, :, DERMIS][..., species], h)
    base = xp.einsum("bls,bl->b", traj.baseline[:, DERMIS][..., species], h)
    return now, base


def _layer_value(traj: Trajectory, layer: int, species: list[S]) -> tuple[Arr, Arr]:
    return (
        traj.state[:, :, layer, species].sum(-1),
        traj.baseline[:, layer, species].sum(-1),
    )


def episode_duration(t: Arr, signal: Arr, threshold: Arr, window: Arr | None = None) -> Arr:
    """Time from the window's first day until ``signal`` falls back to ``threshold`` after
    exceeding it.

    ``signal[b, k]`` sampled at ``t[k]``, ``threshold[b]``, ``window`` a mask
    over ``t`` (default: all of it). The crossing is interpolated linearly
    between samples; a signal that never exceeds the threshold in the window
    gives 0; one that never falls back is censored at the window's last day.
    """
    xp = _xp(t, signal, threshold, window)
    n = t.shape[0]
    idx = xp.arange(n)
    if window is None:
        window = xp.ones(n, dtype=bool)
    first = xp.argmax(window)
    last = n - 1 - xp.argmax(window[::-1])
    over = (signal > threshold[:, None]) & window[None, :]
    ever = over.any(axis=1)
    first_over = xp.argmax(over, axis=1)
    # first sample after the first exceedance that is no longer over
    below = window[None, :] & ~over & (idx[None, :] > first_over[:, None])
    clears = below.any(axis=1)
    k = xp.where(clears, xp.argmax(below, axis=1), last)
    km1 = xp.maximum(k - 1, 0)
    s0 = xp.take_along_axis(signal, km1[:, None], axis=1)[:, 0]
    s1 = xp.take_along_axis(signal, k[:, None], axis=1)[:, 0]
    frac = xp.clip((s0 - threshold) / xp.where(s0 > s1, s0 - s1, 1.0), 0.0, 1.0)
    crossing = xp.where(clears, t[km1] + frac * (t[k] - t[km1]), t[last])
    return xp.where(ever, crossing - t[first], 0.0)


def _session_windows(traj: Trajectory) -> list[Arr]:
    """Masks over the saved days, one per session: from the session to the next one."""
    xp = _xp(traj.days, traj.session_days)
    sessions = traj.session_days
    ends = xp.concatenate([sessions[1:], xp.array([xp.inf])])
    return [(traj.days >= sessions[s]) & (traj.days < ends[s]) for s in range(sessions.shape[0])]


def _window_max(signal: Arr, window: Arr) -> Arr:
    """``max`` of each row of ``signal`` over the saved days in ``window`` (``-inf`` if none)."""
    xp = _xp(signal, window)
    return xp.max(xp.where(window[None, :], signal, -xp.inf), axis=1)


def per_session(traj: Trajectory, signal: Arr, threshold: Arr, relative: bool) -> Arr:
    """Per saved day, the duration (days) of the episode that followed the latest session.

    ``threshold[B]`` is absolute, or (``relative``) a fraction of each session
    window's maximum of the signal. Windows with fewer than two saved days give 0.
    """
    xp = _xp(traj.days, signal, threshold)
    out = xp.zeros(signal.shape)
    for window in _session_windows(traj):
        thr = threshold * _window_max(signal, window) if relative else threshold
        duration = episode_duration(traj.days, signal, thr, window)
        duration = xp.where(window.sum() >= 2, duration, 0.0)
        out = xp.where(window[None, :], duration[:, None], out)
    return out


def per_session_peak(traj: Trajectory, signal: Arr) -> Arr:
    """Per saved day, the maximum of ``signal`` over the latest session's window (0 before)."""
    xp = _xp(traj.days, signal)
    out = xp.zeros(signal.shape)
    for window in _session_windows(traj):
        out = xp.where(window[None, :], _window_max(signal, window)[:, None], out)
    return out


def superficial_damage(state: Arr, thickness_um: Arr) -> Arr:
    """Thickness-weighted damage index of the viable epidermis and papillary dermis, ``(B, T)``."""
    xp = _xp(state, thickness_um)
    h = thickness_um[:, SUPERFICIAL]
    d = state[:, :, SUPERFICIAL, S.damage]
    return xp.einsum("btl,bl->bt", d, h) / h.sum(axis=1)[:, None]


def _log_ratio(x: Arr, scale: Arr) -> Arr:
    """``ln(max(x, 1e-300) / scale)``."""
    xp = _xp(x, scale)
    with np.errstate(divide="ignore"):
        return xp.log(xp.maximum(x, 1e-300) / scale)


def _running_max(x: Arr) -> Arr:
    """``max_{s <= t} x[b, s]`` along the time axis."""
    if _xp(x) is jnp:
        return jax.lax.cummax(x, axis=1)
    return np.maximum.accumulate(x, axis=1)


def _ndtr(z: Arr) -> Arr:
    """The standard normal CDF ``Phi(z)``."""
    return jsp.ndtr(z) if _xp(z) is jnp else sp.ndtr(z)


def observe(traj: Trajectory, p: ObservationParams) -> dict[str, Arr]:
    """Every observable of DESIGN.md as a ``(patients, days)`` array, NumPy or JAX."""
    xp = _xp(traj.state, traj.baseline, traj.thickness_um, traj.days, p)
    o = Observable
    out: dict[str, Arr] = {}

    kerat = _layer_value(traj, VE, [S.keratinocytes])
    out[o.epidermal_thickness_change_pct] = change_pct(*kerat)

    collagen = _dermal_mass(traj, [S.collagen_I, S.collagen_III])
    out[o.dermal_collagen_change_pct] = change_pct(*collagen)
    out[o.dermal_thickness_change_pct] = out[o.dermal_collagen_change_pct]
    col1 = _dermal_mass(traj, [S.collagen_I])
    col3 = _dermal_mass(traj, [S.collagen_III])
    out[o.collagen_I_change_pct] = change_pct(*col1)
    out[o.collagen_III_change_pct] = change_pct(*col3)
    papillary = _layer_value(traj, PD, [S.collagen_I, S.collagen_III])
    out[o.papillary_collagen_change_pct] = change_pct(*papillary)

    elastin = _dermal_mass(traj, [S.tropoelastin, S.elastin_old])
    tropo = _dermal_mass(traj, [S.tropoelastin])
    out[o.total_elastin_change_pct] = change_pct(*elastin)
    out[o.tropoelastin_change_pct] = change_pct(*tropo)
    out[o.elasticity_change_pct] = (
        p.elasticity_weight_collagen_I * out[o.collagen_I_change_pct]
        + p.elasticity_weight_tropoelastin * out[o.tropoelastin_change_pct]
    )
    out[o.dermal_density_change_pct] = change_pct(col1[0] / collagen[0], col1[1] / collagen[1])

    fill = -p.scar_fill_gain / p.depth_factor
    out[o.scar_depth_change_pct] = xp.maximum(fill * out[o.dermal_thickness_change_pct], -100.0)
    score = xp.maximum(
        -p.scar_score_gain / p.depth_factor * out[o.papillary_collagen_change_pct], -100.0
    )
    out[o.scar_score_change_pct] = score
    grade_pct = xp.maximum(
        -p.scar_grade_gain / p.depth_factor * out[o.papillary_collagen_change_pct], -100.0
    )
    grade0 = p.goodman_baron_grade
    out[o.scar_grade_change] = xp.maximum(grade0 * grade_pct / 100.0, 1.0 - grade0)
    wrinkle = xp.maximum(fill * out[o.papillary_collagen_change_pct], -100.0)
    out[o.wrinkle_grade_change] = p.lemperle_grade * wrinkle / 100.0

    melanin = _layer_value(traj, VE, [S.melanin])
    out[o.melasma_index_change_pct] = change_pct(*melanin)

    peak_pigment = _running_max(traj.state[:, :, VE, S.pigment_response])
    out[o.pih_incidence] = _ndtr(_log_ratio(peak_pigment, p.pih_threshold) / p.pih_log_sd)

    b = traj.state.shape[0]
    redness = traj.state[:, :, PD, S.cytokines]
    inflamed = per_session(
        traj, redness, xp.broadcast_to(p.erythema_inflammatory_fold, (b,)), relative=False
    )
    damage = per_session_peak(traj, superficial_damage(traj.state, traj.thickness_um))
    flare = p.erythema_flare_time_constant_days * xp.maximum(
        _log_ratio(damage, p.erythema_flare_threshold), 0.0
    )
    out[o.erythema_duration_days] = xp.maximum(flare, inflamed)
    open_area = traj.state[:, :, VE, S.open_channels]
    fraction = xp.broadcast_to(p.channel_closed_fraction, (b,))
    out[o.channel_closure_hours] = 24.0 * per_session(traj, open_area, fraction, relative=True)
    return {str(k): v for k, v in out.items()}


def compute_observables(
    traj: Trajectory, severity: Severity | str, params: OutcomeParameters | None = None
) -> dict[str, FloatArray]:
    """:func:`observe` with the table's constants for ``severity`` (default: the packaged,
    fitted table)."""
    return observe(traj, (params or OutcomeParameters.from_data()).at(severity))
