"""Sessions: the injury of needle channels stamped onto the grid.

A channel is the track of a needle whose tip reached depth ``d`` and whose
diameter at the surface is ``D0``: a cone with its apex at the tip,

    r(z) = (D0 / 2) (1 - z / d),    0 <= z <= d,

optionally dilated by a damage margin ``m`` (tissue injured around the track):
``r_m(z) = r(z) + m`` down to the tip and a hemispherical cap of radius ``m``
below it. Tilt is ignored (the channel is vertical).

The damage of a voxel is the fraction of its volume inside a channel,
estimated on ``s^3`` sub-points per voxel (midpoint rule, ``s = 3`` by
default: the channel volume is reproduced to a few percent at 1/2 voxel
radius, better for wider channels). Channels are wrapped periodically; where
several overlap, fractions combine as independent events,
``1 - prod_i (1 - d_i)`` (exact for disjoint channels).

A :class:`Session` is a time and a damage field (or a function that makes one
from the run's random generator, so stochastic punctures are reproducible and
resumable).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from .grid import PatchGrid

FloatArray = NDArray[np.float64]

DamageFn = Callable[[PatchGrid, np.random.Generator], FloatArray]
"""``damage(grid, rng) -> (nx, ny, nz)`` values in [0, 1]."""


class PunctureLike(Protocol):
    """What is needed of :class:`needlesim.device.Punctures` (lengths in um)."""

    x_um: FloatArray
    y_um: FloatArray
    penetration_depth_um: FloatArray
    surface_diameter_um: FloatArray


@dataclass(frozen=True, eq=False)
class Session:
    """A treatment session on ``day``: the state jumps by the model's injury function
    with the given ``damage`` (an array of the grid's shape, or a :data:`DamageFn`)."""

    day: float
    damage: FloatArray | DamageFn

    def damage_field(self, grid: PatchGrid, rng: np.random.Generator) -> FloatArray:
        d = self.damage(grid, rng) if callable(self.damage) else self.damage
        arr = np.asarray(d, dtype=np.float64)
        if arr.shape != grid.shape:
            raise ValueError(
                f"damage of the session on day {self.day} must have shape "
                f"{grid.shape}, got {arr.shape}"
            )
        if np.any(arr < 0) or np.any(arr > 1):
            raise ValueError("damage must lie in [0, 1]")
        return arr


def channel_damage(
    grid: PatchGrid,
    x_um: FloatArray,
    y_um: FloatArray,
    depth_um: FloatArray,
    surface_diameter_um: FloatArray,
    *,
    margin_um: float = 0.0,
    samples: int = 3,
    diameter_from_tip: Callable[[FloatArray], FloatArray] | None = None,
) -> FloatArray:
    """Damage in ``[0, 1]`` per voxel of channels at ``(x, y)`` (wrapped periodically)
    reaching ``depth_um`` with surface diameter ``surface_diameter_um``.

    ``diameter_from_tip(s)`` replaces the cone by any profile: the channel
    diameter at distance ``s = d - z`` above the tip (for example
    :meth:`needlesim.device.NeedleGeometry.diameter_um`, so that the injured
    volume per layer matches the device model's); ``surface_diameter_um`` then
    only bounds the search box (pass the largest diameter)."""
    x = np.asarray(x_um, dtype=np.float64).ravel()
    y = np.asarray(y_um, dtype=np.float64).ravel()
    d = np.asarray(depth_um, dtype=np.float64).ravel()
    diam = np.broadcast_to(np.asarray(surface_diameter_um, dtype=np.float64), d.shape).ravel()
    if not x.shape == y.shape == d.shape:
        raise ValueError("x, y and depth need the same length")
    if samples < 1:
        raise ValueError("samples must be >= 1")
    nx, ny, nz = grid.shape
    hx, hy, hz = grid.spacing_um
    lx, ly, _ = grid.lengths_um
    survive = np.ones(grid.shape)
    offsets = (np.arange(samples) + 0.5) / samples  # sub-point positions in a voxel
    for xi, yi, di, dia in zip(x % lx, y % ly, d, diam, strict=True):
        if di <= 0.0:
            continue
        r0 = 0.5 * dia
        reach = r0 + margin_um
        bottom = di + margin_um
        ix = np.arange(math.floor((xi - reach) / hx), math.floor((xi + reach) / hx) + 1)
        iy = np.arange(math.floor((yi - reach) / hy), math.floor((yi + reach) / hy) + 1)
        iz = np.arange(0, min(nz, math.floor(bottom / hz) + 1))
        if iz.size == 0:
            continue
        px = ((ix[:, None] + offsets[None, :]) * hx - xi).ravel()
        py = ((iy[:, None] + offsets[None, :]) * hy - yi).ravel()
        pz = ((iz[:, None] + offsets[None, :]) * hz).ravel()
        rho2 = px[:, None] ** 2 + py[None, :] ** 2  # (sx, sy)
        if diameter_from_tip is None:
            profile = r0 * np.maximum(1.0 - pz / di, 0.0)
        else:
            profile = 0.5 * np.asarray(diameter_from_tip(np.maximum(di - pz, 0.0)), dtype=float)
        radius = np.where(pz <= di, profile + margin_um, 0.0)
        below = np.maximum(pz - di, 0.0)
        cap = np.where(pz > di, np.sqrt(np.maximum(margin_um**2 - below**2, 0.0)), 0.0)
        radius = np.maximum(radius, cap)
        inside = rho2[:, :, None] <= radius[None, None, :] ** 2
        frac = inside.reshape(ix.size, samples, iy.size, samples, iz.size, samples).mean(
            axis=(1, 3, 5)
        )
        block = np.ix_(ix % nx, iy % ny, iz)
        if ix.size > nx or iy.size > ny:  # a channel wider than the box: fold it
            folded = np.zeros((nx, ny, iz.size))
            np.add.at(
                folded,
                (ix[:, None, None] % nx, iy[None, :, None] % ny, np.arange(iz.size)[None, None, :]),
                frac,
            )
            survive[:, :, : iz.size] *= 1.0 - np.minimum(folded, 1.0)
        else:
            survive[block] *= 1.0 - frac
    return 1.0 - survive


def damage_from_punctures(
    grid: PatchGrid,
    punctures: PunctureLike,
    *,
    origin_um: tuple[float, float] = (0.0, 0.0),
    margin_um: float = 0.0,
    samples: int = 3,
    diameter_from_tip: Callable[[FloatArray], FloatArray] | None = None,
) -> FloatArray:
    """The damage field of a session's punctures (:class:`needlesim.device.Punctures`).

    Punctures with ``origin <= (x, y) < origin + (L_x, L_y)`` are placed on the
    patch (shifted by ``origin_um``); the others are outside it. Generate the
    punctures on a sample whose side equals the patch side (the device model's
    samples are periodic, like the patch) to keep the channel density exact at
    the edges. Strikes with zero penetration make no channel.
    """
    lx, ly, _ = grid.lengths_um
    x = np.asarray(punctures.x_um, dtype=np.float64) - origin_um[0]
    y = np.asarray(punctures.y_um, dtype=np.float64) - origin_um[1]
    keep = (x >= 0) & (x < lx) & (y >= 0) & (y < ly)
    return channel_damage(
        grid,
        x[keep],
        y[keep],
        np.asarray(punctures.penetration_depth_um, dtype=np.float64)[keep],
        np.asarray(punctures.surface_diameter_um, dtype=np.float64)[keep],
        margin_um=margin_um,
        samples=samples,
        diameter_from_tip=diameter_from_tip,
    )


def cone_volume_um3(depth_um: float, surface_diameter_um: float) -> float:
    """``pi r0^2 d / 3``: the volume of an undilated channel (for checks)."""
    return math.pi * (0.5 * surface_diameter_um) ** 2 * depth_um / 3.0
