"""Roller kinematics: a drum of needle rings rolled over the sample in strips.

The drum (diameter ``D``, width ``W``) carries ``R`` rings (``rows``) of
``n_r = N / R`` needles. In the rolling frame a strip is a lattice with
circumferential pitch ``p_u = pi D / n_r`` along the roll and ring spacing
``p_v = W / R`` across it; ring ``j`` is shifted by ``j p_u / R`` (helical
stagger). One pass lays contiguous strips of width ``W`` with a random lateral
offset, each with its own random rolling phase, so the density per pass is

    n_pass = N / (pi D W)       (192 needles, 20 mm x 20 mm drum: 15.28 /cm^2).
"""

from __future__ import annotations

import math

import numpy as np

from ..config.device import RollerDevice
from ._frame import (
    FloatArray,
    Positions,
    grid_range,
    half_extent_um,
    pass_angles_deg,
    stack_passes,
    to_sample,
)


def roller_density_per_cm2(device: RollerDevice) -> float:
    """Punctures per cm^2 per pass: ``N / (pi D W)``."""
    return device.needle_count / (math.pi * device.drum_diameter_mm * device.drum_width_mm) * 100


def roller_pass_frame(
    device: RollerDevice, side_um: float, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """Puncture points ``(u, v)`` of one pass in its rolling frame (um)."""
    per_ring = device.needle_count // device.rows
    pitch_u = math.pi * device.drum_diameter_mm * 1000.0 / per_ring
    width = device.drum_width_mm * 1000.0
    pitch_v = width / device.rows
    half = half_extent_um(side_um)
    strips = grid_range(-half - rng.uniform(0.0, width), half, width)
    rings = np.arange(device.rows, dtype=np.float64)
    us, vs = [], []
    for v_strip in strips:
        phase = rng.uniform(0.0, pitch_u)
        u_lattice = grid_range(-half - pitch_u + phase, half + pitch_u, pitch_u)
        u = u_lattice[None, :] + (rings * pitch_u / device.rows)[:, None]
        v = np.broadcast_to((v_strip + (rings + 0.5) * pitch_v)[:, None], u.shape)
        us.append(u.ravel())
        vs.append(v.ravel())
    return np.concatenate(us), np.concatenate(vs)


def roller_positions(device: RollerDevice, side_um: float, rng: np.random.Generator) -> Positions:
    """Puncture positions ``x, y`` (um) and pass index of every pass of a roller."""
    return stack_passes(
        [
            to_sample(*roller_pass_frame(device, side_um, rng), float(angle), side_um)
            for angle in pass_angles_deg(device.pattern, device.passes)
        ]
    )
