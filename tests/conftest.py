"""Shared test fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

# The tests never write JAX's persistent compilation cache into the user's home
# (set before needlesim is imported; tests of the cache use their own folders).
os.environ["NEEDLESIM_NO_CACHE"] = "1"
# ``make test`` runs one pytest worker per core: each solves its chunks of patients on
# one thread (io.cpus.solver_threads) instead of two workers x two threads on 2 cores.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("NEEDLESIM_THREADS", "1")

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"


@pytest.fixture
def examples() -> Path:
    return EXAMPLES


@pytest.fixture
def write_yaml(tmp_path: Path):
    """Write YAML text to a file in tmp_path and return its path."""

    def _write(text: str, name: str = "config.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write
