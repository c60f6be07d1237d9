"""Pen kinematics: a cartridge stamping at ``f`` strokes/s while it glides at ``v``.

The ``n`` needles sit in the cartridge disc (diameter ``d_c``) on a sunflower
(Vogel) spiral, a deterministic, even layout:

    r_i = (d_c / 2) sqrt((i + 1/2) / n),    phi_i = i * 137.508 deg.

Strokes fall at ``t_k = k / f``, so along a glide line they are ``v / f`` apart;
a pass rasters the sample with lines one cartridge diameter apart, in the
direction set by the pattern, with a random lateral offset and stroke phase.
Punctures per second are ``n f`` and the density per pass is

    n_pass = n f / (v d_c)      (12 needles, 90 Hz, 20 mm/s, 7 mm: 771 /cm^2).
"""

from __future__ import annotations

import math

import numpy as np

from ..config.device import PenDevice
from ._frame import (
    FloatArray,
    Positions,
    grid_range,
    half_extent_um,
    pass_angles_deg,
    stack_passes,
    to_sample,
)

GOLDEN_ANGLE_RAD = math.pi * (3.0 - math.sqrt(5.0))
"""Angle between successive needles of the sunflower layout (137.508 degrees)."""


def pen_punctures_per_second(device: PenDevice) -> float:
    """``n f``: needles per cartridge times strokes per second."""
    return device.needle_count * device.stroke_frequency_hz


def pen_density_per_cm2(device: PenDevice) -> float:
    """Punctures per cm^2 per pass: ``n f / (v d_c)``."""
    swept_mm2_per_s = device.glide_speed_mm_s * device.cartridge_diameter_mm
    return pen_punctures_per_second(device) / swept_mm2_per_s * 100.0


def cartridge_layout_um(device: PenDevice) -> tuple[FloatArray, FloatArray]:
    """Needle offsets ``(u, v)`` from the cartridge centre (um), sunflower spiral."""
    i = np.arange(device.needle_count, dtype=np.float64)
    r = device.cartridge_diameter_mm * 500.0 * np.sqrt((i + 0.5) / device.needle_count)
    phi = i * GOLDEN_ANGLE_RAD
    return r * np.cos(phi), r * np.sin(phi)


def pen_pass_frame(
    device: PenDevice, side_um: float, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """Puncture points ``(u, v)`` of one raster pass in its glide frame (um)."""
    spacing = device.cartridge_diameter_mm * 1000.0
    step = device.glide_speed_mm_s * 1000.0 / device.stroke_frequency_hz
    reach = half_extent_um(side_um) + spacing / 2.0
    lines = grid_range(-reach - rng.uniform(0.0, spacing), reach, spacing)
    strokes = grid_range(-reach - rng.uniform(0.0, step), reach, step)
    du, dv = cartridge_layout_um(device)
    u = strokes[None, :, None] + du[None, None, :]
    v = lines[:, None, None] + dv[None, None, :]
    u, v = np.broadcast_arrays(u, v)
    return u.ravel(), v.ravel()


def pen_positions(device: PenDevice, side_um: float, rng: np.random.Generator) -> Positions:
    """Puncture positions ``x, y`` (um) and pass index of every pen pass."""
    return stack_passes(
        [
            to_sample(*pen_pass_frame(device, side_um, rng), float(angle), side_um)
            for angle in pass_angles_deg(device.pattern, device.passes)
        ]
    )
