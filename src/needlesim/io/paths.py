"""Where needlesim keeps user files: the fitted set a calibration writes, the JAX cache.

Linux/XDG layout (macOS and Windows follow the same rule with ``~`` as home):

* data: ``$NEEDLESIM_DATA_DIR``, else ``$XDG_DATA_HOME/needlesim``, else
  ``~/.local/share/needlesim``; ``needlesim calibrate`` writes ``fitted.yaml`` there
  unless given ``--out``;
* cache: ``$NEEDLESIM_CACHE_DIR``, else ``$XDG_CACHE_HOME/needlesim``, else
  ``~/.cache/needlesim``; JAX's persistent compilation cache lives in its
  ``jax/`` folder. ``NEEDLESIM_NO_CACHE=1`` switches the cache off.

The package's own data (``needlesim/data``) are never written at run time.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "NEEDLESIM_DATA_DIR"
CACHE_ENV = "NEEDLESIM_CACHE_DIR"
NO_CACHE_ENV = "NEEDLESIM_NO_CACHE"
FITTED_ENV = "NEEDLESIM_FITTED"
"""A fitted set (YAML written by ``needlesim calibrate``) to use instead of the packaged one."""


def _xdg(env: str, fallback: str) -> Path:
    base = os.environ.get(env)
    return Path(base) if base else Path.home() / fallback


def user_data_dir() -> Path:
    """``$NEEDLESIM_DATA_DIR`` or ``$XDG_DATA_HOME/needlesim`` or ``~/.local/share/needlesim``."""
    own = os.environ.get(DATA_ENV)
    return Path(own) if own else _xdg("XDG_DATA_HOME", ".local/share") / "needlesim"


def user_cache_dir() -> Path:
    """``$NEEDLESIM_CACHE_DIR`` or ``$XDG_CACHE_HOME/needlesim`` or ``~/.cache/needlesim``."""
    own = os.environ.get(CACHE_ENV)
    return Path(own) if own else _xdg("XDG_CACHE_HOME", ".cache") / "needlesim"


def default_fitted_out() -> Path:
    """Where ``needlesim calibrate`` writes the fitted set without ``--out``."""
    return user_data_dir() / "fitted.yaml"


def cache_enabled() -> bool:
    """False when ``NEEDLESIM_NO_CACHE`` is set to anything but ``""``/``0``."""
    return os.environ.get(NO_CACHE_ENV, "") in ("", "0")


def jax_cache_dir() -> Path | None:
    """The persistent compilation cache folder, or None when switched off."""
    return user_cache_dir() / "jax" if cache_enabled() else None
