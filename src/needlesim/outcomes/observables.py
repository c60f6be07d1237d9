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
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr

from ..anatomy import Layer
from ..biology.state import S
from ..config import Observable, Severity
from .parameters import OutcomeParameters
from .trajectory import FloatArray, Trajectory

DERMIS = [int(Layer.papillary_dermis), int(Layer.reticular_dermis)]
VE, PD = int(Layer.viable_epidermis), int(Layer.papillary_dermis)


def change_pct(value: FloatArray, base: FloatArray) -> FloatArray:
    """``100 (value - base) / base`` with ``base`` broadcast over time."""
    base = np.asarray(base)[:, None]
    return 100.0 * (value - base) / np.where(base > 0, base, np.nan)


def _dermal_mass(traj: Trajectory, species: list[S]) -> tuple[FloatArray, FloatArray]:
    h = traj.thickness_um[:, DERMIS]  # (B, 2)
    now = np.einsum("btls,bl->bt", traj.state[:, :, DERMIS][..., species], h)
    base = np.einsum("bls,bl->b", traj.baseline[:, DERMIS][..., species], h)
    return now, base


def _layer_value(traj: Trajectory, layer: int, species: list[S]) -> tuple[FloatArray, FloatArray]:
    return (
        traj.state[:, :, layer, species].sum(-1),
        traj.baseline[:, layer, species].sum(-1),
    )


def episode_duration(t: FloatArray, signal: FloatArray, threshold: FloatArray) -> FloatArray:
    """Time from ``t[0]`` until ``signal`` falls back to ``threshold`` after exceeding it.

    ``signal[b, k]`` sampled at ``t[k]``, ``threshold[b]``. The crossing is
    interpolated linearly between samples; a signal that never exceeds the
    threshold gives 0; one that never falls back is censored at ``t[-1]``.
    """
    over = signal > threshold[:, None]
    ever = over.any(axis=1)
    first_over = over.argmax(axis=1)
    after = over & (np.arange(t.size)[None, :] >= first_over[:, None])
    # first sample at or after the first exceedance that is no longer over
    below = ~after & (np.arange(t.size)[None, :] > first_over[:, None])
    clears = below.any(axis=1)
    k = np.where(clears, below.argmax(axis=1), t.size - 1)
    rows = np.arange(signal.shape[0])
    s0, s1 = signal[rows, k - 1], signal[rows, k]
    frac = np.clip((s0 - threshold) / np.where(s0 > s1, s0 - s1, 1.0), 0.0, 1.0)
    crossing = np.where(clears, t[k - 1] + frac * (t[k] - t[k - 1]), t[-1])
    return np.where(ever, crossing - t[0], 0.0)


def _per_session(
    traj: Trajectory, signal: FloatArray, threshold: Callable[[FloatArray], FloatArray]
) -> FloatArray:
    """Per saved day, the episode duration (days) that followed the latest session.

    ``threshold(window_signal) -> (B,)`` sets each patient's threshold for that
    session's window (from the session to the next one).
    """
    out = np.zeros(signal.shape)
    for window in _session_windows(traj):
        if window.sum() < 2:
            continue
        sig = signal[:, window]
        duration = episode_duration(traj.days[window], sig, threshold(sig))
        out[:, window] = duration[:, None]
    return out


def _session_windows(traj: Trajectory) -> Iterator[NDArray[np.bool_]]:
    """Masks over the saved days, one per session: from the session to the next one."""
    sessions = np.asarray(traj.session_days, dtype=float)
    ends = np.append(sessions[1:], np.inf) if sessions.size else sessions  # no session: none
    for start, end in zip(sessions, ends, strict=True):
        yield (traj.days >= start) & (traj.days < end)


def superficial_damage(state: FloatArray, thickness_um: FloatArray) -> FloatArray:
    """Thickness-weighted damage index of the viable epidermis and papillary dermis, ``(B, T)``."""
    h = thickness_um[:, [VE, PD]]
    return np.einsum("btl,bl->bt", state[:, :, [VE, PD], S.damage], h) / h.sum(axis=1)[:, None]


def _flare_duration(traj: Trajectory, tau_days: float, threshold: float) -> FloatArray:
    """Per saved day, ``tau * max(0, ln(D_s / theta_f))`` of the latest session.

    ``D_s`` is the session window's peak superficial damage (the damage index
    only decays between sessions, so the peak is its post-session value).
    """
    damage = superficial_damage(traj.state, traj.thickness_um)
    peak = _per_session_peak(traj, damage)
    with np.errstate(divide="ignore"):
        return tau_days * np.maximum(np.log(np.maximum(peak, 1e-300) / threshold), 0.0)


