"""Observables and spatial outputs of the patch level (issue 14, item 3).

The observables of a patch course are the ``layered`` level's formulas
(:func:`needlesim.outcomes.compute_observables`) on the patch's layer means; the
spatial outputs (new collagen against the distance from the channels, the share
of the dermis remodelled) are what only the patch can give. The courses are
``examples/patch-small.yaml`` on 100 um voxels (10 x 10 x 11, as the CLI tests of
``test_patch_healing.py``), about 5 s each once compiled.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from needlesim.anatomy import skin_for
from needlesim.biology import Covariates, baseline_state, default_parameters
from needlesim.config import Observable, RunConfig, read_yaml
from needlesim.course import simulate_course
from needlesim.course.patch import (
    PatchCourseResult,
    channel_distance_um,
    dermal_mask,
    dermis_remodelled,
    new_collagen,
    new_collagen_radial,
    patch_observables,
    rest_collagen,
    simulate_patch_course,
    summary,
)
from needlesim.outcomes import Trajectory, compute_observables
from needlesim.patch import PatchGrid
from needlesim.patch.spatial import axis_distance_um, radial_profile, remodelled_fraction

SPACING_UM = 100.0
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "patch-small.yaml"
GRADES = {str(Observable.scar_grade_change), str(Observable.wrinkle_grade_change)}


def _config(**changes: Any) -> RunConfig:
    raw: dict[str, Any] = read_yaml(EXAMPLE)
    for dotted, value in changes.items():
        section, key = dotted.split("__")
        target = raw[section] if section != "device" else raw["protocol"]["device"]
        target[key] = value
    return RunConfig.model_validate(raw)


@pytest.fixture(scope="module")
def course() -> PatchCourseResult:
    """examples/patch-small.yaml: two 1 mm pen sessions (2 passes) 30 days apart, 60 days."""
    return simulate_patch_course(_config(), spacing_um=SPACING_UM)


@pytest.fixture(scope="module")
def rest_course() -> PatchCourseResult:
    """The same patient without sessions."""
    return simulate_patch_course(_config(protocol__sessions=0), spacing_um=SPACING_UM)


# -- observables -----------------------------------------------------------------------------------


def test_without_injury_every_observable_stays_at_its_rest_value(
    rest_course: PatchCourseResult,
) -> None:
    observed = patch_observables(rest_course)
    assert set(observed) == {str(o) for o in Observable}
    for name, values in observed.items():
        assert np.all(np.isfinite(values)), name
        # constant over the course, at its day-0 (rest) value
        np.testing.assert_allclose(values, values[0], atol=1e-9, err_msg=name)
        if name.endswith("_pct") or name in GRADES:
            assert abs(values[0]) < 1e-9, (name, values[0])
    assert observed[Observable.erythema_duration_days][-1] == 0.0
    assert observed[Observable.channel_closure_hours][-1] == 0.0
    days, fraction = dermis_remodelled(rest_course, threshold=0.0)
    assert days[-1] == rest_course.end_day and np.all(fraction == 0.0)
    _, _, mean, count = new_collagen_radial(rest_course)
    assert np.all(np.isnan(mean)) and np.all(count == 0)  # no channels: no profile
    data = summary(rest_course)
    assert data["new_collagen_radial_profile"]["distance_um"] == []
    assert all(v == 0.0 for v in data["dermis_remodelled"]["fraction"])


def test_patch_observables_are_compute_observables_of_its_layer_means(
    course: PatchCourseResult,
) -> None:
    """The same implementation: compute_observables called here on the patch's layer means,
    with the patient's rest state and layer thicknesses from the biology and the anatomy
    (not from the course module), gives the patch's observables, all of them."""
    config = course.config
    skin = skin_for(config.patient)
    thickness = np.asarray(skin.thickness_um, dtype=float)
    cov = Covariates.of(thickness, config.patient.age_years, float(config.patient.fitzpatrick))
    rest = np.asarray(baseline_state(default_parameters(), cov))  # (layer, species)
    days, means = course.patch.layer_means()
    traj = Trajectory(
        days=days,
        state=np.transpose(means, (0, 2, 1))[None],
        baseline=rest[None],
        thickness_um=thickness[None],
        session_days=np.array([0.0, 30.0]),
    )
    direct = compute_observables(traj, config.patient.baseline_severity)
    ours = patch_observables(course)
    assert set(ours) == {str(o) for o in Observable}
    for name, values in direct.items():
        assert np.all(np.isfinite(ours[name])), name
        np.testing.assert_allclose(ours[name], values[0], rtol=1e-12, atol=1e-12, err_msg=name)
    # the summary reports them at the reported days
    data = summary(course)
    i = [int(np.argmin(np.abs(days - d))) for d in data["days"]]
    for name, entry in data["observables"].items():
        np.testing.assert_allclose(entry["values"], ours[name][i], rtol=1e-12, err_msg=name)


