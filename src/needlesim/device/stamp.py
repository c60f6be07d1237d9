"""Stamp kinematics: a flat head pressed site after site, tiling the sample.

The ``N`` needles of a ``W x H`` head sit on a near-square grid of
``n_x = round(sqrt(N W / H))`` columns and ``n_y = ceil(N / n_x)`` rows (cell
centres, the first ``N`` in row order). Each pass tiles the sample with heads
from a random offset; ``passes`` is the number of stamps per site, so the
density per pass is ``N / (W H)`` (36 needles on 6 mm x 6 mm: 100 /cm^2).
"""

from __future__ import annotations

import math

import numpy as np

from ..config.device import StampDevice
from ._frame import FloatArray, Positions, grid_range, stack_passes


def stamp_density_per_cm2(device: StampDevice) -> float:
    """Punctures per cm^2 per stamp: ``N / (W H)``."""
    return device.needle_count / (device.head_width_mm * device.head_length_mm) * 100.0


def head_layout_um(device: StampDevice) -> tuple[FloatArray, FloatArray]:
    """Needle positions ``(x, y)`` on the head, from its corner (um)."""
    w, h = device.head_width_mm * 1000.0, device.head_length_mm * 1000.0
    n = device.needle_count
    nx = max(1, min(n, round(math.sqrt(n * w / h))))
    ny = math.ceil(n / nx)
    k = np.arange(n)
    return (k % nx + 0.5) * w / nx, (k // nx + 0.5) * h / ny


def stamp_pass(
    device: StampDevice, side_um: float, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """Puncture points of one stamping of the whole sample (um), inside ``[0, S)^2``."""
    w, h = device.head_width_mm * 1000.0, device.head_length_mm * 1000.0
    hx, hy = head_layout_um(device)
    ox = grid_range(-rng.uniform(0.0, w), side_um, w)
    oy = grid_range(-rng.uniform(0.0, h), side_um, h)
    x, y = np.broadcast_arrays(ox[:, None, None] + hx, oy[None, :, None] + hy)
    x, y = x.ravel(), y.ravel()
    inside = (x >= 0.0) & (x < side_um) & (y >= 0.0) & (y < side_um)
    return x[inside], y[inside]


def stamp_positions(device: StampDevice, side_um: float, rng: np.random.Generator) -> Positions:
    """Puncture positions ``x, y`` (um) and pass index of every stamping."""
    return stack_passes([stamp_pass(device, side_um, rng) for _ in range(device.passes)])
