"""The analytic expected injury agrees with the mean of sampled punctures."""

from __future__ import annotations

import numpy as np
import pytest

from needlesim.anatomy import skin_profile
from needlesim.config import PenDevice, RollerDevice, StampDevice
from needlesim.device import expected_injury, simulate_punctures, summarize_injury

DEVICES = [
    RollerDevice(needle_length_mm=1.5, passes=15),
    RollerDevice(needle_length_mm=0.5, passes=8, needle_tilt_deg=0.0),
    PenDevice(needle_length_mm=1.0, passes=2, glide_speed_mm_s=40.0),
    StampDevice(needle_length_mm=2.0, passes=2),
]


@pytest.mark.parametrize("device", DEVICES, ids=lambda d: f"{d.type}-{d.needle_length_mm}")
def test_expected_matches_sampled_mean(device) -> None:
    skin = skin_profile("cheek", "female", 35)
    expected = expected_injury(device, skin)
    sampled = [
        summarize_injury(
            simulate_punctures(device, skin, 20.0, np.random.default_rng(seed)), skin, device
        )
        for seed in range(6)
    ]
    fractions = np.mean([s.injured_fraction_array() for s in sampled], axis=0)
    reached = fractions > 1e-6
    np.testing.assert_allclose(expected.injured_fraction[reached], fractions[reached], rtol=0.04)
    assert np.all(expected.injured_fraction[~reached] < 1e-6)
    density = np.mean([s.channel_density_per_cm2 for s in sampled])
    assert expected.channel_density_per_mm2 * 100 == pytest.approx(density, rel=0.03)
    depth = np.mean([s.effective_depth_um for s in sampled])
    assert expected.penetration_depth_um == pytest.approx(depth, rel=0.01)
    bleeding = np.mean([s.bleeding_fraction for s in sampled])
    assert expected.bleeding_fraction == pytest.approx(bleeding, abs=0.02)


def test_zero_length_is_no_injury() -> None:
    skin = skin_profile("cheek", "female", 35)
    dose = expected_injury(RollerDevice(needle_length_mm=0.0), skin)
    assert not dose.injured_fraction.any() and dose.bleeding_fraction == 0.0


def test_deeper_needles_injure_deeper_layers() -> None:
    skin = skin_profile("cheek", "female", 35)
    short = expected_injury(RollerDevice(needle_length_mm=0.5), skin).injured_fraction
    long = expected_injury(RollerDevice(needle_length_mm=1.5), skin).injured_fraction
    assert short[3] < 1e-3 * long[3]  # reticular dermis barely touched by 0.5 mm
    assert np.all(long[:4] >= short[:4])
