"""needlesim: an in-silico lab for microneedling (collagen induction therapy).

The chain, one direction only::

    config -> anatomy -> device -> injury -> solve -> outcomes -> results

The public API (see ``docs/api.md``)::

    import needlesim
    run = needlesim.load("examples/acne-scars.yaml")
    course = needlesim.simulate(run)
    course.observables            # xarray.Dataset over days

``import needlesim`` is cheap: the API lives in :mod:`needlesim.api` and is
imported on first use, and JAX only when a computation needs it. Before any
JAX import this module sets, through JAX's environment variables:

* float64 (``JAX_ENABLE_X64``), so every computation runs in double precision;
* JAX's persistent compilation cache in the user cache folder
  (``$NEEDLESIM_CACHE_DIR``/jax, default ``~/.cache/needlesim/jax``;
  ``NEEDLESIM_NO_CACHE=1`` switches it off), so a second process reuses what
  the first compiled.

Where JAX was imported before needlesim, the same settings are applied with
``jax.config.update``.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

CACHE_MIN_COMPILE_TIME_S = 0.0
"""Compilations at least this long (s) go into the persistent cache: all of them, since
the course compiles dozens of small functions whose sum, not any one, is the wait."""


def _configure_jax() -> None:
    """float64 and the persistent compilation cache, without importing JAX."""
    from .io.paths import jax_cache_dir

    settings: dict[str, Any] = {"jax_enable_x64": True}
    cache = jax_cache_dir()
    if cache is not None:
        settings["jax_compilation_cache_dir"] = str(cache)
        settings["jax_persistent_cache_min_compile_time_secs"] = CACHE_MIN_COMPILE_TIME_S
        settings["jax_persistent_cache_min_entry_size_bytes"] = -1
    jax = sys.modules.get("jax")
    for name, value in settings.items():
        env = name.upper()
        if env in os.environ and name != "jax_enable_x64":  # the user's cache choice wins
            continue
        os.environ[env] = "1" if value is True else str(value)
        if jax is not None:
            jax.config.update(name, value)


_configure_jax()

__all__ = [
    "CalibrationResult",
    "CohortResult",
    "ConfigError",
    "CourseResult",
    "PatientSpec",
    "Plan",
    "RunConfig",
    "SensitivityResult",
    "Study",
    "StudyResult",
    "__version__",
    "calibrate",
    "load",
    "plan",
    "run_cohort",
    "run_study",
    "sensitivity",
    "simulate",
]
_API = frozenset(__all__[1:])

if TYPE_CHECKING:
    from .api import (
        CalibrationResult,
        CohortResult,
        ConfigError,
        CourseResult,
        PatientSpec,
        Plan,
        RunConfig,
        SensitivityResult,
        Study,
        StudyResult,
        calibrate,
        load,
        plan,
        run_cohort,
        run_study,
        sensitivity,
        simulate,
    )


def __getattr__(name: str) -> Any:
    """Import :mod:`needlesim.api` on first use of one of its names."""
    if name in _API:
        from . import api

        value = getattr(api, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
