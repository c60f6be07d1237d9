"""Input and output helpers: atomic writes, zarr results, provenance."""

from .atomic import atomic_path, write_json, write_text
from .outdir import check_output_dir
from .provenance import config_hash, provenance
from .results import read_zarr, write_zarr

__all__ = [
    "atomic_path",
    "check_output_dir",
    "config_hash",
    "provenance",
    "read_zarr",
    "write_json",
    "write_text",
    "write_zarr",
]
