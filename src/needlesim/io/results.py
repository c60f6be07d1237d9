"""Writing results: xarray datasets to zarr (atomically), with units in attrs."""

from __future__ import annotations

import warnings
from pathlib import Path

import xarray as xr

from .atomic import atomic_path


def write_zarr(dataset: xr.Dataset, target: str | Path) -> Path:
    """Write ``dataset`` to a zarr store at ``target``, replacing it only when complete.

    Zarr format 2 with consolidated metadata: readable by every zarr and xarray
    version in use. String coordinates are stored as object arrays.
    """
    target = Path(target)
    ds = dataset.copy()
    for name, coord in ds.coords.items():
        if coord.dtype.kind == "U":
            ds = ds.assign_coords({name: coord.astype(object)})
    with atomic_path(target, directory=True) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", category=FutureWarning)
        ds.to_zarr(tmp, mode="w", zarr_format=2, consolidated=True)
    return target


def read_zarr(source: str | Path) -> xr.Dataset:
    """Open a result store written by :func:`write_zarr` (loaded into memory)."""
    return xr.open_zarr(source, consolidated=True).load()
