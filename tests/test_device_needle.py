"""Needle geometry: diameter profile and analytic track volumes against quadrature."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from needlesim.config import PenDevice, RollerDevice
from needlesim.device import NeedleGeometry

KALLURI = NeedleGeometry(length_um=770.0, base_diameter_um=140.0, tip_radius_um=4.0)

geometries = st.builds(
    NeedleGeometry,
    length_um=st.floats(50.0, 3000.0),
    base_diameter_um=st.floats(50.0, 500.0),
    tip_radius_um=st.floats(0.5, 50.0),
    taper_length_um=st.one_of(st.none(), st.floats(10.0, 3000.0)),
    tilt_deg=st.floats(0.0, 45.0),
)


def kinks(needle: NeedleGeometry) -> tuple[float, float]:
    """Axial distances where d(s) has a kink: end of the tip floor, end of the taper."""
    taper = needle.taper_um
    return (2.0 * needle.tip_radius_um * taper / needle.base_diameter_um, taper)


def test_cone_diameter_matches_kalluri_geometry() -> None:
    # full cone: d(s) = b s / L, so 388.85 um from the tip the diameter is 70.7 um
    assert KALLURI.diameter_um(388.85) == pytest.approx(70.7, rel=1e-12)
    assert KALLURI.diameter_um(770.0) == pytest.approx(140.0)
    assert KALLURI.diameter_um(0.0) == pytest.approx(8.0)  # never below 2 r_tip


def test_cylindrical_beyond_the_taper() -> None:
    needle = NeedleGeometry(1500.0, 250.0, 4.0, taper_length_um=300.0)
    s = np.array([150.0, 300.0, 301.0, 1000.0, 1500.0])
    np.testing.assert_allclose(needle.diameter_um(s), [125.0, 250.0, 250.0, 250.0, 250.0])


@settings(max_examples=60, deadline=None)
@given(needle=geometries, s=st.lists(st.floats(0.0, 3000.0), min_size=2, max_size=20))
def test_diameter_is_monotone_and_bounded(needle: NeedleGeometry, s: list[float]) -> None:
    s_sorted = np.sort(np.asarray(s))
    d = needle.diameter_um(s_sorted)
    assert np.all(np.diff(d) >= -1e-12)
    assert np.all(d >= 2.0 * needle.tip_radius_um - 1e-12)
    assert np.all(d <= max(needle.base_diameter_um, 2.0 * needle.tip_radius_um) + 1e-9)


@settings(max_examples=60, deadline=None)
@given(needle=geometries, a=st.floats(0.0, 3000.0), b=st.floats(0.0, 3000.0))
def test_volume_matches_quadrature(needle: NeedleGeometry, a: float, b: float) -> None:
    s0, s1 = min(a, b), max(a, b)
    breaks = [p for p in kinks(needle) if s0 < p < s1]
    expected, _ = quad(
        lambda s: math.pi * float(needle.diameter_um(s)) ** 2 / 4.0,
        s0,
        s1,
        points=breaks or None,
        limit=200,
        epsabs=1e-6,
        epsrel=1e-10,
    )
    assert float(needle.volume_um3(s0, s1)) == pytest.approx(expected, rel=1e-7, abs=1e-3)
    assert float(needle.volume_um3(s1, s0)) == 0.0


@settings(max_examples=30, deadline=None)
@given(needle=geometries, depth=st.floats(1.0, 2500.0), z=st.floats(0.0, 2500.0))
def test_track_volume_is_the_integral_of_horizontal_slices(
    needle: NeedleGeometry, depth: float, z: float
) -> None:
    """Horizontal slice at depth z: pi d(s)^2 / (4 cos theta), s = (depth - z) / cos theta."""
    top, bottom = 0.0, min(z, depth)
    c = needle.cos_tilt
    breaks = [depth - k * c for k in kinks(needle) if top < depth - k * c < bottom]
    expected, _ = quad(
        lambda zz: math.pi * float(needle.diameter_um((depth - zz) / c)) ** 2 / (4.0 * c),
        top,
        bottom,
        points=breaks or None,
        limit=200,
        epsrel=1e-10,
    )
    got = float(needle.track_volume_um3(depth, top, bottom))
    assert got == pytest.approx(expected, rel=1e-6, abs=1e-2)


def test_from_device_reads_the_configured_needle() -> None:
    roller = RollerDevice(needle_length_mm=0.77, needle_base_diameter_um=140.0)
    needle = NeedleGeometry.from_device(roller)
    assert needle.length_um == pytest.approx(770.0)
    assert needle.tilt_deg == 15.0
    assert needle.vertical_reach_um == pytest.approx(770.0 * math.cos(math.radians(15)))
    pen = NeedleGeometry.from_device(PenDevice(needle_taper_length_um=200.0))
    assert pen.taper_um == 200.0 and pen.tilt_deg == 0.0


@pytest.mark.parametrize("tilt", [0.0, 15.0, 30.0])
def test_rasterised_track_holds_the_summary_volume(tilt: float) -> None:
    """One geometry: the solid of ``track_mask`` (used to rasterise channels on the
    patch) holds, slab by slab, the volume ``track_volume_um3`` gives the summary."""
    from needlesim.device.needle import track_mask

    needle = NeedleGeometry(
        length_um=1000.0,
        base_diameter_um=200.0,
        tip_radius_um=4.0,
        taper_length_um=600.0,
        tilt_deg=tilt,
    )
    depth = 700.0
    h = 2.0  # um; midpoints of a fine grid around the track
    x = np.arange(-160.0, depth * math.tan(math.radians(tilt)) + 160.0, h) + h / 2
    y = np.arange(-120.0, 120.0, h) + h / 2
    for top, bottom in ((0.0, 100.0), (100.0, 400.0), (400.0, 700.0), (0.0, 700.0)):
        z = np.arange(top, bottom, h) + h / 2
        inside = track_mask(
            x[:, None, None],
            y[None, :, None],
            z[None, None, :],
            depth,
            needle.radius_um,
            tilt_deg=tilt,
        )
        volume = inside.sum() * h**3
        expected = float(needle.track_volume_um3(depth, top, bottom))
        assert volume == pytest.approx(expected, rel=0.03), (top, bottom)
    # tilt moves the tip sideways: nothing lies beyond the tilted tip's reach
    z = np.array([depth - h / 2])
    tip_x = depth * math.tan(math.radians(tilt))
    near = track_mask(np.array([tip_x]), np.array([0.0]), z, depth, needle.radius_um, tilt_deg=tilt)
    far = track_mask(
        np.array([tip_x + 30.0]), np.array([0.0]), z, depth, needle.radius_um, tilt_deg=tilt
    )
    assert near.all() and not far.any()
