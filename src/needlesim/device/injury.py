"""Injury of one session: channel density, coverage, depth and damage per layer.

For the ``n`` channels (strikes with penetration ``d_i > 0``) on a sample of
area ``A``:

* density: ``n / A`` per cm^2, and a map of it in ~1 mm bins;
* coverage: the skin surface inside at least one channel footprint. Footprint
  ``i`` is the horizontal slice of the needle at the surface, an ellipse of
  area ``a_i = pi D_i^2 / (4 cos theta)`` (``D_i`` the surface diameter,
  ``theta`` the tilt). For footprints placed independently and uniformly (a
  Boolean model) the uncovered fraction is ``exp(-sum a_i / A)``, so

      coverage = 1 - exp(-sum_i a_i / A).

  Within one pass the device lattice keeps footprints apart, so the formula
  over-counts overlap and under-estimates coverage, to leading order by
  ``sum_p c_p^2 / 2`` with ``c_p`` the summed footprint area of pass ``p``
  over ``A`` (then ``1 - prod_p (1 - c_p)`` is the better estimate). At
  clinical roller densities (coverage of a few %) the difference is
  negligible; :func:`coverage_raster` measures the union on a pixel grid;
* injured volume fraction of layer ``l`` (between depths ``z_l`` and
  ``z_{l+1}``): ``sum_i V_i(z_l, z_{l+1}) / (A (z_{l+1} - z_l))``, with
  ``V_i`` the track volume of the needle at full insertion
  (:meth:`NeedleGeometry.track_volume_um3`). Tracks below the deepest modelled
  layer are not counted;
* bleeding: the fraction of channels that cross the dermo-epidermal junction,
  where the papillary capillary loops lie (Lima 2013: red-cell extravasation in
  the papillary dermis with 0.5 mm needles, live pig).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..anatomy import LAYER_NAMES, Layer, SkinProfile
from ..config.device import AnyDevice, PenDevice
from .needle import NeedleGeometry
from .pen import pen_punctures_per_second
from .punctures import Punctures

FloatArray = NDArray[np.float64]

LAYER_REACHED_MIN_FRACTION = 0.05
"""A layer counts as reached when at least this fraction of channels enters it."""

DENSITY_BIN_MM = 1.0
"""Nominal bin size of the density map (bins are ``S / round(S)`` wide)."""


@dataclass(frozen=True, eq=False)
class InjurySummary:
    """Injury of one session on the sample (lengths um, densities per cm^2).

    ``density_map_per_cm2[j, i]`` is the density in the bin ``x`` in
    ``[e_i, e_{i+1})``, ``y`` in ``[e_j, e_{j+1})`` (``e`` = ``density_bin_edges_mm``).
    Means are over channels (0 when there are none). ``injured_volume_fraction`` sums
    the track volumes without removing overlaps (a volume dose): it equals the injured
    fraction while channels do not overlap, and exceeds it (it can even pass 1) for very dense
    settings (e.g. a slow pen over many passes).
    """

    device_type: str
    sample_area_mm2: float
    n_punctures: int
    n_channels: int
    channel_density_per_cm2: float
    density_map_per_cm2: FloatArray
    density_bin_edges_mm: FloatArray
    coverage_fraction: float
    effective_depth_um: float
    channel_depth_um: float
    surface_diameter_um: float
    layers_reached: tuple[str, ...]
    injured_volume_fraction: dict[str, float] = field(default_factory=dict)
    bleeding_fraction: float = 0.0
    punctures_per_second: float | None = None

    def injured_fraction_array(self) -> FloatArray:
        """Injured volume fraction of the 5 layers, in :class:`Layer` order."""
        return np.array([self.injured_volume_fraction[name] for name in LAYER_NAMES])

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe values (floats, ints, strings, lists, None)."""
        return {
            "device_type": self.device_type,
            "sample_area_mm2": float(self.sample_area_mm2),
            "n_punctures": int(self.n_punctures),
            "n_channels": int(self.n_channels),
            "channel_density_per_cm2": float(self.channel_density_per_cm2),
            "density_map_per_cm2": np.round(self.density_map_per_cm2, 6).tolist(),
            "density_bin_edges_mm": np.round(self.density_bin_edges_mm, 9).tolist(),
            "coverage_fraction": float(self.coverage_fraction),
            "effective_depth_um": float(self.effective_depth_um),
            "channel_depth_um": float(self.channel_depth_um),
            "surface_diameter_um": float(self.surface_diameter_um),
            "layers_reached": list(self.layers_reached),
            "injured_volume_fraction": {
                k: float(v) for k, v in self.injured_volume_fraction.items()
            },
            "bleeding_fraction": float(self.bleeding_fraction),
            "punctures_per_second": (
                None if self.punctures_per_second is None else float(self.punctures_per_second)
            ),
        }


