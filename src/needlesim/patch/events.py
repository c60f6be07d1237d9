"""Sessions: the injury of needle channels stamped onto the grid.

A channel is the track of a needle: the one solid of
:func:`needlesim.device.needle.track_mask` (tilted body of revolution, optionally
dilated by a damage margin ``m``: tissue injured around the track, with a ball
of radius ``m`` around the tip). Its profile is the needle's,
:meth:`needlesim.device.NeedleGeometry.radius_um` with its tilt, when a needle is
given; otherwise a vertical cone with its apex at the tip (test problems),

    r(z) = (D0 / 2) (1 - z / d),    0 <= z <= d,

for a tip at depth ``d`` and surface diameter ``D0``.

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
from typing import Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from ..device.needle import NeedleGeometry, track_mask
from ..geometry.grid import PatchGrid

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
        """The damage of this session on ``grid``: shape ``grid.shape`` (one field) or
        ``(k, *grid.shape)`` (``k`` fields; the injury function then receives ``k``
        values per voxel). A single field is a volume fraction in ``[0, 1]``; the
        meaning of several is up to the model's injury function (all ``>= 0``)."""
        d = self.damage(grid, rng) if callable(self.damage) else self.damage
        arr = np.asarray(d, dtype=np.float64)
        if arr.shape != grid.shape and not (arr.ndim == 4 and arr.shape[1:] == grid.shape):
            raise ValueError(
                f"damage of the session on day {self.day} must have shape "
                f"{grid.shape} or (k, *{grid.shape}), got {arr.shape}"
            )
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise ValueError("damage must be finite and >= 0")
        if arr.ndim == 3 and np.any(arr > 1):
            raise ValueError("damage (a single field) must lie in [0, 1]")
        return arr


def channel_damage(
    grid: PatchGrid,
    x_um: FloatArray,
    y_um: FloatArray,
    depth_um: FloatArray,
    surface_diameter_um: FloatArray,
    *,
    margin_um: float | FloatArray = 0.0,
    samples: int = 3,
    needle: NeedleGeometry | None = None,
    radius_scale: float = 1.0,
    combine: Literal["union", "sum"] = "union",
) -> FloatArray:
    """Damage in ``[0, 1]`` per voxel of channels at ``(x, y)`` (wrapped periodically)
    reaching ``depth_um`` with surface diameter ``surface_diameter_um``; ``margin_um``
    (one value, or one per channel) dilates each channel (see the module doc).

    ``radius_scale`` widens every channel laterally (the radius at each depth is
    multiplied by it, the margin is not): a cross-section ``radius_scale^2``
    times the channel's at every depth. ``combine`` says how overlapping
    channels add up: ``"union"`` (default) gives the fraction of the voxel
    inside at least one channel, ``1 - prod (1 - d_i)`` (in ``[0, 1]``);
    ``"sum"`` gives ``sum d_i`` (each channel counted, as the device model's
    injured volume fraction counts overlapping tracks; may exceed 1).

    ``needle`` replaces the cone by the needle's track (its profile and tilt, the
    geometry of the device model's injured volumes); ``surface_diameter_um`` is
    then not used."""
    x = np.asarray(x_um, dtype=np.float64).ravel()
    y = np.asarray(y_um, dtype=np.float64).ravel()
    d = np.asarray(depth_um, dtype=np.float64).ravel()
    diam = np.broadcast_to(np.asarray(surface_diameter_um, dtype=np.float64), d.shape).ravel()
    margins = np.broadcast_to(np.asarray(margin_um, dtype=np.float64), d.shape).ravel()
    if np.any(margins < 0) or not np.all(np.isfinite(margins)):
        raise ValueError("margins must be finite and >= 0")
    if not x.shape == y.shape == d.shape:
        raise ValueError("x, y and depth need the same length")
    if samples < 1:
        raise ValueError("samples must be >= 1")
    if not radius_scale > 0:
        raise ValueError(f"radius_scale must be > 0, got {radius_scale}")
    if combine not in ("union", "sum"):
        raise ValueError(f"combine must be 'union' or 'sum', got {combine!r}")
    nx, ny, nz = grid.shape
    hx, hy, hz = grid.spacing_um
    lx, ly, _ = grid.lengths_um
    survive = np.ones(grid.shape)
    total = np.zeros(grid.shape)
    offsets = (np.arange(samples) + 0.5) / samples  # sub-point positions in a voxel
    tilt = needle.tilt_deg if needle is not None else 0.0
    tan = math.tan(math.radians(tilt))
    for xi, yi, di, dia, margin in zip(x % lx, y % ly, d, diam, margins, strict=True):
        if di <= 0.0:
            continue
        radius_at = _profile(needle, di, dia, radius_scale)
        top = needle.axial_length_um(di) if needle is not None else di
        reach = (float(radius_at(np.asarray(top))) + margin) / math.cos(math.radians(tilt))
        bottom = di + margin
        ix = np.arange(math.floor((xi - reach) / hx), math.floor((xi + di * tan + reach) / hx) + 1)
        iy = np.arange(math.floor((yi - reach) / hy), math.floor((yi + reach) / hy) + 1)
        iz = np.arange(0, min(nz, math.floor(bottom / hz) + 1))
        if iz.size == 0:
            continue
        px = ((ix[:, None] + offsets[None, :]) * hx - xi).ravel()
        py = ((iy[:, None] + offsets[None, :]) * hy - yi).ravel()
        pz = ((iz[:, None] + offsets[None, :]) * hz).ravel()
        inside = track_mask(
            px[:, None, None],
            py[None, :, None],
            pz[None, None, :],
            di,
            radius_at,
            tilt_deg=tilt,
            margin_um=float(margin),
        )
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
            if combine == "sum":
                total[:, :, : iz.size] += folded
            else:
                survive[:, :, : iz.size] *= 1.0 - np.minimum(folded, 1.0)
        elif combine == "sum":
            total[block] += frac
        else:
            survive[block] *= 1.0 - frac
    return total if combine == "sum" else 1.0 - survive