def test_layered_column_is_what_the_layered_level_reports(course: PatchCourseResult) -> None:
    """The summary's ``layered`` values are those of ``simulate_course`` on the same config,
    the grid observables included: both levels save on the same days."""
    layered = simulate_course(course.config)
    data = summary(course)
    idx = layered.trajectory.at_days(np.asarray(data["days"]))
    np.testing.assert_array_equal(layered.trajectory.days[idx], data["days"])
    for name, entry in data["observables"].items():
        np.testing.assert_allclose(
            entry["layered"], layered.observables[name][idx], rtol=1e-9, atol=1e-12, err_msg=name
        )
    # the patch makes new collagen, less of it than the layered level (docs/patch.md: the
    # response to concentrated injury is sublinear), and closes its channels alike
    patch_col = data["observables"]["dermal_collagen_change_pct"]
    assert 0.0 < patch_col["values"][-1] < patch_col["layered"][-1]
    closure = data["observables"]["channel_closure_hours"]
    assert closure["values"][-1] == pytest.approx(closure["layered"][-1], rel=0.05)


# -- spatial outputs -------------------------------------------------------------------------------


def test_new_collagen_is_lowest_next_to_the_channels(course: PatchCourseResult) -> None:
    """At the end (day 60, the most new collagen) the dermis within 40 um of a channel axis
    holds less new collagen than the dermis beyond 100 um: the neutrophils and inflammatory
    macrophages that the clot of the tracks recruits do not migrate on the patch, so their
    MMPs degrade collagen around the channels, while the growth factors that drive its
    synthesis diffuse over the whole patch in hours (docs/patch.md)."""
    days, change = new_collagen(course)
    assert days[-1] == course.end_day
    total = [float(c[dermal_mask(course.grid)].mean()) for c in change]
    assert int(np.argmax(total)) == len(days) - 1
    distance = channel_distance_um(course, course.end_day)
    dermis = dermal_mask(course.grid)
    near = change[-1][dermis & (distance < 40.0)].mean()
    far = change[-1][dermis & (distance >= 100.0)].mean()
    assert 0.0 < near < 0.95 * far, (near, far)


def test_radial_profile_accounts_for_every_voxel(course: PatchCourseResult) -> None:
    """The voxel-weighted mean of the radial profile of each row is the row's lateral mean
    of new collagen (every voxel is in one bin), at every reported day."""
    days, _, mean, count = new_collagen_radial(course)
    _, change = new_collagen(course)
    grid = course.grid
    for t in range(days.size):
        assert np.all(count[t].sum(axis=0) == grid.nx * grid.ny)
        weighted = np.nansum(mean[t] * count[t], axis=0) / count[t].sum(axis=0)
        np.testing.assert_allclose(weighted, change[t].mean(axis=(0, 1)), rtol=1e-12, atol=1e-15)


def test_remodelled_fraction_grows_with_the_threshold_lowered_time_and_channels(
    course: PatchCourseResult,
) -> None:
    """A share in [0, 1]; more remodelled dermis at a lower threshold, after the second
    session, and with more channels (two passes against one, same day after one session)."""
    days, default = dermis_remodelled(course)
    assert np.all((default >= 0.0) & (default <= 1.0))
    _, low = dermis_remodelled(course, threshold=0.03)
    assert np.all(low >= default)
    i30, i60 = int(np.searchsorted(days, 30.0)), int(np.searchsorted(days, 60.0))
    assert low[i60] > low[i30] > 0.0
    one_pass = simulate_patch_course(
        _config(device__passes=1, protocol__sessions=1, simulation__duration_days=30),
        spacing_um=SPACING_UM,
    )
    d1, f1 = dermis_remodelled(one_pass, threshold=0.03)
    assert d1[-1] == 30.0
    assert f1[-1] < low[i30], (f1[-1], low[i30])


