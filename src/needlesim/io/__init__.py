"""Input and output helpers: atomic writes, zarr results, provenance, user folders.

Names are imported on first use (zarr and xarray are slow to import).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# eager: the submodule ``provenance`` shares its name with its function, and a lazy
# attribute would be replaced by the submodule once anything imports it
from .provenance import config_hash, provenance

_WHERE = {
    "atomic_path": "atomic",
    "write_json": "atomic",
    "write_text": "atomic",
    "read_zarr": "results",
    "write_zarr": "results",
    "check_output_dir": "outdir",
    "user_data_dir": "paths",
    "user_cache_dir": "paths",
    "jax_cache_dir": "paths",
    "default_fitted_out": "paths",
}

if TYPE_CHECKING:
    from .atomic import atomic_path, write_json, write_text
    from .outdir import check_output_dir
    from .paths import default_fitted_out, jax_cache_dir, user_cache_dir, user_data_dir
    from .results import read_zarr, write_zarr


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "atomic_path",
    "check_output_dir",
    "config_hash",
    "default_fitted_out",
    "jax_cache_dir",
    "provenance",
    "read_zarr",
    "user_cache_dir",
    "user_data_dir",
    "write_json",
    "write_text",
    "write_zarr",
]