def footprint_area_um2(punctures: Punctures, tilt_deg: float) -> FloatArray:
    """Surface footprint of each channel, ``pi D^2 / (4 cos theta)`` (um^2)."""
    d = punctures.surface_diameter_um
    return math.pi * d * d / (4.0 * math.cos(math.radians(tilt_deg)))


def coverage_fraction(punctures: Punctures, tilt_deg: float = 0.0) -> float:
    """``1 - exp(-sum a_i / A)``: surface fraction inside at least one footprint."""
    area = punctures.sample_side_um**2
    return float(-np.expm1(-footprint_area_um2(punctures, tilt_deg).sum() / area))


def coverage_raster(punctures: Punctures, pixel_um: float = 5.0, tilt_deg: float = 0.0) -> float:
    """Covered fraction of a pixel grid, footprints drawn as discs of the same area,
    wrapped periodically: a check of :func:`coverage_fraction`."""
    side = punctures.sample_side_um
    n = max(1, round(side / pixel_um))
    pixel = side / n
    covered = np.zeros((n, n), dtype=bool)
    radius = np.sqrt(footprint_area_um2(punctures, tilt_deg) / math.pi)
    centres = (np.arange(n) + 0.5) * pixel
    for x, y, r in zip(punctures.x_um, punctures.y_um, radius, strict=True):
        if r <= 0.0:
            continue
        ix = np.arange(math.floor((x - r) / pixel), math.ceil((x + r) / pixel) + 1)
        iy = np.arange(math.floor((y - r) / pixel), math.ceil((y + r) / pixel) + 1)
        dx = centres[ix % n] + (ix // n) * side - x
        dy = centres[iy % n] + (iy // n) * side - y
        inside = dx[None, :] ** 2 + dy[:, None] ** 2 <= r * r
        covered[np.ix_(iy % n, ix % n)] |= inside
    return float(covered.mean())


def density_map_per_cm2(punctures: Punctures) -> tuple[FloatArray, FloatArray]:
    """Channel density in ~1 mm bins (rows = y) and the bin edges in mm."""
    side_mm = punctures.sample_side_um / 1000.0
    n = max(1, round(side_mm / DENSITY_BIN_MM))
    edges = np.linspace(0.0, side_mm, n + 1)
    counts, _, _ = np.histogram2d(
        punctures.y_um / 1000.0, punctures.x_um / 1000.0, bins=(edges, edges)
    )
    bin_cm2 = (side_mm / n / 10.0) ** 2
    return counts / bin_cm2, edges


def layer_track_volume_um3(
    punctures: Punctures, skin: SkinProfile, needle: NeedleGeometry
) -> FloatArray:
    """Total track volume (um^3) inside each of the 5 layers, in :class:`Layer` order."""
    b = skin.boundaries_um
    d = punctures.penetration_depth_um
    return np.array([needle.track_volume_um3(d, b[layer], b[layer + 1]).sum() for layer in Layer])


def layers_reached(penetration_um: FloatArray, skin: SkinProfile) -> tuple[str, ...]:
    """Layers entered by at least 5 % of the channels, surface first."""
    if penetration_um.size == 0:
        return ()
    tops = skin.boundaries_um[:-1]
    entered = (penetration_um[:, None] > tops[None, :]).mean(axis=0)
    return tuple(
        name
        for name, frac in zip(LAYER_NAMES, entered, strict=True)
        if frac >= LAYER_REACHED_MIN_FRACTION
    )


def _mean(values: FloatArray) -> float:
    return float(values.mean()) if values.size else 0.0


def summarize_injury(punctures: Punctures, skin: SkinProfile, device: AnyDevice) -> InjurySummary:
    """The :class:`InjurySummary` of one session's punctures on ``skin``."""
    channels = punctures.select(punctures.pierced)
    needle = NeedleGeometry.from_device(device)
    area_um2 = punctures.sample_side_um**2
    volume = layer_track_volume_um3(channels, skin, needle)
    thickness = np.asarray(skin.thickness_um, dtype=np.float64)
    fractions = volume / (area_um2 * thickness)
    density, edges = density_map_per_cm2(channels)
    depth = channels.penetration_depth_um
    return InjurySummary(
        device_type=device.type,
        sample_area_mm2=area_um2 * 1e-6,
        n_punctures=len(punctures),
        n_channels=len(channels),
        channel_density_per_cm2=len(channels) / punctures.sample_area_cm2,
        density_map_per_cm2=density,
        density_bin_edges_mm=edges,
        coverage_fraction=coverage_fraction(channels, needle.tilt_deg),
        effective_depth_um=_mean(depth),
        channel_depth_um=_mean(channels.channel_depth_um),
        surface_diameter_um=_mean(channels.surface_diameter_um),
        layers_reached=layers_reached(depth, skin),
        injured_volume_fraction={
            name: float(f) for name, f in zip(LAYER_NAMES, fractions, strict=True)
        },
        bleeding_fraction=_mean((depth > skin.epidermis_um).astype(np.float64)),
        punctures_per_second=(
            pen_punctures_per_second(device) if isinstance(device, PenDevice) else None
        ),
    )