def _profile(
    needle: NeedleGeometry | None, depth_um: float, surface_diameter_um: float, scale: float
) -> Callable[[FloatArray], FloatArray]:
    """The radius at axial distance ``s`` above the tip: the needle's, or the cone's."""
    if needle is not None:
        return lambda s: scale * needle.radius_um(s)
    r0 = 0.5 * surface_diameter_um * scale
    return lambda s: r0 * np.clip(s / depth_um, 0.0, 1.0)


def damage_from_punctures(
    grid: PatchGrid,
    punctures: PunctureLike,
    *,
    origin_um: tuple[float, float] = (0.0, 0.0),
    margin_um: float | FloatArray = 0.0,
    samples: int = 3,
    needle: NeedleGeometry | None = None,
    radius_scale: float = 1.0,
    combine: Literal["union", "sum"] = "union",
) -> FloatArray:
    """The damage field of a session's punctures (:class:`needlesim.device.Punctures`).

    Punctures with ``origin <= (x, y) < origin + (L_x, L_y)`` are placed on the
    patch (shifted by ``origin_um``); the others are outside it. Generate the
    punctures on a sample whose side equals the patch side (the device model's
    samples are periodic, like the patch) to keep the channel density exact at
    the edges. Strikes with zero penetration make no channel.
    """
    x, y, depth, diameter = _on_patch(grid, punctures, origin_um)
    margin = np.asarray(margin_um, dtype=np.float64)
    if margin.ndim:  # one per puncture: keep those on the patch
        margin = margin[_inside(grid, punctures, origin_um)]
    return channel_damage(
        grid,
        x,
        y,
        depth,
        diameter,
        margin_um=margin,
        samples=samples,
        needle=needle,
        radius_scale=radius_scale,
        combine=combine,
    )


