"""Effective penetration depth: calibration to Kalluri 2011, Lima 2013 classes, monotonicity."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from needlesim.anatomy import Layer, SkinProfile, skin_profile
from needlesim.config import PenDevice, RollerDevice, SkinOverride, StampDevice
from needlesim.device import (
    DeviceParameters,
    default_parameters,
    device_data,
    fit_kalluri,
    penetration_depth_um,
    simulate_punctures,
)

# hairless rat: thin layers (any thin values will do; penetration ignores thickness)
RAT = skin_profile(
    "abdomen",
    override=SkinOverride(
        stratum_corneum_um=10.0,
        viable_epidermis_um=20.0,
        papillary_dermis_um=100.0,
        reticular_dermis_um=600.0,
        hypodermis_um=1000.0,
        stiffness_relative=1.0,
    ),
)
KALLURI_ROLLER = RollerDevice(
    needle_length_mm=0.77,
    needle_base_diameter_um=140.0,
    needle_tip_radius_um=4.0,
    needle_tilt_deg=0.0,
    needle_taper_length_um=None,
)


def test_every_parameter_has_value_unit_range_and_provenance() -> None:
    for name, p in device_data()["parameters"].items():
        assert {"value", "unit", "range"} <= set(p), name
        assert sum(k in p for k in ("source", "fitted", "assumption")) >= 1, name
        lo, hi = p["range"]
        assert lo <= p["value"] <= hi, name


def test_packaged_values_are_the_kalluri_fit() -> None:
    fit = fit_kalluri(default_parameters().delta_ref_um)
    p = default_parameters()
    assert fit.penetration_depth_um == pytest.approx(770 * 70.7 / 140)
    assert p.recoil_fraction == pytest.approx(fit.recoil_fraction, rel=1e-3)
    assert p.insertion_efficiency_roller == pytest.approx(fit.insertion_efficiency_roller, rel=1e-3)
    assert p.insertion_efficiency_stamp == p.insertion_efficiency_roller
    assert p.depth_cv == pytest.approx(9.6 / 152.5, rel=1e-3)
    assert p.insertion_efficiency_roller <= p.pen_insertion_efficiency <= 1.0


def test_rat_roller_reproduces_kalluri_channel() -> None:
    punctures = simulate_punctures(KALLURI_ROLLER, RAT, 20.0, np.random.default_rng(7))
    assert len(punctures) > 500
    assert abs(punctures.channel_depth_um.mean() - 152.5) < 9.6
    assert abs(punctures.surface_diameter_um.mean() - 70.7) < 9.9
    # the per-puncture spread is Kalluri's (CV 9.6 / 152.5)
    assert punctures.channel_depth_um.std() == pytest.approx(9.6, rel=0.2)


@pytest.mark.parametrize("sex", ["female", "male"])
@pytest.mark.parametrize("tilt", [0.0, 15.0])
@pytest.mark.parametrize(
    ("length_mm", "layer"),
    [(0.5, Layer.papillary_dermis), (1.5, Layer.reticular_dermis)],
)
def test_cheek_depth_classes_of_lima_2013(
    sex: str, tilt: float, length_mm: float, layer: Layer
) -> None:
    skin = skin_profile("cheek", sex, 40)
    roller = RollerDevice(needle_length_mm=length_mm, needle_tilt_deg=tilt)
    assert skin.deepest_layer(penetration_depth_um(roller, skin)) == layer
    punctures = simulate_punctures(roller, skin, 10.0, np.random.default_rng(1))
    in_layer = skin.layer_at(punctures.penetration_depth_um) == layer
    assert in_layer.mean() >= 0.99


skins = st.builds(
    lambda k: SkinProfile((16.8, 100.0, 200.0, 800.0, 5000.0), stiffness_relative=k),
    st.floats(0.1, 10.0),
)
device_kinds = st.sampled_from([RollerDevice, PenDevice, StampDevice])


@settings(max_examples=80, deadline=None)
@given(
    kind=device_kinds,
    skin=skins,
    lengths=st.tuples(st.floats(0.0, 3.0), st.floats(0.0, 3.0)),
    tip=st.floats(0.5, 50.0),
    tilt=st.floats(0.0, 45.0),
)
def test_deeper_needle_never_gives_shallower_depth(
    kind: type[RollerDevice | PenDevice | StampDevice],
    skin: SkinProfile,
    lengths: tuple[float, float],
    tip: float,
    tilt: float,
) -> None:
    short, long = sorted(lengths)
    common = {"needle_tip_radius_um": tip, "needle_tilt_deg": tilt, "passes": 1}
    a = kind(needle_length_mm=short, **common)
    b = kind(needle_length_mm=long, **common)
    assert penetration_depth_um(a, skin) <= penetration_depth_um(b, skin)
    assert 0.0 <= penetration_depth_um(b, skin) <= long * 1000.0
    # per puncture too: same seed, same positions and factors
    pa = simulate_punctures(a, skin, 2.0, np.random.default_rng(3))
    pb = simulate_punctures(b, skin, 2.0, np.random.default_rng(3))
    assert np.all(pa.penetration_depth_um <= pb.penetration_depth_um)
    assert np.all(pb.penetration_depth_um <= long * 1000.0 * np.cos(np.radians(tilt)) + 1e-9)


@pytest.mark.parametrize("kind", [RollerDevice, PenDevice, StampDevice])
def test_zero_length_gives_zero_depth(
    kind: type[RollerDevice | PenDevice | StampDevice],
) -> None:
    skin = skin_profile("cheek", "female", 40)
    device = kind(needle_length_mm=0.0, passes=1)
    assert penetration_depth_um(device, skin) == 0.0
    punctures = simulate_punctures(device, skin, 5.0, np.random.default_rng(0))
    assert np.all(punctures.penetration_depth_um == 0.0)
    assert np.all(punctures.channel_depth_um == 0.0)
    assert np.all(punctures.surface_diameter_um == 0.0)


@pytest.mark.parametrize("length_mm", [0.25, 0.5, 1.0, 1.5, 2.5])
def test_pen_goes_deeper_than_roller_of_same_length(length_mm: float) -> None:
    skin = skin_profile("cheek", "female", 40)
    pen = PenDevice(needle_length_mm=length_mm)
    for tilt in (0.0, 15.0):
        roller = RollerDevice(needle_length_mm=length_mm, needle_tilt_deg=tilt)
        assert penetration_depth_um(pen, skin) > penetration_depth_um(roller, skin)


def test_stiffer_skin_and_sharper_tips_dimple_less() -> None:
    roller = RollerDevice(needle_length_mm=1.0)
    soft = SkinProfile((16.8, 100.0, 200.0, 800.0, 5000.0), stiffness_relative=0.5)
    stiff = SkinProfile((16.8, 100.0, 200.0, 800.0, 5000.0), stiffness_relative=2.0)
    assert penetration_depth_um(roller, stiff) > penetration_depth_um(roller, soft)
    blunt = RollerDevice(needle_length_mm=1.0, needle_tip_radius_um=20.0)
    assert penetration_depth_um(blunt, soft) < penetration_depth_um(roller, soft)


@settings(max_examples=20, deadline=None)
@given(delta=st.floats(50.0, 200.0))
def test_refit_to_another_dimple_still_reproduces_kalluri(delta: float) -> None:
    params = default_parameters().with_delta_ref(delta)
    depth = penetration_depth_um(KALLURI_ROLLER, RAT, params)
    assert depth == pytest.approx(770 * 70.7 / 140, rel=1e-9)
    assert (1 - params.recoil_fraction) * depth == pytest.approx(152.5, rel=1e-9)
    assert params.insertion_efficiency_roller <= params.pen_insertion_efficiency <= 1.0


def test_parameters_load_from_the_packaged_table() -> None:
    assert DeviceParameters.from_data() == default_parameters()
    assert default_parameters().delta_ref_um == 100.0