def _per_session_peak(traj: Trajectory, signal: FloatArray) -> FloatArray:
    """Per saved day, the maximum of ``signal`` over the latest session's window (0 before)."""
    out = np.zeros(signal.shape)
    for window in _session_windows(traj):
        if window.any():
            out[:, window] = signal[:, window].max(axis=1)[:, None]
    return out


def compute_observables(
    traj: Trajectory, severity: Severity | str, params: OutcomeParameters | None = None
) -> dict[str, FloatArray]:
    """Every observable of DESIGN.md as a ``(patients, days)`` array."""
    p = params or OutcomeParameters.from_data()
    sev = Severity(severity)
    f_sev = p.depth_factor(sev)
    out: dict[str, FloatArray] = {}

    kerat, kerat0 = _layer_value(traj, VE, [S.keratinocytes])
    out[Observable.epidermal_thickness_change_pct] = change_pct(kerat, kerat0)

    collagen = _dermal_mass(traj, [S.collagen_I, S.collagen_III])
    out[Observable.dermal_collagen_change_pct] = change_pct(*collagen)
    out[Observable.dermal_thickness_change_pct] = out[Observable.dermal_collagen_change_pct]
    col1 = _dermal_mass(traj, [S.collagen_I])
    col3 = _dermal_mass(traj, [S.collagen_III])
    out[Observable.collagen_I_change_pct] = change_pct(*col1)
    out[Observable.collagen_III_change_pct] = change_pct(*col3)
    papillary = _layer_value(traj, PD, [S.collagen_I, S.collagen_III])
    out[Observable.papillary_collagen_change_pct] = change_pct(*papillary)

    elastin = _dermal_mass(traj, [S.tropoelastin, S.elastin_old])
    tropo = _dermal_mass(traj, [S.tropoelastin])
    out[Observable.total_elastin_change_pct] = change_pct(*elastin)
    out[Observable.tropoelastin_change_pct] = change_pct(*tropo)
    out[Observable.elasticity_change_pct] = (
        p.elasticity_weight_collagen_I * out[Observable.collagen_I_change_pct]
        + p.elasticity_weight_tropoelastin * out[Observable.tropoelastin_change_pct]
    )
    share = col1[0] / collagen[0]
    share0 = col1[1] / collagen[1]
    out[Observable.dermal_density_change_pct] = change_pct(share, share0)

    fill = -p.scar_fill_gain / f_sev
    out[Observable.scar_depth_change_pct] = np.maximum(
        fill * out[Observable.dermal_thickness_change_pct], -100.0
    )
    score = np.maximum(
        -p.scar_score_gain / f_sev * out[Observable.papillary_collagen_change_pct], -100.0
    )
    out[Observable.scar_score_change_pct] = score
    grade_pct = np.maximum(
        -p.scar_grade_gain / f_sev * out[Observable.papillary_collagen_change_pct], -100.0
    )
    grade0 = p.goodman_baron_grade[sev.value]
    out[Observable.scar_grade_change] = np.maximum(grade0 * grade_pct / 100.0, 1.0 - grade0)
    lemperle0 = p.lemperle_grade[sev.value]
    wrinkle = np.maximum(fill * out[Observable.papillary_collagen_change_pct], -100.0)
    out[Observable.wrinkle_grade_change] = lemperle0 * wrinkle / 100.0

    melanin = _layer_value(traj, VE, [S.melanin])
    out[Observable.melasma_index_change_pct] = change_pct(*melanin)

    pigment = np.maximum.accumulate(traj.state[:, :, VE, S.pigment_response], axis=1)
    with np.errstate(divide="ignore"):
        z = np.log(np.maximum(pigment, 1e-300) / p.pih_threshold) / p.pih_log_sd
    out[Observable.pih_incidence] = ndtr(z)

    inflamed = _per_session(
        traj,
        traj.state[:, :, PD, S.cytokines],
        lambda sig: np.full(sig.shape[0], p.erythema_inflammatory_fold),
    )
    flare = _flare_duration(traj, p.erythema_flare_time_constant_days, p.erythema_flare_threshold)
    out[Observable.erythema_duration_days] = np.maximum(flare, inflamed)
    open_area = traj.state[:, :, VE, S.open_channels]
    closure = _per_session(traj, open_area, lambda sig: p.channel_closed_fraction * sig.max(axis=1))
    out[Observable.channel_closure_hours] = 24.0 * closure
    return {str(k): v for k, v in out.items()}
