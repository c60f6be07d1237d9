"""Needle devices: geometry, effective penetration, kinematics and injury.

The chain of one session::

    device config + skin -> punctures (x, y, depths, diameters) -> injury summary

* :func:`simulate_device` runs it for a configured run and session;
* :func:`simulate_punctures` and :func:`summarize_injury` are the two steps;
* :func:`penetration_depth_um` is the calibrated transfer function from nominal
  needle length to injury depth (math and calibration in
  :mod:`needlesim.device.penetration`, values in ``data/device.yaml``).
"""

from .expected import (
    ExpectedInjury,
    bleeding_density_per_cm2,
    density_per_cm2,
    expected_injury,
    passes_to_endpoint,
)
from .injury import (
    InjurySummary,
    coverage_fraction,
    coverage_raster,
    density_map_per_cm2,
    layers_reached,
    summarize_injury,
)
from .needle import NeedleGeometry
from .pen import cartridge_layout_um, pen_density_per_cm2, pen_punctures_per_second
from .penetration import (
    DeviceParameters,
    KalluriFit,
    channel_depth_um,
    default_parameters,
    device_data,
    dimple_um,
    fit_kalluri,
    penetration_depth_um,
    surface_diameter_um,
)
from .punctures import Punctures, puncture_positions, simulate_punctures
from .roller import roller_density_per_cm2
from .simulate import DeviceResult, session_device, session_rng, simulate_device
from .stamp import head_layout_um, stamp_density_per_cm2

__all__ = [
    "DeviceParameters",
    "DeviceResult",
    "ExpectedInjury",
    "InjurySummary",
    "KalluriFit",
    "NeedleGeometry",
    "Punctures",
    "bleeding_density_per_cm2",
    "cartridge_layout_um",
    "channel_depth_um",
    "coverage_fraction",
    "coverage_raster",
    "default_parameters",
    "density_map_per_cm2",
    "density_per_cm2",
    "device_data",
    "dimple_um",
    "expected_injury",
    "fit_kalluri",
    "head_layout_um",
    "layers_reached",
    "passes_to_endpoint",
    "pen_density_per_cm2",
    "pen_punctures_per_second",
    "penetration_depth_um",
    "puncture_positions",
    "roller_density_per_cm2",
    "session_device",
    "session_rng",
    "simulate_device",
    "simulate_punctures",
    "stamp_density_per_cm2",
    "summarize_injury",
    "surface_diameter_um",
]
