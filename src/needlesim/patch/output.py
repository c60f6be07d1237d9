"""What a patch run returns: fields, depth profiles, layer means and slices.

* ``field``: full 3D fields at the chosen ``field_days``, dims
  ``(time_field, species, x, y, z)``;
* ``profile``: depth profiles, the lateral mean ``<y_s>(z) = mean_{x,y} y_s``
  at ``profile_days``, dims ``(time_profile, species, z)``;
* ``layer_mean``: the volume mean of every species over each skin layer
  present on the grid (``NaN`` for layers below or outside it), dims
  ``(time_profile, species, layer)``: what the ``layered`` level is compared
  with;
* ``slice``: horizontal slices (the voxel layer containing each of
  ``slice_depths_um``) at ``slice_days``, dims
  ``(time_slice, depth, species, x, y)``: image series of healing;
* ``selected``: full 3D fields of a few ``selected_species`` only at
  ``selected_days``, dims ``(time_selected, selected_species, x, y, z)``: what
  spatial summaries need on many days at a fraction of the memory of ``field``.

A run given a ``spill_dir`` (:func:`needlesim.patch.simulate_patch`) writes each
saved 3D array (``field``, ``selected``) to disk as it is made and keeps it
memory-mapped (:func:`spill`): a whole course at the standard size saves about
1.2 GB of fields, which would otherwise sit in memory beside the solver's.

Coordinates are cell centres in um (``z`` = depth below the surface), times in
days; every variable and coordinate carries ``units`` in its attrs and the
species' units are the ``units`` coordinate along ``species``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from .. import __version__
from ..anatomy import LAYER_NAMES
from ..geometry.grid import N_LAYERS, PatchGrid
from ..io import atomic_path, write_zarr

FloatArray = NDArray[np.float64]

KINDS = ("field", "profile", "slice", "selected")
SPILLED = ("field", "selected")
"""The kinds of output that are 3D fields: those a ``spill_dir`` moves to disk."""


def spilled_name(kind: str, index: int) -> str:
    """The file name of the ``index``-th saved output of ``kind`` kept for a checkpoint."""
    return f"{kind}-{index:05d}.npy"


def spill(array: Any, directory: str | Path, name: str | None = None) -> NDArray[np.float64]:
    """``array`` written to a ``.npy`` file in ``directory`` and returned memory-mapped
    (read-only), so its pages are read back from disk only when the array is used.

    Without a ``name`` the file is new and unlinked at once where the system allows it
    (POSIX keeps a mapped file's pages until the mapping goes): nothing is left to clean
    up. With a ``name`` (:func:`spilled_name`) it is written atomically under that name
    and kept: a checkpoint refers to it instead of copying the array
    (:class:`~needlesim.patch.checkpoint.Checkpoint`)."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    if name is not None:
        target = folder / name
        with atomic_path(target) as tmp, open(tmp, "wb") as fh:
            np.save(fh, np.asarray(array))
        kept: NDArray[np.float64] = np.load(target, mmap_mode="r")
        return kept
    fd, path = tempfile.mkstemp(prefix="output-", suffix=".npy", dir=folder)
    with os.fdopen(fd, "wb") as fh:
        np.save(fh, np.asarray(array))
    mapped: NDArray[np.float64] = np.load(path, mmap_mode="r")
    with contextlib.suppress(OSError):  # a system that cannot unlink a mapped file keeps it
        os.unlink(path)
    return mapped


@dataclass(frozen=True)
class OutputSpec:
    """When and what to save (days from the run's start time, depths in um)."""

    field_days: tuple[float, ...] = ()
    profile_days: tuple[float, ...] = ()
    slice_days: tuple[float, ...] = ()
    slice_depths_um: tuple[float, ...] = ()
    selected_days: tuple[float, ...] = ()
    selected_species: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in (
            "field_days",
            "profile_days",
            "slice_days",
            "slice_depths_um",
            "selected_days",
        ):
            values = tuple(float(v) for v in getattr(self, name))
            object.__setattr__(self, name, tuple(sorted(set(values))))
        object.__setattr__(self, "selected_species", tuple(str(s) for s in self.selected_species))
        if self.slice_days and not self.slice_depths_um:
            raise ValueError("slice_days needs slice_depths_um")
        if self.selected_days and not self.selected_species:
            raise ValueError("selected_days needs selected_species")
        if len(set(self.selected_species)) != len(self.selected_species):
            raise ValueError(f"selected_species repeats a species: {self.selected_species}")

    def all_days(self, profiles: bool = True) -> tuple[float, ...]:
        """Every output day (without the profile days if not ``profiles``)."""
        days = self.field_days + self.slice_days + self.selected_days
        if profiles:
            days = days + self.profile_days
        return tuple(sorted(set(days)))

    def fingerprint(self) -> str:
        return repr(self)


def lateral_mean(y: Any) -> Any:
    """The depth profile ``<y_s>(z) = mean_{x,y} y_s``: ``(S, nz)`` from ``(S, nx, ny, nz)``
    (NumPy or JAX)."""
    return y.mean(axis=(1, 2))


def layer_means(grid: PatchGrid, profile: FloatArray) -> FloatArray:
    """Per-layer means ``(..., 5)`` from depth profiles ``(..., nz)``; NaN where absent."""
    out = np.full((*profile.shape[:-1], N_LAYERS), np.nan)
    for layer in range(N_LAYERS):
        mask = grid.layer_of_z == layer
        if mask.any():
            out[..., layer] = profile[..., mask].mean(axis=-1)
    return out


@dataclass
class PatchResult:
    """Outputs and statistics of :func:`needlesim.patch.simulate_patch`."""

    grid: PatchGrid
    species: tuple[str, ...]
    units: tuple[str, ...]
    times: dict[str, list[float]]
    data: dict[str, list[FloatArray]]
    slice_depths_um: tuple[float, ...]
    y_final: FloatArray
    t_final: float
    stats: dict[str, Any] = field(default_factory=dict)
    selected_species: tuple[str, ...] = ()

    # accessors -----------------------------------------------------------------

    def _stack(self, kind: str) -> tuple[FloatArray, FloatArray]:
        t = np.asarray(self.times.get(kind, []), dtype=np.float64)
        items = self.data.get(kind, [])
        return t, (np.stack(items) if items else np.zeros((0,)))

    def index(self, species: str | int) -> int:
        if isinstance(species, int | np.integer):
            return int(species)
        return self.species.index(species)

    def fields(self) -> tuple[FloatArray, FloatArray]:
        """``(days, fields)``: fields of shape ``(T, S, nx, ny, nz)``."""
        return self._stack("field")

    def profiles(self) -> tuple[FloatArray, FloatArray]:
        """``(days, profiles)``: lateral means of shape ``(T, S, nz)``."""
        return self._stack("profile")

    def layer_means(self) -> tuple[FloatArray, FloatArray]:
        """``(days, means)``: per-layer means of shape ``(T, S, 5)``."""
        t, p = self.profiles()
        return t, (layer_means(self.grid, p) if p.size else p)

    def slices(self) -> tuple[FloatArray, FloatArray]:
        """``(days, slices)``: shape ``(T, n_depths, S, nx, ny)``."""
        return self._stack("slice")

    def selected(self) -> tuple[FloatArray, FloatArray]:
        """``(days, fields)``: fields of :attr:`selected_species`, shape ``(T, k, nx, ny, nz)``."""
        return self._stack("selected")

    def field_at(self, day: float) -> FloatArray:
        """The saved 3D fields ``(S, nx, ny, nz)`` at ``day`` (must be a field day)."""
        t = np.asarray(self.times.get("field", []), dtype=np.float64)
        hits = np.flatnonzero(np.isclose(t, day, rtol=0, atol=1e-9))
        if hits.size == 0:
            raise KeyError(f"no fields saved at day {day}; saved: {t.tolist()}")
        return np.asarray(self.data["field"][hits[0]])

    # xarray ----------------------------------------------------------------------

    def to_dataset(self, attrs: dict[str, Any] | None = None) -> xr.Dataset:
        """All outputs as one :class:`xarray.Dataset` (see the module doc)."""
        g = self.grid
        um = {"units": "um"}
        coords: dict[str, Any] = {
            "species": ("species", list(self.species)),
            "units": ("species", list(self.units)),
            "x": ("x", g.x_um, {**um, "long_name": "lateral position x (periodic)"}),
            "y": ("y", g.y_um, {**um, "long_name": "lateral position y (periodic)"}),
            "z": ("z", g.z_um, {**um, "long_name": "depth below the skin surface"}),
            "layer_of_z": ("z", g.layer_names_of_z(), {"long_name": "skin layer of each depth"}),
        }
        data_vars: dict[str, Any] = {}
        t, f = self.fields()
        if t.size:
            coords["time_field"] = ("time_field", t, {"units": "days"})
            data_vars["field"] = (
                ("time_field", "species", "x", "y", "z"),
                f,
                {"long_name": "species fields", "units": "see coordinate 'units'"},
            )
        t, p = self.profiles()
        if t.size:
            coords["time_profile"] = ("time_profile", t, {"units": "days"})
            coords["layer"] = ("layer", list(LAYER_NAMES))
            data_vars["profile"] = (
                ("time_profile", "species", "z"),
                p,
                {"long_name": "lateral mean at each depth", "units": "see coordinate 'units'"},
            )
            data_vars["layer_mean"] = (
                ("time_profile", "species", "layer"),
                layer_means(g, p),
                {"long_name": "volume mean over each layer", "units": "see coordinate 'units'"},
            )
        t, s = self.slices()
        if t.size:
            coords["time_slice"] = ("time_slice", t, {"units": "days"})
            coords["slice_depth"] = ("slice_depth", np.asarray(self.slice_depths_um), um)
            data_vars["slice"] = (
                ("time_slice", "slice_depth", "species", "x", "y"),
                s,
                {"long_name": "horizontal slice", "units": "see coordinate 'units'"},
            )
        t, sel = self.selected()
        if t.size:
            coords["time_selected"] = ("time_selected", t, {"units": "days"})
            coords["selected_species"] = ("selected_species", list(self.selected_species))
            data_vars["selected_field"] = (
                ("time_selected", "selected_species", "x", "y", "z"),
                sel,
                {
                    "long_name": "fields of the selected species",
                    "units": ", ".join(self.units[self.index(s)] for s in self.selected_species),
                },
            )
        ds = xr.Dataset(data_vars, coords=coords)
        ds.attrs.update(
            {
                "fidelity": "patch",
                "needlesim_version": __version__,
                "grid_shape": list(g.shape),
                "spacing_um": list(g.spacing_um),
                "t_final_days": float(self.t_final),
                **{f"stat_{k}": v for k, v in self.stats.items() if _attr_ok(v)},
                **(attrs or {}),
            }
        )
        return ds

    def write_zarr(self, target: str | Path, attrs: dict[str, Any] | None = None) -> Path:
        """Write :meth:`to_dataset` to a zarr store atomically."""
        return write_zarr(self.to_dataset(attrs), target)


def _attr_ok(value: Any) -> bool:
    return isinstance(value, int | float | str | bool)
