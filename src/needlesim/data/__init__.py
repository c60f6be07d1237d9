"""Packaged reference data: YAML tables, each number with its citation beside it."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml


@cache
def load_table(filename: str) -> Any:
    """The parsed YAML file ``filename`` of this package (cached: do not mutate it)."""
    text = resources.files(__name__).joinpath(filename).read_text(encoding="utf-8")
    return yaml.safe_load(text)