def _on_patch(
    grid: PatchGrid, punctures: PunctureLike, origin_um: tuple[float, float]
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """``(x, y, depth, surface diameter)`` of the punctures inside the patch (shifted)."""
    x = np.asarray(punctures.x_um, dtype=np.float64) - origin_um[0]
    y = np.asarray(punctures.y_um, dtype=np.float64) - origin_um[1]
    keep = _inside(grid, punctures, origin_um)
    return (
        x[keep],
        y[keep],
        np.asarray(punctures.penetration_depth_um, dtype=np.float64)[keep],
        np.asarray(punctures.surface_diameter_um, dtype=np.float64)[keep],
    )


def channel_entries(
    grid: PatchGrid, punctures: PunctureLike, *, origin_um: tuple[float, float] = (0.0, 0.0)
) -> tuple[FloatArray, FloatArray]:
    """``(x, y)`` (um, patch coordinates) where the punctures that made a channel on the
    patch entered the skin (those :func:`damage_from_punctures` places; strikes with
    zero penetration make none)."""
    x, y, depth, _ = _on_patch(grid, punctures, origin_um)
    made = depth > 0.0
    return x[made], y[made]


def _inside(
    grid: PatchGrid, punctures: PunctureLike, origin_um: tuple[float, float]
) -> NDArray[np.bool_]:
    lx, ly, _ = grid.lengths_um
    x = np.asarray(punctures.x_um, dtype=np.float64) - origin_um[0]
    y = np.asarray(punctures.y_um, dtype=np.float64) - origin_um[1]
    inside: NDArray[np.bool_] = (x >= 0) & (x < lx) & (y >= 0) & (y < ly)
    return inside


def dilation_margin_um(
    depth_um: FloatArray,
    surface_diameter_um: FloatArray,
    factor: float,
    needle: NeedleGeometry | None = None,
    *,
    points: int = 256,
) -> FloatArray:
    """The margin ``m`` per channel whose dilated channel (radius ``r(s) + m`` from
    the tip up to the surface, a ball of radius ``m`` around the tip) holds
    ``factor`` times the channel's volume, in the channel's axial coordinate ``s``
    over its length ``l`` in the skin (``d / cos theta``):

        pi int_0^l (r + m)^2 ds + (2/3) pi m^3 = factor pi int_0^l r^2 ds,

    a cubic in ``m`` with one positive root for ``factor > 1`` (0 for ``factor <= 1``
    or channels of no volume). ``r(s)`` is the cone of :func:`channel_damage` or
    ``needle``'s profile; the integrals by the midpoint rule on ``points`` depths."""
    d = np.atleast_1d(np.asarray(depth_um, dtype=np.float64))
    dia = np.broadcast_to(np.asarray(surface_diameter_um, dtype=np.float64), d.shape)
    out = np.zeros(d.shape)
    if factor <= 1.0:
        return out
    u = (np.arange(points) + 0.5) / points  # fraction of the length, midpoints
    for i, (di, d0) in enumerate(zip(d, dia, strict=True)):
        if di <= 0.0:
            continue
        length = needle.axial_length_um(di) if needle is not None else float(di)
        r = np.asarray(_profile(needle, di, d0, 1.0)(u * length), dtype=np.float64)
        i1 = float(r.mean() * length)  # int r ds
        i2 = float((r * r).mean() * length)  # int r^2 ds
        if i2 <= 0.0:
            continue
        # (2/3) m^3 + l m^2 + 2 I1 m - (factor - 1) I2 = 0
        roots = np.roots([2.0 / 3.0, length, 2.0 * i1, -(factor - 1.0) * i2])
        real = roots[np.abs(roots.imag) < 1e-9 * max(1.0, float(np.abs(roots).max()))].real
        out[i] = float(real[real > 0].max())
    return out


def surface_opening(
    grid: PatchGrid,
    punctures: PunctureLike,
    *,
    origin_um: tuple[float, float] = (0.0, 0.0),
    samples: int = 5,
) -> FloatArray:
    """Fraction of each voxel column's footprint ``(nx, ny)`` inside at least one
    channel opening (a disc of the puncture's surface diameter; punctures with
    zero penetration open nothing), on ``samples^2`` sub-points per column.
    Its mean over the patch is the surface coverage of the openings."""
    x, y, depth, diameter = _on_patch(grid, punctures, origin_um)
    nx, ny, _ = grid.shape
    hx, hy, _ = grid.spacing_um
    lx, ly, _ = grid.lengths_um
    offsets = (np.arange(samples) + 0.5) / samples
    px = ((np.arange(nx)[:, None] + offsets[None, :]) * hx).ravel()
    py = ((np.arange(ny)[:, None] + offsets[None, :]) * hy).ravel()
    covered = np.zeros((px.size, py.size), dtype=bool)
    for xi, yi, di, dia in zip(x % lx, y % ly, depth, diameter, strict=True):
        if di <= 0.0 or dia <= 0.0:
            continue
        ddx = (px - xi + 0.5 * lx) % lx - 0.5 * lx  # nearest periodic image
        ddy = (py - yi + 0.5 * ly) % ly - 0.5 * ly
        covered |= ddx[:, None] ** 2 + ddy[None, :] ** 2 <= (0.5 * dia) ** 2
    out: FloatArray = covered.reshape(nx, samples, ny, samples).mean(axis=(1, 3))
    return out


def cone_volume_um3(depth_um: float, surface_diameter_um: float) -> float:
    """``pi r0^2 d / 3``: the volume of an undilated channel (for checks)."""
    return math.pi * (0.5 * surface_diameter_um) ** 2 * depth_um / 3.0
