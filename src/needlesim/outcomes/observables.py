r"""Observables computed from a trajectory: what histology, imaging and clinical scales report.

Changes are ``(after - baseline) / baseline * 100`` for the same patient;
grades are ``after - baseline`` (negative = better). Dermal quantities weight
each dermal layer by its thickness ``h_l`` (mass per skin area):

    M_x(t) = sum_{l in papillary, reticular} h_l y_{l,x}(t).

Each observable is a reading of its instrument (``docs/instruments.md``; cited
instrument numbers in ``data/instruments.yaml``), with at most one gain per
instrument shared by every study that used it. Dermal volumes per skin area,
layer ``l`` (papillary, reticular) of thickness ``h_l``, baseline collagen
stained share ``A_l`` (Branchet 1991), collagen fold ``c_l = (I+III)/(I+III)_0``
and cytokine fold ``k_l``:

    V_col,l = A_l h_l c_l,  V_other,l = (1 - A_l) h_l,  V_w,l = omega h_l max(k_l - k_l0, 0).

Fills (new collagen volume as a share of the thickness, no oedema):
``Delta_D = sum_l A_l h_l (c_l - 1) / sum_l h_l`` and
``Delta_P = A_P (c_P - 1)``. Mappings (constants in ``data/outcomes.yaml``,
see ``docs/outcomes.md``):

* histometry, no gain: epidermal thickness (keratinocyte mass of the viable
  epidermis, the state is the thickness fold); dermal collagen, collagen I,
  collagen III, elastins: amounts ``M``; papillary collagen: the stained-area
  fraction ``A = V_col / (V_col + V_other + V_w)`` of the papillary dermis
  (``<= 1``, oedema lowers it).
* ultrasound: thickness ``H = sum_l (V_col + V_other + V_w)`` (no gain: early
  oedema, later collagen); echo density
  ``g_echo x d(V_I / H)%``, the share of organised collagen I (type III, matrix
  and water are echo-poor).
* suction elastometry (Cutometer R2):
  ``R = 1 - (1 - R_0) (E / E_0)^-beta`` with ``E / E_0`` the weighted mean of the
  collagen I and tropoelastin folds; change ``100 (R / R_0 - 1) < 100 (1/R_0 - 1)``.
* profilometry: one depression of depth ``f_sev`` filled by ``phi = g_fill Delta_D``:
  ``depth / depth_0 = sp_s(1 - phi / f_sev) / sp_s(1)``, ``sp_s`` a softplus of
  width ``s`` (a smooth ``max(., 0)``).
* Goodman-Baron score: depth-weighted count of visible lesions of a lognormal
  population ``ln D ~ N(ln f_sev, sigma_d)``, each filled by ``phi = g_score Delta_P``:
  ``B(phi) = E[max(D - phi, 0) Phi((D - phi - v) / s_v)]`` (Gauss-Hermite),
  change ``100 (B(phi) / B(0) - 1) >= -100``.
* Goodman-Baron grade: latent ``1 + (G_0 - 1) B(g_grade Delta_P) / B(0)``, read as
  the expectation of a rater's rounded, clipped grade,
  ``E[grade] = 1 + sum_{j=1}^{3} Phi((latent - j - 1/2) / sigma_r)``; change
  ``E[grade] - E[grade | G_0] > 1 - G_0``.
* Lemperle grade: latent ``G_0 x depth / depth_0`` of the wrinkle filled by
  ``g_wrinkle Delta_P``, ``E[grade] = sum_{j=0}^{4} Phi((latent - j - 1/2) / sigma_L)``;
  change ``> -G_0``.
* MASI: ``100 ((Mel / Mel_0)^gamma - 1)``, ``gamma`` between 1 (darkness) and 2
  (area and darkness).
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


# Probabilists' Gauss-Hermite rule: E[f(Z)], Z ~ N(0, 1), as sum_k w_k f(z_k).
_GH_NODES, _GH_WEIGHTS = np.polynomial.hermite_e.hermegauss(48)
_GH_WEIGHTS = _GH_WEIGHTS / _GH_WEIGHTS.sum()


def _softplus(x: Arr, width: Arr) -> Arr:
    """``width ln(1 + exp(x / width))``: a smooth ``max(x, 0)``."""
    xp = _xp(x, width)
    return width * xp.logaddexp(0.0, x / width)


def _filled_depth(fill: Arr, width: Arr) -> Arr:
    """``depth / depth_0`` of a depression filled by ``fill`` of its depth: a smooth
    ``max(1 - fill, 0)``, exactly 1 at ``fill = 0``."""
    return _softplus(1.0 - fill, width) / _softplus(1.0 + 0.0 * fill, width)


def _rounded_grade(latent: Arr, sd: Arr, top: int, bottom: int) -> Arr:
    """``E[clip(round(latent + e), bottom, top)]``, ``e ~ N(0, sd)``: the expected reading of
    a rater who rounds a continuous severity, ``bottom + sum_j Phi((latent - j - 1/2) / sd)``."""
    out = bottom + 0.0 * latent
    for j in range(bottom, top):
        out = out + _ndtr((latent - j - 0.5) / sd)
    return out


ROUNDING_VARIANCE = 1.0 / 12.0
"""Variance of the error of rounding a continuous severity to a whole grade (Sheppard)."""


def reading_sd(observable: str, params: OutcomeParameters | None = None) -> float:
    r"""SD of one patient's reported change about the expected reading :func:`observe` gives.

    A graded change (Goodman-Baron grade, Lemperle grade) is the difference of two
    rounded readings of a latent severity, each with rater noise :math:`\sigma_r`; the
    two rounding errors add a variance ``f (1 - f)`` for a latent change of fractional part
    ``f``, 1/6 on average over patients whose changes spread over a grade (Sheppard's
    1/12 per reading):

        sigma_change = sqrt(2 (sigma_r^2 + 1/12)).

    ``observe`` reports each patient's expected reading (smooth, so the calibration
    can differentiate it); a study's fraction of patients past a threshold, its SD
    of the change and the patients' range are those of the readings, so they add
    this noise (:mod:`needlesim.studies.statistics`). Readings that are not
    rounded grades give 0.
    """
    p = params or OutcomeParameters.from_data()
    rater = {
        str(Observable.scar_grade_change): p.goodman_baron_rater_sd,
        str(Observable.wrinkle_grade_change): p.lemperle_rater_sd,
    }.get(str(observable))
    if rater is None:
        return 0.0
    return float(np.sqrt(2.0 * (rater**2 + ROUNDING_VARIANCE)))


def _lesion_burden(fill: Arr, p: ObservationParams) -> Arr:
    """Visible, depth-weighted lesion burden after a fill ``fill`` (moderate-lesion depths),
    over a lognormal lesion population of median ``f_sev``:

        B(phi) = E[max(D - phi, 0) Phi((D - phi - v) / s)],  ln D ~ N(ln f_sev, sigma_d),

    by Gauss-Hermite quadrature (smooth in ``phi``, 0 when every lesion is filled).
    """
    xp = _xp(fill, p)
    z = xp.asarray(_GH_NODES)
    w = xp.asarray(_GH_WEIGHTS)
    depth = p.depth_factor * xp.exp(p.lesion_depth_log_sd * z)
    left = depth - fill[..., None]
    seen = _ndtr((left - p.lesion_visibility_depth) / p.lesion_visibility_blur)
    return (xp.maximum(left, 0.0) * seen) @ w


def _layer_volumes(
    traj: Trajectory, p: ObservationParams, layer: int
) -> dict[str, tuple[Arr, Arr]]:
    """Volumes per skin area (um) of one dermal layer, now ``(B, T)`` and at baseline ``(B,)``:
    collagen I and III (the stained share ``A_0`` of the layer at baseline, split by mass and
    growing with it), the rest of the matrix ``(1 - A_0) h`` and oedema water
    ``omega h max(k - k_0, 0)`` (``k`` the cytokine fold)."""
    xp = _xp(traj.state, traj.baseline, traj.thickness_um, p)
    area0 = p.stained_area_papillary if layer == PD else p.stained_area_reticular
    h = traj.thickness_um[:, layer]
    y, y0 = traj.state[:, :, layer], traj.baseline[:, layer]
    col0 = y0[:, S.collagen_I] + y0[:, S.collagen_III]
    per_mass = area0 * h / col0  # collagen volume per unit of the collagen state
    k = y[..., S.cytokines] - y0[:, None, S.cytokines]
    return {
        "I": (per_mass[:, None] * y[..., S.collagen_I], per_mass * y0[:, S.collagen_I]),
        "III": (per_mass[:, None] * y[..., S.collagen_III], per_mass * y0[:, S.collagen_III]),
        "other": ((1.0 - area0) * h[:, None] + 0.0 * k, (1.0 - area0) * h),
        "water": (p.oedema_water_per_fold * h[:, None] * xp.maximum(k, 0.0), 0.0 * h),
    }


def _total(vols: list[dict[str, tuple[Arr, Arr]]], keys: tuple[str, ...]) -> tuple[Arr, Arr]:
    now = sum(v[k][0] for v in vols for k in keys)
    base = sum(v[k][1] for v in vols for k in keys)
    return now, base


def observe(traj: Trajectory, p: ObservationParams) -> dict[str, Arr]:
    """Every observable of DESIGN.md as a ``(patients, days)`` array, NumPy or JAX."""
    xp = _xp(traj.state, traj.baseline, traj.thickness_um, traj.days, p)
    o = Observable
    out: dict[str, Arr] = {}

    kerat = _layer_value(traj, VE, [S.keratinocytes])
    out[o.epidermal_thickness_change_pct] = change_pct(*kerat)

    # histometry: collagen and elastin amounts (stained area over a field that grows with the
    # dermis), the papillary stained-area fraction
    collagen = _dermal_mass(traj, [S.collagen_I, S.collagen_III])
    out[o.dermal_collagen_change_pct] = change_pct(*collagen)
    col1 = _dermal_mass(traj, [S.collagen_I])
    col3 = _dermal_mass(traj, [S.collagen_III])
    out[o.collagen_I_change_pct] = change_pct(*col1)
    out[o.collagen_III_change_pct] = change_pct(*col3)
    pap = _layer_volumes(traj, p, PD)
    ret = _layer_volumes(traj, p, int(Layer.reticular_dermis))
    pap_col = _total([pap], ("I", "III"))
    pap_all = _total([pap], ("I", "III", "other", "water"))
    out[o.papillary_collagen_change_pct] = change_pct(
        pap_col[0] / pap_all[0], pap_col[1] / pap_all[1]
    )
    elastin = _dermal_mass(traj, [S.tropoelastin, S.elastin_old])
    tropo = _dermal_mass(traj, [S.tropoelastin])
    out[o.total_elastin_change_pct] = change_pct(*elastin)
    out[o.tropoelastin_change_pct] = change_pct(*tropo)

    # ultrasound: thickness = every volume (collagen, matrix, oedema water); echo density =
    # share of organised collagen I in it, read with the instrument's gain
    dermis = _total([pap, ret], ("I", "III", "other", "water"))
    out[o.dermal_thickness_change_pct] = change_pct(*dermis)
    echo_i = _total([pap, ret], ("I",))
    out[o.dermal_density_change_pct] = p.echo_gain * change_pct(
        echo_i[0] / dermis[0], echo_i[1] / dermis[1]
    )

    # suction elastometry: R = 1 - (1 - R_0) (E / E_0)^-beta, bounded by 100 (1 / R_0 - 1) %
    network = (
        p.elasticity_weight_collagen_I * col1[0] / col1[1][:, None]
        + p.elasticity_weight_tropoelastin * tropo[0] / tropo[1][:, None]
    ) / (p.elasticity_weight_collagen_I + p.elasticity_weight_tropoelastin)
    r0 = p.cutometer_r0
    recoil = 1.0 - (1.0 - r0) * xp.maximum(network, 1e-12) ** (-p.elasticity_exponent)
    out[o.elasticity_change_pct] = 100.0 * (recoil / r0 - 1.0)

    # fills: new collagen volume as a fraction of the layer thickness (no oedema)
    gain_d = _total([pap, ret], ("I", "III"))
    delta_d = (gain_d[0] - gain_d[1][:, None]) / dermis[1][:, None]
    delta_p = (pap_col[0] - pap_col[1][:, None]) / pap_all[1][:, None]

    # profilometry: one depression of depth f_sev filled by g_fill Delta_D
    depth = _filled_depth(p.scar_fill_gain * delta_d / p.depth_factor, p.fill_smoothing)
    out[o.scar_depth_change_pct] = 100.0 * (depth - 1.0)

    # Goodman-Baron score: visible depth-weighted burden of a lognormal lesion population
    zero = xp.zeros(1)
    burden0 = _lesion_burden(zero, p)
    score = _lesion_burden(p.scar_score_gain * delta_p, p) / burden0
    out[o.scar_score_change_pct] = 100.0 * (score - 1.0)

    # Goodman-Baron grade: latent 1 + (G_0 - 1) B / B_0 (its own fill), rounded by a rater
    grade0 = p.goodman_baron_grade
    remaining = _lesion_burden(p.scar_grade_gain * delta_p, p) / burden0
    sd_gb = p.goodman_baron_rater_sd
    out[o.scar_grade_change] = _rounded_grade(
        1.0 + (grade0 - 1.0) * remaining, sd_gb, 4, 1
    ) - _rounded_grade(grade0 + 0.0 * zero, sd_gb, 4, 1)

    # Lemperle: latent G_0 x wrinkle depth / depth_0, rounded by a rater
    wrinkle = _filled_depth(p.wrinkle_fill_gain * delta_p / p.depth_factor, p.fill_smoothing)
    lem0 = p.lemperle_grade
    sd_l = p.lemperle_rater_sd
    out[o.wrinkle_grade_change] = _rounded_grade(lem0 * wrinkle, sd_l, 5, 0) - _rounded_grade(
        lem0 + 0.0 * zero, sd_l, 5, 0
    )

    # MASI: area x darkness, (Mel / Mel_0)^gamma
    melanin = _layer_value(traj, VE, [S.melanin])
    fold = melanin[0] / xp.asarray(melanin[1])[:, None]
    out[o.melasma_index_change_pct] = 100.0 * (xp.maximum(fold, 1e-12) ** p.masi_exponent - 1.0)

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
