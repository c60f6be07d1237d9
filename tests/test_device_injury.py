"""Injury summary: coverage, injured volume per layer, layers reached, bleeding, JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest
from numpy.typing import NDArray

from needlesim.anatomy import LAYER_NAMES, Layer, skin_profile
from needlesim.config import PenDevice, RollerDevice, RollPattern, StampDevice
from needlesim.device import (
    NeedleGeometry,
    Punctures,
    coverage_fraction,
    coverage_raster,
    simulate_punctures,
    summarize_injury,
)
from needlesim.device.injury import footprint_area_um2

SKIN = skin_profile("cheek", "female", 40)


def _pass_coverages(p: Punctures, tilt_deg: float) -> NDArray[np.float64]:
    """``c_p = sum_{i in p} a_i / A`` of every pass."""
    a = footprint_area_um2(p, tilt_deg)
    passes = int(p.pass_index.max()) + 1
    return np.bincount(p.pass_index, weights=a, minlength=passes) / p.sample_side_um**2


def test_coverage_formula_agrees_with_rasterised_union_for_independent_footprints() -> None:
    """Many passes with random offsets: footprints nearly independent (Boolean model)."""
    roller = RollerDevice(passes=100, pattern=RollPattern.star, needle_tilt_deg=0.0)
    for seed in (11, 12):
        p = simulate_punctures(roller, SKIN, 5.0, np.random.default_rng(seed))
        formula = coverage_fraction(p, 0.0)
        assert 0.1 < formula < 0.4  # a regime where overlap matters
        assert coverage_raster(p, pixel_um=2.5) == pytest.approx(formula, rel=0.03)


@pytest.mark.parametrize("tilt", [0.0, 20.0])
def test_coverage_formula_bias_on_a_dense_lattice_is_bounded(tilt: float) -> None:
    """A pen keeps footprints of one pass apart, so the Boolean formula over-counts
    overlap: the union exceeds it by at most ``sum_p c_p^2 / 2`` (to leading order)."""
    pen = PenDevice(passes=3, needle_length_mm=1.5, needle_tilt_deg=tilt)
    p = simulate_punctures(pen, SKIN, 5.0, np.random.default_rng(11))
    formula = coverage_fraction(p, tilt)
    raster = coverage_raster(p, pixel_um=2.5, tilt_deg=tilt)
    c = _pass_coverages(p, tilt)
    assert formula > 0.3
    assert formula - 0.01 <= raster <= formula + 0.5 * float(np.sum(c**2)) + 0.01
    assert raster == pytest.approx(1.0 - np.prod(1.0 - c), abs=0.01)


def test_raster_coverage_of_one_disc_is_its_area() -> None:
    one = StampDevice(needle_count=1, head_width_mm=6.0, head_length_mm=6.0, passes=1)
    p = simulate_punctures(one, SKIN, 6.0, np.random.default_rng(0))
    assert len(p) == 1
    area = np.pi * p.surface_diameter_um[0] ** 2 / 4 / 6000.0**2
    assert coverage_raster(p, pixel_um=2.0) == pytest.approx(area, rel=0.02)


@pytest.mark.parametrize(
    "device",
    [RollerDevice(needle_length_mm=0.5), RollerDevice(), PenDevice(needle_length_mm=2.5)],
    ids=["roller-0.5", "roller-1.5", "pen-2.5"],
)
def test_injured_volume_per_layer_is_conservative(
    device: RollerDevice | PenDevice,
) -> None:
    p = simulate_punctures(device, SKIN, 10.0, np.random.default_rng(2))
    summary = summarize_injury(p, SKIN, device)
    fractions = summary.injured_fraction_array()
    assert fractions.shape == (5,)
    assert np.all(fractions >= 0.0) and np.all(fractions < 1.0)
    # zero in layers that start below the deepest tip
    deepest = p.penetration_depth_um.max()
    below = SKIN.boundaries_um[:-1] >= deepest
    assert np.all(fractions[below] == 0.0)
    # layers above the tip are injured
    assert np.all(fractions[SKIN.boundaries_um[1:] <= p.penetration_depth_um.min()] > 0.0)
    # sum over layers of the channel volume = total analytic track volume
    needle = NeedleGeometry.from_device(device)
    area = p.sample_side_um**2
    per_layer = fractions * area * np.asarray(SKIN.thickness_um)
    total = needle.volume_um3(0.0, p.penetration_depth_um / needle.cos_tilt).sum()
    assert per_layer.sum() == pytest.approx(total, rel=1e-10)


def test_layers_reached_and_bleeding() -> None:
    shallow = RollerDevice(needle_length_mm=0.25)  # tip stays in the epidermis
    medium = RollerDevice(needle_length_mm=0.5)
    deep = RollerDevice(needle_length_mm=1.5)
    rng = np.random.default_rng
    s = summarize_injury(simulate_punctures(shallow, SKIN, 10.0, rng(0)), SKIN, shallow)
    m = summarize_injury(simulate_punctures(medium, SKIN, 10.0, rng(0)), SKIN, medium)
    d = summarize_injury(simulate_punctures(deep, SKIN, 10.0, rng(0)), SKIN, deep)
    assert s.layers_reached == ("stratum_corneum", "viable_epidermis")
    assert s.bleeding_fraction == 0.0
    assert m.layers_reached == LAYER_NAMES[:3]
    assert m.bleeding_fraction == 1.0
    assert d.layers_reached == LAYER_NAMES[:4]
    assert s.effective_depth_um < m.effective_depth_um < d.effective_depth_um
    assert m.injured_volume_fraction["reticular_dermis"] == 0.0


def test_zero_length_makes_no_injury() -> None:
    sham = RollerDevice(needle_length_mm=0.0)
    p = simulate_punctures(sham, SKIN, 10.0, np.random.default_rng(0))
    summary = summarize_injury(p, SKIN, sham)
    assert summary.n_punctures == len(p) > 0
    assert summary.n_channels == 0 and summary.channel_density_per_cm2 == 0.0
    assert summary.coverage_fraction == 0.0 and summary.effective_depth_um == 0.0
    assert summary.layers_reached == () and summary.bleeding_fraction == 0.0
    np.testing.assert_array_equal(summary.injured_fraction_array(), np.zeros(5))
    assert np.all(summary.density_map_per_cm2 == 0.0)


def test_summary_values_are_consistent_and_json_safe() -> None:
    roller = RollerDevice()
    p = simulate_punctures(roller, SKIN, 12.5, np.random.default_rng(4))
    summary = summarize_injury(p, SKIN, roller)
    edges = summary.density_bin_edges_mm
    assert edges[0] == 0.0 and edges[-1] == 12.5 and np.allclose(np.diff(edges), 12.5 / 12)
    assert summary.density_map_per_cm2.shape == (12, 12)
    assert summary.density_map_per_cm2.mean() == pytest.approx(summary.channel_density_per_cm2)
    assert summary.channel_depth_um == pytest.approx(
        (1 - 0.6078) * summary.effective_depth_um, rel=1e-9
    )
    assert summary.coverage_fraction == pytest.approx(coverage_fraction(p, roller.needle_tilt_deg))
    data = json.loads(json.dumps(summary.to_dict(), allow_nan=False))
    assert data["layers_reached"] == list(summary.layers_reached)
    assert list(data["injured_volume_fraction"]) == list(LAYER_NAMES)
    np.testing.assert_allclose(
        [data["injured_volume_fraction"][layer.name] for layer in Layer],
        summary.injured_fraction_array(),
    )
