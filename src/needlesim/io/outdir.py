"""Check an output folder before any work: a folder that cannot be written is bad input."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..config import ConfigError, Problem

ALLOWED = "allowed: a folder path you can create and write to"


def check_output_dir(folder: str | Path, option: str = "--out") -> Path:
    """Create ``folder`` if needed and prove it writable (a probe file, removed at once).

    Raises a :class:`~needlesim.config.ConfigError` naming ``option``, the path and
    what is allowed. Nothing already in the folder is touched.
    """
    folder = Path(folder)
    shown = repr(str(folder))
    if folder.exists() and not folder.is_dir():
        raise ConfigError([Problem(option, f"{shown} is a file, not a folder; {ALLOWED}")])
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".needlesim-probe-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        problem = Problem(option, f"{shown} cannot be written ({reason}); {ALLOWED}")
        raise ConfigError([problem]) from None
    return folder
