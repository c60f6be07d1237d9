"""Patch grid geometry and the stamping of needle channels onto it."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from needlesim.anatomy import Layer, SkinProfile
from needlesim.patch import (
    PatchGrid,
    Session,
    channel_damage,
    cone_volume_um3,
    damage_from_punctures,
)

SKIN = SkinProfile(thickness_um=(15.0, 85.0, 200.0, 1200.0, 1500.0))


def test_grid_from_skin_layers_follow_depth() -> None:
    grid = PatchGrid.from_skin(SKIN, side_um=400.0, spacing_um=20.0, depth_um=2500.0)
    assert grid.shape == (20, 20, 125)
    assert grid.lengths_um == (400.0, 400.0, 2500.0)
    np.testing.assert_allclose(grid.z_um[:3], [10.0, 30.0, 50.0])
    np.testing.assert_array_equal(grid.layer_of_z, SKIN.layer_at(grid.z_um))
    assert grid.layer_of_z[0] == Layer.stratum_corneum
    assert grid.layer_of_z[-1] == Layer.hypodermis
    assert grid.layer_fraction().sum() == pytest.approx(1.0)
    assert grid.layer_index().shape == grid.shape


def test_grid_below_the_stack_is_hypodermis_and_per_layer_expands() -> None:
    grid = PatchGrid.from_skin(SKIN, side_um=100.0, spacing_um=50.0, depth_um=4000.0)
    assert grid.layer_of_z[-1] == Layer.hypodermis
    values = np.arange(5.0)
    np.testing.assert_array_equal(grid.per_layer(values), values[grid.layer_of_z])
    np.testing.assert_array_equal(grid.per_layer(2.0), np.full(grid.nz, 2.0))
    with pytest.raises(ValueError):
        grid.per_layer([1.0, 2.0])


def test_grid_validates_its_inputs() -> None:
    with pytest.raises(ValueError):
        PatchGrid((4, 4, 4), (1.0, 1.0, -1.0), np.zeros(4, dtype=np.int64))
    with pytest.raises(ValueError):
        PatchGrid((4, 4, 4), (1.0, 1.0, 1.0), np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError):
        PatchGrid.with_layers((2, 2, 2), 1.0, [0, 7])


def test_channel_volume_matches_the_cone() -> None:
    grid = PatchGrid.uniform((40, 40, 40), 5.0)
    depth, diameter = 150.0, 120.0
    damage = channel_damage(grid, [100.0], [100.0], [depth], [diameter], samples=4)
    volume = damage.sum() * grid.voxel_volume_um3
    assert volume == pytest.approx(cone_volume_um3(depth, diameter), rel=0.03)
    assert damage.min() >= 0.0 and damage.max() <= 1.0
    # nothing below the tip
    assert damage[:, :, grid.depth_index(depth) + 1 :].max() == 0.0


@pytest.mark.parametrize("tilt", [0.0, 20.0])
def test_channels_follow_the_device_needle(tilt: float) -> None:
    """With the device's needle (a cone with a blunt tip, tilted) the rasterised channel
    holds the track volume of the device model (:meth:`NeedleGeometry.track_volume_um3`)."""
    from needlesim.device import NeedleGeometry

    needle = NeedleGeometry(
        length_um=500.0, base_diameter_um=250.0, tip_radius_um=5.0, tilt_deg=tilt
    )
    grid = PatchGrid.uniform((40, 40, 30), 5.0)
    depth = 140.0
    damage = channel_damage(grid, [60.0], [100.0], [depth], [0.0], samples=4, needle=needle)
    expected = float(needle.track_volume_um3(depth, 0.0, depth))
    assert damage.sum() * grid.voxel_volume_um3 == pytest.approx(expected, rel=0.05)
    # a tilted track leans towards +x: its deepest voxels lie off the entry column
    deep = damage[:, :, grid.depth_index(depth - 10.0)]
    x_tip = (np.argwhere(deep > 0)[:, 0].mean() + 0.5) * 5.0
    assert x_tip == pytest.approx(60.0 + depth * np.tan(np.radians(tilt)), abs=5.0)


def test_channel_margin_widens_the_damage() -> None:
    grid = PatchGrid.uniform((24, 24, 24), 5.0)
    bare = channel_damage(grid, [60.0], [60.0], [80.0], [40.0])
    wide = channel_damage(grid, [60.0], [60.0], [80.0], [40.0], margin_um=10.0)
    assert wide.sum() > bare.sum()
    assert np.all(wide >= bare - 1e-12)


def test_channels_wrap_around_the_periodic_sides() -> None:
    grid = PatchGrid.uniform((20, 20, 10), 10.0)
    damage = channel_damage(grid, [1.0], [100.0], [60.0], [60.0])
    assert damage[0].sum() > 0 and damage[-1].sum() > 0
    shifted = channel_damage(grid, [201.0], [100.0], [60.0], [60.0])  # x + L
    np.testing.assert_allclose(damage, shifted)


def test_overlapping_channels_combine_as_a_union_bound() -> None:
    grid = PatchGrid.uniform((20, 20, 10), 10.0)
    one = channel_damage(grid, [100.0], [100.0], [80.0], [80.0])
    two = channel_damage(grid, [100.0, 100.0], [100.0, 100.0], [80.0, 80.0], [80.0, 80.0])
    assert np.all(two <= 1.0)
    np.testing.assert_allclose(two, 1.0 - (1.0 - one) ** 2)


def test_damage_from_punctures_windows_and_skips_unpierced() -> None:
    grid = PatchGrid.uniform((10, 10, 10), 20.0)  # 200 um patch
    punctures = SimpleNamespace(
        x_um=np.array([50.0, 150.0, 350.0, 120.0]),
        y_um=np.array([50.0, 150.0, 50.0, 60.0]),
        penetration_depth_um=np.array([100.0, 120.0, 100.0, 0.0]),
        surface_diameter_um=np.array([40.0, 40.0, 40.0, 40.0]),
    )
    damage = damage_from_punctures(grid, punctures)
    expected = channel_damage(grid, [50.0, 150.0], [50.0, 150.0], [100.0, 120.0], [40.0, 40.0])
    np.testing.assert_allclose(damage, expected)
    moved = damage_from_punctures(grid, punctures, origin_um=(200.0, 0.0))
    np.testing.assert_allclose(moved, channel_damage(grid, [150.0], [50.0], [100.0], [40.0]))


def test_session_damage_from_a_function_uses_the_run_generator() -> None:
    grid = PatchGrid.uniform((8, 8, 8), 10.0)

    def draw(g: PatchGrid, rng: np.random.Generator) -> np.ndarray:
        return channel_damage(g, rng.uniform(0, 80, 2), rng.uniform(0, 80, 2), [50.0] * 2, [30.0])

    a = Session(1.0, draw).damage_field(grid, np.random.default_rng(3))
    b = Session(1.0, draw).damage_field(grid, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError):
        Session(1.0, np.zeros((2, 2, 2))).damage_field(grid, np.random.default_rng(0))


def test_summed_channels_count_overlaps_and_widen_by_a_radius_scale() -> None:
    grid = PatchGrid.uniform((20, 20, 12), 5.0)
    one = channel_damage(grid, [50.0], [50.0], [50.0], [40.0], combine="sum")
    two = channel_damage(grid, [50.0] * 2, [50.0] * 2, [50.0] * 2, [40.0], combine="sum")
    np.testing.assert_allclose(two, 2.0 * one)
    wide = channel_damage(grid, [50.0], [50.0], [50.0], [40.0], combine="sum", radius_scale=2.0)
    # cross-section x4 at every depth
    assert wide.sum() == pytest.approx(4.0 * one.sum(), rel=0.03)


def test_dilation_margin_holds_the_requested_volume() -> None:
    from needlesim.patch.events import dilation_margin_um

    grid = PatchGrid.uniform((60, 60, 40), 5.0)  # 300 x 300 x 200 um
    depth, diameter, factor = 120.0, 40.0, 8.0
    (margin,) = dilation_margin_um(np.array([depth]), np.array([diameter]), factor)
    assert margin > 0
    dilated = channel_damage(
        grid, [150.0], [150.0], [depth], [diameter], margin_um=margin, combine="sum"
    )
    volume = dilated.sum() * grid.voxel_volume_um3
    assert volume == pytest.approx(factor * cone_volume_um3(depth, diameter), rel=0.03)
    assert dilation_margin_um(np.array([depth]), np.array([diameter]), 1.0)[0] == 0.0


def test_surface_opening_is_the_covered_footprint() -> None:
    from needlesim.patch.events import surface_opening

    grid = PatchGrid.uniform((40, 40, 4), 5.0)  # 200 um patch
    punctures = SimpleNamespace(
        x_um=np.array([50.0, 195.0, 120.0]),
        y_um=np.array([50.0, 100.0, 120.0]),
        penetration_depth_um=np.array([100.0, 100.0, 0.0]),  # the last did not pierce
        surface_diameter_um=np.array([40.0, 40.0, 40.0]),
    )
    opened = surface_opening(grid, punctures)
    assert opened.shape == (40, 40)
    area = 2 * np.pi * 20.0**2 / 200.0**2  # two discs, one wrapping across x = 200
    assert opened.mean() == pytest.approx(area, rel=0.03)
    assert opened.max() == 1.0 and opened.min() == 0.0


def test_session_damage_may_have_several_fields() -> None:
    grid = PatchGrid.uniform((4, 4, 4), 10.0)
    fields = np.zeros((3, *grid.shape))
    fields[1] = 2.5  # a model-defined field may exceed 1
    got = Session(0.0, fields).damage_field(grid, np.random.default_rng(0))
    assert got.shape == (3, *grid.shape)
    with pytest.raises(ValueError):
        Session(0.0, -fields).damage_field(grid, np.random.default_rng(0))
    with pytest.raises(ValueError):
        Session(0.0, fields[1]).damage_field(grid, np.random.default_rng(0))  # one field > 1
