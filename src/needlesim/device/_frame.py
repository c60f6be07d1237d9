"""Pass directions and the rolling frame of a pass over the square sample.

Each pass is laid out in its own frame ``(u, v)``: ``u`` along the direction of
travel, ``v`` across it, origin at the sample centre ``c``. A pass at angle
``theta`` maps to sample coordinates by

    x = c + u cos(theta) - v sin(theta),    y = c + u sin(theta) + v cos(theta),

and only points with ``0 <= x, y < S`` are kept. Laying a pass out over the
disc of radius ``S / sqrt(2)`` (the half-diagonal) covers the rotated sample,
so every pass has the same density whatever its angle.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from ..config.enums import RollPattern

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Positions = tuple[FloatArray, FloatArray, IntArray]
"""Puncture positions ``x_um, y_um`` and the pass index of each."""

_PATTERN_ANGLES_DEG: dict[RollPattern, tuple[float, ...]] = {
    RollPattern.parallel: (0.0,),
    RollPattern.crosshatch: (0.0, 90.0),
    RollPattern.star: (0.0, 45.0, 90.0, 135.0),
}


def pass_angles_deg(pattern: RollPattern, passes: int) -> FloatArray:
    """Direction of each pass: parallel 0; crosshatch 0, 90, ...; star 0, 45, 90, 135, ..."""
    cycle = _PATTERN_ANGLES_DEG[RollPattern(pattern)]
    return np.array([cycle[i % len(cycle)] for i in range(passes)], dtype=np.float64)


def half_extent_um(side_um: float) -> float:
    """Half-width of the square region, in the pass frame, that covers the rotated sample."""
    return side_um * math.sqrt(2.0) / 2.0


def to_sample(
    u_um: FloatArray, v_um: FloatArray, angle_deg: float, side_um: float
) -> tuple[FloatArray, FloatArray]:
    """Map pass-frame points to the sample and keep those inside ``[0, S)^2``."""
    t = math.radians(angle_deg)
    c, s = math.cos(t), math.sin(t)
    centre = side_um / 2.0
    x = centre + u_um * c - v_um * s
    y = centre + u_um * s + v_um * c
    inside = (x >= 0.0) & (x < side_um) & (y >= 0.0) & (y < side_um)
    return x[inside], y[inside]


def grid_range(start: float, stop: float, step: float) -> FloatArray:
    """``start + k * step`` for every ``k >= 0`` with value ``<= stop``."""
    n = max(0, math.floor((stop - start) / step) + 1)
    return start + step * np.arange(n, dtype=np.float64)


def stack_passes(passes: list[tuple[FloatArray, FloatArray]]) -> Positions:
    """Concatenate per-pass ``(x, y)`` into positions with their pass index."""
    if not passes:
        empty = np.zeros(0, dtype=np.float64)
        return empty, empty.copy(), np.zeros(0, dtype=np.int64)
    x = np.concatenate([p[0] for p in passes])
    y = np.concatenate([p[1] for p in passes])
    idx = np.concatenate([np.full(p[0].size, i, dtype=np.int64) for i, p in enumerate(passes)])
    return x, y, idx
