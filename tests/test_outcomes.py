"""Observation models on synthetic trajectories with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from needlesim.anatomy import Layer
from needlesim.biology.state import N_SPECIES, S
from needlesim.config import Observable
from needlesim.outcomes import OutcomeParameters, Trajectory, compute_observables
from needlesim.outcomes.observables import episode_duration

THICK = np.array([[17.0, 100.0, 200.0, 800.0, 5000.0]])
PD, RD, VE = Layer.papillary_dermis, Layer.reticular_dermis, Layer.viable_epidermis


def baseline() -> np.ndarray:
    y = np.zeros((1, 5, N_SPECIES))
    y[:, :, S.collagen_I] = 0.8
    y[:, :, S.collagen_III] = 0.15
    y[:, :, S.tropoelastin] = 0.05
    y[:, :, S.elastin_old] = 0.95
    y[:, VE, S.keratinocytes] = 1.0
    y[:, VE, S.melanin] = 1.0
    y[:, :, S.cytokines] = 1.0
    return y


def make(days: np.ndarray, edit, sessions=(0.0,)) -> Trajectory:
    base = baseline()
    state = np.repeat(base[:, None], days.size, axis=1)
    edit(state, days)
    return Trajectory(days, state, base, THICK, np.asarray(sessions))


def test_unchanged_skin_reports_no_change() -> None:
    days = np.linspace(0, 100, 11)
    obs = compute_observables(make(days, lambda s, d: None), "moderate")
    for name in (
        Observable.dermal_collagen_change_pct,
        Observable.epidermal_thickness_change_pct,
        Observable.scar_score_change_pct,
        Observable.wrinkle_grade_change,
        Observable.erythema_duration_days,
        Observable.channel_closure_hours,
    ):
        np.testing.assert_allclose(obs[name], 0.0, atol=1e-12)
    assert set(obs) == {o.value for o in Observable}


def test_dermal_collagen_is_thickness_weighted() -> None:
    def edit(state, days):
        state[:, 1:, PD, S.collagen_I] *= 2.0  # papillary collagen I doubles

    obs = compute_observables(make(np.array([0.0, 10.0]), edit), "moderate")
    # stained-area fraction A = V_col / (V_col + (1 - A_0) h): A_0 0.9335 (Branchet 1991)
    a0, fold = 0.9335, (0.95 + 0.8) / 0.95
    papillary = 100 * (a0 * fold / (a0 * fold + 1 - a0) / a0 - 1)
    assert obs[Observable.papillary_collagen_change_pct][0, 1] == pytest.approx(papillary)
    dermal = 100 * 200 * 0.8 / (1000 * 0.95)
    assert obs[Observable.dermal_collagen_change_pct][0, 1] == pytest.approx(dermal)
    assert obs[Observable.collagen_III_change_pct][0, 1] == pytest.approx(0.0)
    # more collagen -> scars shallower, better scores and grades (negative)
    assert obs[Observable.scar_depth_change_pct][0, 1] < 0
    assert obs[Observable.scar_grade_change][0, 1] < 0
    assert obs[Observable.wrinkle_grade_change][0, 1] < 0


def test_deeper_lesions_improve_less_in_relative_terms() -> None:
    def edit(state, days):
        state[:, 1:, PD : RD + 1, S.collagen_I] *= 1.2

    traj = make(np.array([0.0, 10.0]), edit)
    mild = compute_observables(traj, "mild")[Observable.scar_depth_change_pct][0, 1]
    severe = compute_observables(traj, "severe")[Observable.scar_depth_change_pct][0, 1]
    assert mild < severe < 0


def test_grade_never_below_one() -> None:
    """All lesions filled: the latent severity reaches 1 (macular) and the expected rounded
    reading approaches grade 1 from above (rater sd 0.25)."""

    def edit(state, days):
        state[:, 1:, PD, S.collagen_I] *= 50.0

    obs = compute_observables(make(np.array([0.0, 10.0]), edit), "severe")
    change = obs[Observable.scar_grade_change][0, 1]
    assert 1.0 - 4.0 < change < 1.0 - 4.0 + 0.1
    assert obs[Observable.scar_score_change_pct][0, 1] == pytest.approx(-100.0, abs=1e-6)


def test_pih_probability_rises_with_the_pigment_peak_and_stays() -> None:
    params = OutcomeParameters.from_data()
    days = np.linspace(0, 30, 31)

    def edit(state, d):
        state[:, :, VE, S.pigment_response] = 3 * params.pih_threshold * np.exp(-((d - 5) ** 2))

    pih = compute_observables(make(days, edit), "moderate", params)[Observable.pih_incidence][0]
    assert pih[0] < 0.05 and pih[-1] > 0.9
    assert np.all(np.diff(pih) >= -1e-12)  # a PIH episode is not undone by fading


def test_channel_closure_is_an_exponential_time_constant() -> None:
    days = np.linspace(0, 3, 3001)
    tau_days = 0.25

    def edit(state, d):
        state[:, :, VE, S.open_channels] = 0.03 * np.exp(-d / tau_days)

    params = OutcomeParameters.from_data()
    hours = compute_observables(make(days, edit), "moderate", params)[
        Observable.channel_closure_hours
    ][0, -1]
    expected = 24 * tau_days * np.log(1 / params.channel_closed_fraction)
    assert hours == pytest.approx(expected, rel=1e-3)


def test_inflammatory_erythema_restarts_at_each_session() -> None:
    days = np.linspace(0, 20, 2001)

    def edit(state, d):
        since = np.where(d >= 10, d - 10, d)
        amp = np.where(d >= 10, 12.0, 8.0)
        state[:, :, PD, S.cytokines] = 1 + amp * np.exp(-since)

    params = OutcomeParameters.from_data()
    ery = compute_observables(make(days, edit, sessions=(0.0, 10.0)), "moderate", params)[
        Observable.erythema_duration_days
    ][0]
    thr = params.erythema_inflammatory_fold
    assert ery[5] == pytest.approx(np.log(8.0 / (thr - 1)), rel=1e-3)
    assert ery[-1] == pytest.approx(np.log(12.0 / (thr - 1)), rel=1e-3)


def test_flare_lasts_tau_log_damage_over_threshold() -> None:
    """Acute flare: tau ln(D_s / theta_f), D_s the thickness-weighted superficial damage."""
    days = np.linspace(0, 20, 201)
    ve, pd = THICK[0, VE], THICK[0, PD]

    def edit(state, d):
        since = np.where(d >= 10, d - 10, d)
        state[:, :, VE, S.damage] = np.where(d >= 10, 0.4, 0.1) * np.exp(-0.5 * since)
        state[:, :, PD, S.damage] = np.where(d >= 10, 0.2, 0.05) * np.exp(-0.5 * since)

    params = OutcomeParameters.from_data()
    ery = compute_observables(make(days, edit, sessions=(0.0, 10.0)), "moderate", params)[
        Observable.erythema_duration_days
    ][0]
    tau, theta = params.erythema_flare_time_constant_days, params.erythema_flare_threshold
    for row, (d_ve, d_pd) in ((5, (0.1, 0.05)), (-1, (0.4, 0.2))):
        peak = (ve * d_ve + pd * d_pd) / (ve + pd)
        assert ery[row] == pytest.approx(tau * np.log(peak / theta), rel=1e-9)
    assert ery[-1] > ery[5]  # more damage, longer erythema

    def faint(state, d):
        state[:, :, PD, S.damage] = 0.5 * theta * np.exp(-d)

    none = compute_observables(make(days, faint), "moderate", params)
    np.testing.assert_allclose(none[Observable.erythema_duration_days], 0.0)


def test_episode_duration_censored_and_absent() -> None:
    t = np.linspace(0, 5, 51)
    sig = np.vstack([np.full_like(t, 10.0), np.zeros_like(t)])
    np.testing.assert_allclose(episode_duration(t, sig, np.array([1.0, 1.0])), [5.0, 0.0])