def test_axis_distance_is_the_lateral_distance_to_the_nearest_periodic_axis() -> None:
    grid = PatchGrid.with_layers((10, 10, 4), (10.0, 10.0, 25.0), [1, 2, 3, 3])
    d = axis_distance_um(grid, [5.0], [5.0])  # an axis through the first voxel centre
    assert d[0, 0, 0] == 0.0 and np.all(d[0, 0] == 0.0)
    assert d[1, 0, 0] == pytest.approx(10.0)
    assert d[9, 0, 0] == pytest.approx(10.0)  # the periodic image, not 90 um away
    assert d.max() == pytest.approx(np.hypot(50.0, 50.0))
    # tilted by 45 degrees in x: the axis moves 1 um in x per um of depth
    tilted = axis_distance_um(grid, [5.0], [5.0], 45.0)
    for k, z in enumerate(grid.z_um):
        i = round(z / 10.0) % 10
        assert tilted[i, 0, k] == pytest.approx(abs((5.0 + z) - grid.x_um[i]), abs=1e-9)
    assert np.all(np.isinf(axis_distance_um(grid, [], [])))


def test_radial_profile_and_remodelled_fraction_on_a_known_field() -> None:
    grid = PatchGrid.with_layers((10, 10, 2), (10.0, 10.0, 10.0), [2, 3])
    distance = axis_distance_um(grid, [5.0], [5.0])
    values = np.broadcast_to(np.exp(-distance / 20.0), grid.shape).copy()
    values[..., 1] *= 2.0
    mean, count = radial_profile(values, distance, np.array([0.0, 5.0, 12.0, 1000.0]))
    assert count[:, 0].tolist() == [1, 4, 95] and np.all(count[:, 1] == count[:, 0])
    assert mean[0, 0] == 1.0 and mean[1, 0] == pytest.approx(np.exp(-0.5))
    np.testing.assert_allclose(mean[:, 1], 2.0 * mean[:, 0])
    layer, n = radial_profile(values, distance, np.array([0.0, 5.0]), np.array([0, 0]), 1)
    assert n[0, 0] == 2 and layer[0, 0] == pytest.approx(1.5)
    rest = np.ones(grid.shape)
    region = np.ones(grid.shape, dtype=bool)
    assert remodelled_fraction(rest * 1.2, rest, region, 0.1) == 1.0
    assert remodelled_fraction(rest * 0.85, rest, region, 0.1) == 1.0  # loss counts too
    assert remodelled_fraction(rest * 1.05, rest, region, 0.1) == 0.0
    half = rest.copy()
    half[:5] = 1.5
    assert remodelled_fraction(half, rest, region, 0.1) == 0.5
    assert np.isnan(remodelled_fraction(half, rest, region & False, 0.1))


def test_rest_collagen_is_the_rest_state_of_the_dermis(course: PatchCourseResult) -> None:
    rest = rest_collagen(course)
    dermis = dermal_mask(course.grid)
    assert np.all(rest[dermis] > 0.0)
    np.testing.assert_allclose(new_collagen(course)[1][0], 0.0, atol=1e-12)  # day 0


def test_a_run_that_ends_before_a_session_simulates_the_sessions_before_its_end(
    course: PatchCourseResult,
) -> None:
    """``duration_days`` shorter than the schedule: both levels run to the end without the
    later sessions (the patch refused the run with a library error before), and the run's
    warnings say so; up to that day it is the full course's run."""
    short = simulate_patch_course(_config(simulation__duration_days=20), spacing_um=SPACING_UM)
    assert short.end_day == 20.0
    np.testing.assert_array_equal(short.session_days, [0.0])
    assert len(short.devices) == 1
    warnings = summary(short)["warnings"]
    late = [w for w in warnings if w["code"] == "sessions_after_end"]
    assert len(late) == 1 and late[0]["field"] == "simulation.duration_days"
    assert "day 30" in late[0]["message"]
    assert not [w for w in summary(course)["warnings"] if w["code"] == "sessions_after_end"]
    # the same first session: the observables of the two runs agree up to day 14
    for name, values in patch_observables(short).items():
        full = patch_observables(course)[name]
        t_short, t_full = short.patch.profiles()[0], course.patch.profiles()[0]
        for day in (1.0, 7.0, 14.0):
            a = values[int(np.argmin(np.abs(t_short - day)))]
            b = full[int(np.argmin(np.abs(t_full - day)))]
            assert np.isclose(a, b, rtol=2e-3, atol=1e-6) or (np.isnan(a) and np.isnan(b)), (
                name,
                day,
                a,
                b,
            )
