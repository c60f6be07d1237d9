"""Kinematics of roller, pen and stamp: densities, pass directions, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

from needlesim.anatomy import skin_profile
from needlesim.config import PenDevice, RollerDevice, RollPattern, StampDevice
from needlesim.device import (
    Punctures,
    cartridge_layout_um,
    pen_density_per_cm2,
    pen_punctures_per_second,
    roller_density_per_cm2,
    simulate_punctures,
    stamp_density_per_cm2,
    summarize_injury,
)
from needlesim.device._frame import pass_angles_deg

SKIN = skin_profile("cheek", "female", 40)
ARRAYS = (
    "x_um",
    "y_um",
    "nominal_depth_um",
    "penetration_depth_um",
    "channel_depth_um",
    "surface_diameter_um",
    "pass_index",
)


def density_per_cm2(p: Punctures) -> float:
    return len(p) / p.sample_area_cm2


def mean_density(device: RollerDevice | PenDevice | StampDevice, side_mm: float, n: int) -> float:
    return float(
        np.mean(
            [
                density_per_cm2(simulate_punctures(device, SKIN, side_mm, np.random.default_rng(s)))
                for s in range(n)
            ]
        )
    )


def test_roller_density_per_pass_is_needles_over_drum_area() -> None:
    # 192 needles, 20 mm drum, 20 mm width: 192 / (pi * 2 cm * 2 cm)
    assert roller_density_per_cm2(RollerDevice()) == pytest.approx(15.279, abs=1e-3)


def test_roller_density_grows_linearly_with_passes() -> None:
    per_pass = [mean_density(RollerDevice(passes=n), 40.0, 3) / n for n in (1, 5, 10, 15)]
    expected = roller_density_per_cm2(RollerDevice())
    np.testing.assert_allclose(per_pass, expected, rtol=0.03)


@pytest.mark.parametrize("seed", range(5))
def test_roller_15_passes_gives_the_published_density(seed: int) -> None:
    # Doddaballapur 2009: about 250 holes/cm2 for 15 rolls; expected 15 x 15.28 = 229
    p = simulate_punctures(RollerDevice(passes=15), SKIN, 20.0, np.random.default_rng(seed))
    assert 225.0 <= density_per_cm2(p) <= 255.0


def test_pen_punctures_per_second() -> None:
    pen = PenDevice(needle_count=11, stroke_frequency_hz=90.0, passes=1)
    assert pen_punctures_per_second(pen) == 990.0
    p = simulate_punctures(pen, SKIN, 5.0, np.random.default_rng(0))
    assert summarize_injury(p, SKIN, pen).punctures_per_second == 990.0
    assert summarize_injury(p, SKIN, RollerDevice()).punctures_per_second is None


def test_pen_density_scales_as_inverse_glide_speed() -> None:
    products = []
    for speed in (10.0, 20.0, 40.0):
        pen = PenDevice(needle_count=11, glide_speed_mm_s=speed, passes=1)
        density = mean_density(pen, 30.0, 4)
        assert density == pytest.approx(pen_density_per_cm2(pen), rel=0.03)
        products.append(density * speed)
    np.testing.assert_allclose(products, products[0], rtol=0.04)


def test_pen_density_grows_linearly_with_passes() -> None:
    per_pass = [mean_density(PenDevice(passes=n), 30.0, 4) / n for n in (1, 2, 4)]
    np.testing.assert_allclose(per_pass, pen_density_per_cm2(PenDevice()), rtol=0.03)


def test_pen_layout_fills_the_cartridge_disc() -> None:
    pen = PenDevice(needle_count=12, cartridge_diameter_mm=7.0)
    u, v = cartridge_layout_um(pen)
    r = np.hypot(u, v)
    assert u.size == 12 and np.all(r <= 3500.0)
    assert np.unique(np.round(np.column_stack([u, v]), 6), axis=0).shape[0] == 12


def test_stamp_density_is_passes_times_needles_over_head_area() -> None:
    stamp = StampDevice(needle_count=36, head_width_mm=6.0, head_length_mm=6.0, passes=4)
    assert stamp_density_per_cm2(stamp) == pytest.approx(100.0)
    assert mean_density(stamp, 20.0, 3) == pytest.approx(400.0, rel=0.03)


def test_pass_directions_follow_the_pattern() -> None:
    np.testing.assert_array_equal(pass_angles_deg(RollPattern.parallel, 3), [0, 0, 0])
    np.testing.assert_array_equal(pass_angles_deg(RollPattern.crosshatch, 3), [0, 90, 0])
    np.testing.assert_array_equal(pass_angles_deg(RollPattern.star, 5), [0, 45, 90, 135, 0])


def test_roller_rings_run_along_the_rolling_direction() -> None:
    """Rolling along x, each ring leaves its punctures on one line y = const (and along y
    for the 90 degree pass of a crosshatch): few distinct y (resp. x) values."""
    roller = RollerDevice(passes=2, pattern=RollPattern.crosshatch)
    p = simulate_punctures(roller, SKIN, 20.0, np.random.default_rng(5))
    first, second = p.pass_index == 0, p.pass_index == 1
    strips = 2  # a 20 mm sample meets at most two 20 mm strips of an axis-aligned pass
    for along, across in ((p.x_um[first], p.y_um[first]), (p.y_um[second], p.x_um[second])):
        assert np.unique(np.round(across, 6)).size <= roller.rows * strips < along.size
        assert np.unique(np.round(along, 6)).size == along.size  # helical stagger


@pytest.mark.parametrize(
    "device",
    [RollerDevice(passes=3), PenDevice(passes=2), StampDevice(passes=3)],
    ids=["roller", "pen", "stamp"],
)
def test_same_seed_same_arrays_different_seed_same_statistics(
    device: RollerDevice | PenDevice | StampDevice,
) -> None:
    a = simulate_punctures(device, SKIN, 20.0, np.random.default_rng(42))
    b = simulate_punctures(device, SKIN, 20.0, np.random.default_rng(42))
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    c = simulate_punctures(device, SKIN, 20.0, np.random.default_rng(43))
    assert not np.array_equal(a.x_um[: min(len(a), len(c))], c.x_um[: min(len(a), len(c))])
    assert density_per_cm2(c) == pytest.approx(density_per_cm2(a), rel=0.05)
    assert c.penetration_depth_um.mean() == pytest.approx(a.penetration_depth_um.mean(), rel=0.02)
    assert c.penetration_depth_um.std() == pytest.approx(a.penetration_depth_um.std(), rel=0.3)


@pytest.mark.parametrize(
    "device",
    [RollerDevice(pattern=RollPattern.star), PenDevice(), StampDevice()],
    ids=["roller", "pen", "stamp"],
)
def test_punctures_lie_in_the_sample_and_are_labelled_by_pass(
    device: RollerDevice | PenDevice | StampDevice,
) -> None:
    p = simulate_punctures(device, SKIN, 7.5, np.random.default_rng(0))
    assert p.sample_side_um == 7500.0
    assert np.all((p.x_um >= 0) & (p.x_um < 7500.0) & (p.y_um >= 0) & (p.y_um < 7500.0))
    assert set(np.unique(p.pass_index)) == set(range(device.passes))
    assert np.all(p.nominal_depth_um == device.needle_length_um)


def test_no_passes_no_punctures() -> None:
    p = simulate_punctures(RollerDevice(passes=0), SKIN, 5.0, np.random.default_rng(0))
    assert len(p) == 0
    summary = summarize_injury(p, SKIN, RollerDevice(passes=0))
    assert summary.channel_density_per_cm2 == 0.0 and summary.coverage_fraction == 0.0
