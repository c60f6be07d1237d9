r"""Spatial outputs of a patch run: what resolved channels show and layer means cannot.

* :func:`axis_distance_um`: the lateral distance of every voxel centre from the
  nearest channel axis at the voxel's depth. A needle enters at ``(x_0, y_0)``
  tilted by ``theta`` in the x-z plane (:func:`needlesim.device.needle.track_mask`),
  so at depth ``z`` its axis lies at ``(x_0 + z tan theta, y_0)``; the distance
  of a voxel centre ``(x, y, z)`` is

      r = min_i sqrt(dx_i^2 + dy_i^2),  dx_i = x - x_{0,i} - z tan theta_i,  dy_i = y - y_{0,i},

  each difference taken to the nearest periodic image (the patch is periodic
  in x and y). Below a channel's tip the axis is continued: ``r`` is then the
  distance from the line the needle travelled along.
* :func:`radial_profile`: the mean of a field over the voxels in each band of
  ``r`` (bins of :data:`RADIAL_BIN_UM`) at each voxel row (depth): a 2-D profile
  ``(distance, z)``; ``NaN`` where a band holds no voxel of that row.
* :func:`remodelled_fraction`: the share of the voxels of a region whose value
  changed from rest by more than a fraction of rest,

      f = #{v in region : |c_v - c_v,0| > theta c_v,0} / #region,

  with ``theta`` = :data:`REMODELLED_THRESHOLD` by default. Voxels of one run
  all have the same volume, so a share of voxels is a share of volume.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from ..geometry.grid import PatchGrid

FloatArray = NDArray[np.float64]

RADIAL_BIN_UM = 20.0
"""Width of the distance bins of :func:`radial_profile` (um). A setting of the output,
not of the model: finer than the 50 um voxels, since channels sit anywhere in a voxel."""
REMODELLED_THRESHOLD = 0.10
"""A voxel counts as remodelled when its collagen (I + III) differs from rest by more
than this fraction of rest. A setting of the output (a reading threshold), not model data."""

_CHUNK = 256
"""Channels handled at once by :func:`axis_distance_um` (its memory: this x nx x ny floats)."""


def _periodic(d: FloatArray, length: float) -> FloatArray:
    """``d`` wrapped into ``[-L/2, L/2)``: the difference to the nearest periodic image."""
    out: FloatArray = (d + 0.5 * length) % length - 0.5 * length
    return out


def axis_distance_um(
    grid: PatchGrid,
    x_um: FloatArray | Sequence[float],
    y_um: FloatArray | Sequence[float],
    tilt_deg: FloatArray | Sequence[float] | float = 0.0,
) -> FloatArray:
    """``(nx, ny, nz)``: distance (um) of each voxel centre from the nearest channel axis
    at its depth (module doc); ``inf`` everywhere when there is no channel.

    ``x_um``, ``y_um``: the channels' entry points on the patch; ``tilt_deg``: their
    tilt in the x-z plane (one for all, or one per channel).
    """
    x0 = np.asarray(x_um, dtype=np.float64).ravel()
    y0 = np.asarray(y_um, dtype=np.float64).ravel()
    tilt = np.broadcast_to(np.asarray(tilt_deg, dtype=np.float64), x0.shape)
    lx, ly, _ = grid.lengths_um
    xc, yc, zc = grid.x_um, grid.y_um, grid.z_um
    shift = np.tan(np.radians(tilt))  # lateral shift of the axis per um of depth
    best = np.full(grid.shape, np.inf)
    rows = range(grid.nz) if np.any(shift != 0.0) else range(min(1, grid.nz))
    for k in rows:
        for start in range(0, x0.size, _CHUNK):
            sl = slice(start, start + _CHUNK)
            dx = _periodic(xc[None, :] - (x0[sl, None] + shift[sl, None] * zc[k]), lx)
            dy = _periodic(yc[None, :] - y0[sl, None], ly)
            r2 = dx[:, :, None] ** 2 + dy[:, None, :] ** 2  # (channels, nx, ny)
            best[:, :, k] = np.minimum(best[:, :, k], r2.min(axis=0))
    if len(rows) == 1:  # vertical channels: the same at every depth
        best[:] = best[:, :, :1]
    out: FloatArray = np.sqrt(best)
    return out


def radial_bins(grid: PatchGrid, bin_um: float = RADIAL_BIN_UM) -> FloatArray:
    """Bin edges ``0, b, 2b, ...`` (um) up to the largest distance a periodic patch allows
    (half its diagonal)."""
    if not bin_um > 0.0:
        raise ValueError(f"bin_um must be > 0, got {bin_um}")
    lx, ly, _ = grid.lengths_um
    reach = 0.5 * float(np.hypot(lx, ly))
    edges: FloatArray = np.arange(0.0, reach + bin_um, bin_um)
    return edges


def radial_profile(
    values: FloatArray,
    distance_um: FloatArray,
    edges_um: FloatArray,
    rows: NDArray[np.integer] | None = None,
    n_rows: int | None = None,
) -> tuple[FloatArray, NDArray[np.int64]]:
    """Mean of ``values`` over the voxels in each distance band at each voxel row.

    ``values``, ``distance_um``: ``(nx, ny, nz)``; ``edges_um``: ``n + 1`` bin edges.
    Returns ``(mean, count)``, each ``(n, rows)``: ``mean[j, k]`` is the mean of the
    voxels of row ``k`` with ``edges[j] <= r < edges[j + 1]`` (``NaN`` where
    ``count[j, k] == 0``). Rows are the voxel rows (depths) unless ``rows`` maps each
    depth to a group (e.g. ``grid.layer_of_z``; ``n_rows`` groups, default
    ``max(rows) + 1``).
    """
    if values.shape != distance_um.shape:
        raise ValueError(f"values {values.shape} and distances {distance_um.shape} differ")
    nz = values.shape[2]
    group = np.arange(nz) if rows is None else np.asarray(rows, dtype=np.int64)
    if group.shape != (nz,):
        raise ValueError(f"rows must have one entry per depth ({nz}), got {group.shape}")
    m = int(n_rows) if n_rows is not None else int(group.max(initial=-1)) + 1
    n = edges_um.size - 1
    band = np.digitize(distance_um, edges_um) - 1  # -1 below, n at or beyond the last edge
    row = np.broadcast_to(group, values.shape)
    ok = (band >= 0) & (band < n) & (row >= 0) & (row < m)
    flat = band[ok] * m + row[ok]
    count = np.bincount(flat, minlength=n * m).reshape(n, m)
    total = np.bincount(flat, weights=values[ok], minlength=n * m).reshape(n, m)
    mean: FloatArray = np.full((n, m), np.nan)
    np.divide(total, count, out=mean, where=count > 0)
    return mean, count.astype(np.int64)


def remodelled_fraction(
    now: FloatArray,
    rest: FloatArray,
    region: NDArray[np.bool_],
    threshold: float = REMODELLED_THRESHOLD,
) -> float:
    """Share of the voxels in ``region`` with ``|now - rest| > threshold * rest`` (module doc).

    ``now``, ``rest``, ``region`` broadcast to one shape; ``NaN`` for an empty region.
    """
    if not threshold >= 0.0:
        raise ValueError(f"threshold must be >= 0, got {threshold}")
    now, rest, region = np.broadcast_arrays(now, rest, region)
    n = int(region.sum())
    if n == 0:
        return float("nan")
    changed = np.abs(now - rest) > threshold * np.abs(rest)
    return float((changed & region).sum() / n)
