"""PNG figures of a patch run (matplotlib, Agg backend, written atomically).

* :func:`plot_slice`: a horizontal slice ``y_s(x, y, z0)`` at one depth and time;
* :func:`plot_depth_profiles`: lateral means ``<y_s>(z)`` over time, with the
  skin layers shaded;
* :func:`write_image_series`: one frame per saved slice time (common colour
  scale), e.g. the healing of one session's channels;
* :func:`plot_radial_profile`: a field against the distance from the nearest
  channel axis and the depth (:func:`needlesim.patch.spatial.radial_profile`).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from numpy.typing import NDArray

from ..anatomy import LAYER_NAMES
from ..geometry.grid import PatchGrid
from ..io import atomic_path
from .output import PatchResult


def _save(fig: Any, path: str | Path) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def _slice_image(
    ax: Any,
    grid: PatchGrid,
    values: NDArray[np.float64],
    title: str,
    unit: str,
    vmin: float | None = None,
    vmax: float | None = None,
) -> None:
    lx, ly, _ = grid.lengths_um
    im = ax.imshow(
        values.T,
        origin="lower",
        extent=(0.0, lx / 1000.0, 0.0, ly / 1000.0),
        cmap="viridis",
        vmin=vmin,
        vmax=vmax,
        interpolation="nearest",
    )
    ax.set_xlabel("x (mm)")
    ax.set_ylabel("y (mm)")
    ax.set_title(title)
    ax.figure.colorbar(im, ax=ax, label=unit)


def plot_slice(
    result: PatchResult, species: str | int, depth_um: float, day: float, path: str | Path
) -> Path:
    """PNG of ``species`` at the voxel layer containing ``depth_um`` on a saved field day."""
    i = result.index(species)
    k = result.grid.depth_index(depth_um)
    values = result.field_at(day)[i, :, :, k]
    fig, ax = plt.subplots(figsize=(5, 4))
    z = result.grid.z_um[k]
    _slice_image(
        ax,
        result.grid,
        values,
        f"{result.species[i]}, z = {z:.0f} um, day {day:g}",
        result.units[i],
    )
    return _save(fig, path)


def _layer_boundaries(ax: Any, grid: PatchGrid) -> None:
    """Horizontal lines at the grid's layer boundaries, labelled at the right."""
    dz = grid.spacing_um[2]
    boundaries = np.flatnonzero(np.diff(grid.layer_of_z)) + 1
    edges = np.concatenate([[0], boundaries, [grid.nz]]) * dz
    for top, bottom in itertools.pairwise(edges):
        k = min(round(top / dz), grid.nz - 1)
        if top > 0:
            ax.axhline(top, color="white", lw=0.8, ls="--")
        ax.text(
            0.99,
            (top + bottom) / 2,
            LAYER_NAMES[grid.layer_of_z[k]].replace("_", " "),
            ha="right",
            va="center",
            fontsize=7,
            color="0.15",
            bbox={"facecolor": "white", "alpha": 0.6, "edgecolor": "none", "pad": 1.0},
            transform=ax.get_yaxis_transform(),
        )


def plot_radial_profile(
    grid: PatchGrid,
    edges_um: NDArray[np.float64],
    profile: NDArray[np.float64],
    title: str,
    unit: str,
    path: str | Path,
) -> Path:
    """PNG of a radial profile ``profile[bin, z]`` (distance bins ``edges_um`` from the
    nearest channel axis, voxel rows of ``grid``), with the skin layers marked; bins
    without voxels are left blank."""
    if profile.shape != (edges_um.size - 1, grid.nz):
        expected = (edges_um.size - 1, grid.nz)
        raise ValueError(f"profile has shape {profile.shape}, expected {expected}")
    used = np.flatnonzero(np.isfinite(profile).any(axis=1))
    reach = float(edges_um[used[-1] + 1]) if used.size else float(edges_um[-1])
    lz = grid.lengths_um[2]
    fig, ax = plt.subplots(figsize=(6, 4.5))
    values = np.ma.masked_invalid(profile.T)
    im = ax.pcolormesh(
        edges_um, np.linspace(0.0, lz, grid.nz + 1), values, cmap="viridis", shading="flat"
    )
    ax.set_xlim(0.0, reach)
    ax.set_ylim(lz, 0.0)
    _layer_boundaries(ax, grid)
    ax.set_xlabel("distance from the nearest channel axis (um)")
    ax.set_ylabel("depth (um)")
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax, label=unit)
    return _save(fig, path)


def plot_depth_profiles(
    result: PatchResult, species: str | int, path: str | Path, days: Sequence[float] | None = None
) -> Path:
    """PNG of the lateral-mean depth profile of ``species`` at the saved profile days."""
    i = result.index(species)
    t, p = result.profiles()
    if t.size == 0:
        raise ValueError("the result has no depth profiles (set OutputSpec.profile_days)")
    grid = result.grid
    fig, ax = plt.subplots(figsize=(5, 5))
    boundaries = np.flatnonzero(np.diff(grid.layer_of_z)) + 1
    edges = np.concatenate([[0], boundaries, [grid.nz]]) * grid.spacing_um[2]
    for n, (top, bottom) in enumerate(itertools.pairwise(edges)):
        k = min(round(top / grid.spacing_um[2]), grid.nz - 1)
        layer = LAYER_NAMES[grid.layer_of_z[k]]
        ax.axhspan(top, bottom, color=("0.93" if n % 2 else "0.98"), zorder=0)
        ax.text(
            0.99,
            (top + bottom) / 2,
            layer.replace("_", " "),
            ha="right",
            va="center",
            fontsize=7,
            color="0.4",
            transform=ax.get_yaxis_transform(),
        )
    selected = range(t.size) if days is None else [int(np.argmin(np.abs(t - d))) for d in days]
    for n in selected:
        ax.plot(p[n, i], grid.z_um, label=f"day {t[n]:g}")
    ax.invert_yaxis()
    ax.set_xlabel(f"{result.species[i]} ({result.units[i]})")
    ax.set_ylabel("depth (um)")
    ax.legend(fontsize=7)
    return _save(fig, path)


def write_image_series(
    result: PatchResult,
    species: str | int,
    depth_um: float,
    directory: str | Path,
    *,
    prefix: str | None = None,
) -> list[Path]:
    """One PNG per saved slice time of ``species`` at ``depth_um`` (a saved slice depth),
    on a common colour scale; returns the paths in time order."""
    i = result.index(species)
    t, s = result.slices()
    if t.size == 0:
        raise ValueError("the result has no slices (set OutputSpec.slice_days)")
    depths = np.asarray(result.slice_depths_um)
    j = int(np.argmin(np.abs(depths - depth_um)))
    frames = s[:, j, i]
    vmin, vmax = float(frames.min()), float(frames.max())
    directory = Path(directory)
    name = prefix or f"{result.species[i]}_z{depths[j]:g}um"
    paths = []
    for n, day in enumerate(t):
        fig, ax = plt.subplots(figsize=(5, 4))
        _slice_image(
            ax,
            result.grid,
            frames[n],
            f"{result.species[i]}, z = {depths[j]:g} um, day {day:.3g}",
            result.units[i],
            vmin,
            vmax,
        )
        paths.append(_save(fig, directory / f"{name}_{n:03d}.png"))
    return paths
