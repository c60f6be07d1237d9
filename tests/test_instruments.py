"""Each observable read by its instrument: ceilings, floors, fill response, NumPy = JAX, gradients.

Synthetic cohorts: each patient's papillary and reticular collagen grow by their own factor,
with an inflammatory (cytokine) episode early, so per-patient readings differ.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from needlesim.anatomy import Layer
from needlesim.biology.state import N_SPECIES, S
from needlesim.config import Observable
from needlesim.outcomes import OutcomeParameters, Trajectory, observe

Ob = Observable
PD, RD, VE = Layer.papillary_dermis, Layer.reticular_dermis, Layer.viable_epidermis
DAYS = np.array([0.0, 2.0, 30.0, 90.0, 180.0])


def cohort(growth: np.ndarray, tropo: float = 3.0, cytokine_peak: float = 5.0) -> Trajectory:
    """``growth[b]``: fold of dermal collagen I at day 180 (III rises first, then falls)."""
    b = growth.size
    base = np.zeros((b, 5, N_SPECIES))
    base[:, :, S.collagen_I] = 0.8
    base[:, :, S.collagen_III] = 0.15
    base[:, :, S.tropoelastin] = 0.05
    base[:, :, S.elastin_old] = 0.95
    base[:, :, S.cytokines] = 1.0
    base[:, VE, S.keratinocytes] = 1.0
    base[:, VE, S.melanin] = 1.0
    state = np.repeat(base[:, None], DAYS.size, axis=1)
    ramp = np.clip(DAYS / 180.0, 0, 1)[None, :, None]
    g = growth[:, None, None]
    state[:, :, PD : RD + 1, S.collagen_I] *= 1 + (g - 1) * ramp
    state[:, :, PD : RD + 1, S.collagen_III] *= 1 + (g - 1) * np.sin(np.pi * ramp)
    state[:, :, PD : RD + 1, S.tropoelastin] *= 1 + (tropo - 1) * np.sin(np.pi * ramp)
    state[:, :, :, S.cytokines] += (cytokine_peak - 1) * np.exp(-DAYS / 2.0)[None, :, None]
    state[:, 0, :, S.cytokines] = 1.0
    state[:, :, VE, S.melanin] *= (1 - 0.3 * ramp[..., 0]) / g[..., 0]
    thick = np.tile([17.0, 100.0, 200.0, 800.0, 5000.0], (b, 1))
    return Trajectory(DAYS, state, base, thick, np.array([0.0]))


GROWTH = np.array([0.7, 0.95, 1.05, 1.2, 1.5, 2.5, 6.0, 30.0])


@pytest.mark.parametrize("severity", ["mild", "moderate", "severe"])
def test_readings_stay_on_their_scales(severity: str) -> None:
    table = OutcomeParameters.from_data(fitted=False)
    p = table.at(severity)
    obs = observe(cohort(GROWTH, tropo=50.0), p)
    assert all(np.all(np.isfinite(v)) for v in obs.values())
    g0, l0 = p.goodman_baron_grade, p.lemperle_grade
    assert np.all(obs[Ob.scar_grade_change] >= 1.0 - g0) and np.all(
        obs[Ob.scar_grade_change] <= 4.0 - g0 + 0.05
    )
    assert np.all(obs[Ob.wrinkle_grade_change] >= -l0) and np.all(
        obs[Ob.wrinkle_grade_change] <= 5.0 - l0 + 0.05
    )
    ceiling = 100.0 * (1.0 / table.cutometer_r0 - 1.0)
    assert np.all(obs[Ob.elasticity_change_pct] < ceiling)
    assert obs[Ob.elasticity_change_pct].max() > 0.5 * ceiling  # the ceiling is approached
    # stained area fraction A = A_0 (1 + change / 100) <= 1
    area = table.stained_area_papillary * (1 + obs[Ob.papillary_collagen_change_pct] / 100)
    assert np.all(area <= 1.0)
    for name in (Ob.scar_score_change_pct, Ob.scar_depth_change_pct, Ob.melasma_index_change_pct):
        assert np.all(obs[name] >= -100.0), name
    # the 30-fold patient has every lesion filled: the score saturates at -100 %
    assert obs[Ob.scar_score_change_pct][-1, -1] == pytest.approx(-100.0, abs=0.5)


def test_ultrasound_thickness_is_not_the_collagen_amount() -> None:
    obs = observe(cohort(GROWTH), OutcomeParameters.from_data(fitted=False).at("moderate"))
    thick, coll = obs[Ob.dermal_thickness_change_pct], obs[Ob.dermal_collagen_change_pct]
    assert not np.allclose(thick, coll)
    # day 2 (patients with modest growth): oedema thickens the dermis before much collagen is
    # made, and dilutes the echoes and the stained area
    early = slice(0, 5)
    assert np.all(thick[early, 1] > coll[early, 1] + 1.0)
    assert np.all(obs[Ob.dermal_density_change_pct][early, 1] < 0.0)
    assert np.all(obs[Ob.papillary_collagen_change_pct][early, 1] < 0.0)
    # day 180, oedema gone: thickness follows the collagen volume (a share A_0 < 1 of the dermis)
    assert np.all(np.sign(thick[:, -1]) == np.sign(coll[:, -1]))
    assert np.all(np.abs(thick[:, -1]) < np.abs(coll[:, -1]))


@pytest.mark.parametrize("severity", ["mild", "moderate", "severe"])
def test_more_fill_more_improvement(severity: str) -> None:
    """Across patients ordered by collagen growth every clinical reading improves monotonically,
    and the per-patient readings differ."""
    obs = observe(cohort(GROWTH), OutcomeParameters.from_data(fitted=False).at(severity))
    for name in (
        Ob.scar_depth_change_pct,
        Ob.scar_score_change_pct,
        Ob.scar_grade_change,
        Ob.wrinkle_grade_change,
    ):
        last = obs[name][:, -1]
        assert np.all(np.diff(last) <= 1e-12), name
        assert last[0] > 0 > last[-2], name  # collagen loss deepens, gain fills
        assert np.unique(np.round(last, 9)).size > 4, name
    for name in (Ob.elasticity_change_pct, Ob.dermal_density_change_pct):
        assert np.all(np.diff(obs[name][:, -1]) > 0), name


def test_deeper_lesions_improve_less() -> None:
    table = OutcomeParameters.from_data(fitted=False)
    traj = cohort(np.array([1.3]))
    score = {
        s: observe(traj, table.at(s))[Ob.scar_score_change_pct][0, -1]
        for s in table.severity_depth_factor
    }
    assert score["mild"] < score["moderate"] < score["severe"] < 0


def _jax(traj: Trajectory) -> Trajectory:
    return Trajectory(*(jnp.asarray(x) for x in traj.__dict__.values()))


def test_numpy_and_jax_agree_and_gradients_are_finite() -> None:
    traj = cohort(GROWTH)
    p = OutcomeParameters.from_data(fitted=False).at("moderate")
    expected = observe(traj, p)
    jp = type(p)(*(jnp.asarray(x, dtype=jnp.float64) for x in p))
    fields = tuple(_jax(traj).__dict__.values())
    got = jax.jit(lambda arrays, q: observe(Trajectory(*arrays), q))(fields, jp)
    for name, value in expected.items():
        np.testing.assert_allclose(got[name], value, rtol=1e-10, atol=1e-10, err_msg=name)

    def total(q, state):
        t = Trajectory(
            traj.days, state, jnp.asarray(traj.baseline), traj.thickness_um, traj.session_days
        )
        o = observe(t, q)
        return sum(
            jnp.sum(o[n.value])
            for n in Ob
            if n not in (Ob.erythema_duration_days, Ob.channel_closure_hours)
        )

    g_p, g_s = jax.grad(total, argnums=(0, 1))(jp, jnp.asarray(traj.state))
    assert all(np.isfinite(float(x)) for x in g_p)
    assert np.all(np.isfinite(np.asarray(g_s)))
    for gain in (
        "scar_fill_gain",
        "scar_score_gain",
        "scar_grade_gain",
        "wrinkle_fill_gain",
        "echo_gain",
        "elasticity_exponent",
        "masi_exponent",
    ):
        assert float(getattr(g_p, gain)) != 0.0, gain  # every gain moves its reading
