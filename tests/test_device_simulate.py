"""simulate_device on a RunConfig, its seeding, and the two device plots."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from needlesim.anatomy import skin_for
from needlesim.config import (
    Patient,
    PenDevice,
    Protocol,
    RollerDevice,
    RunConfig,
    SessionSpec,
    Simulation,
    StampDevice,
)
from needlesim.device import DeviceResult, session_rng, simulate_device
from needlesim.plots import plot_depth_profile, plot_puncture_map

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def config(**protocol: object) -> RunConfig:
    return RunConfig(
        patient=Patient(region="cheek", sex="male", age_years=40),
        protocol=Protocol.model_validate(protocol),
        simulation=Simulation(seed=3, sample_area_mm=8.0),
    )


def test_simulate_device_uses_the_session_device_skin_and_sample() -> None:
    cfg = config(
        device={"type": "roller", "needle_length_mm": 1.0},
        sessions=[{"day": 0}, {"day": 30, "device": {"type": "pen", "needle_length_mm": 0.5}}],
    )
    first, second = simulate_device(cfg, 0), simulate_device(cfg, 1)
    assert isinstance(first.device, RollerDevice) and isinstance(second.device, PenDevice)
    assert first.skin == skin_for(cfg.patient)
    assert first.punctures.sample_side_um == 8000.0
    assert first.summary.device_type == "roller" and second.summary.device_type == "pen"
    assert second.summary.punctures_per_second == 12 * 90.0


def test_same_config_same_numbers_sessions_independent() -> None:
    cfg = config(sessions=3)
    a, b = simulate_device(cfg, 1), simulate_device(cfg, 1)
    np.testing.assert_array_equal(a.punctures.x_um, b.punctures.x_um)
    np.testing.assert_array_equal(
        a.punctures.penetration_depth_um, b.punctures.penetration_depth_um
    )
    assert a.summary.to_dict() == b.summary.to_dict()
    c = simulate_device(cfg, 2)
    assert not np.array_equal(a.punctures.x_um[:10], c.punctures.x_um[:10])
    # the generator is documented: SeedSequence(seed, spawn_key=(DEVICE_STREAM, session))
    x = session_rng(3, 1).uniform()
    assert x == session_rng(3, 1).uniform() != session_rng(3, 2).uniform()


def test_zero_session_protocol_uses_the_protocol_device() -> None:
    cfg = config(device={"type": "stamp", "passes": 2}, sessions=0)
    result = simulate_device(cfg)
    assert isinstance(result.device, StampDevice)
    assert len(result.punctures) > 0
    with pytest.raises(IndexError):
        simulate_device(cfg, 1)
    with pytest.raises(IndexError):
        simulate_device(config(sessions=2), 2)


def test_session_overrides_reach_the_punctures() -> None:
    cfg = RunConfig(
        protocol=Protocol(
            sessions=[SessionSpec(needle_length_mm=0.5), SessionSpec(needle_length_mm=1.5)]
        ),
        simulation=Simulation(sample_area_mm=5.0),
    )
    shallow, deep = simulate_device(cfg, 0), simulate_device(cfg, 1)
    assert shallow.summary.effective_depth_um < deep.summary.effective_depth_um
    assert np.all(deep.punctures.nominal_depth_um == 1500.0)


def test_result_to_dict_is_json() -> None:
    result = simulate_device(config())
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["device"]["type"] == "roller"
    assert data["summary"]["n_punctures"] == len(result.punctures)


def _check_png(path: Path) -> None:
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert path.stat().st_size > 20_000
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left


@pytest.mark.parametrize(
    "device",
    [
        {"type": "roller"},
        {"type": "pen", "needle_length_mm": 0.5},
        {"type": "stamp", "needle_length_mm": 0.0},
    ],
    ids=["roller", "pen", "sham-stamp"],
)
def test_plots_are_written_atomically(tmp_path: Path, device: dict[str, object]) -> None:
    result: DeviceResult = simulate_device(config(device=device))
    for name, plot in (("map", plot_puncture_map), ("depth", plot_depth_profile)):
        folder = tmp_path / name / "nested"
        written = plot(result, folder / f"{name}.png")
        assert written == folder / f"{name}.png"
        _check_png(written)
