"""Reading configuration files: YAML in, validated models or a ConfigError out."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from .errors import ConfigError, Problem, problems_from_validation

M = TypeVar("M", bound=BaseModel)


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Parse a YAML file into a mapping; every failure is a ConfigError."""
    path = Path(path)
    source = str(path)
    if not path.exists():
        raise ConfigError([Problem("", f"file not found: {source}")], source)
    if not path.is_file():
        raise ConfigError([Problem("", f"not a file: {source}")], source)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem("", f"cannot read the file: {exc}")], source) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([Problem("", f"malformed YAML at {where}{reason}")], source) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            [Problem("", f"the file must hold a mapping of keys, got {type(data).__name__}")],
            source,
        )
    return data


def validate(model: type[M], data: Any, source: str | None = None) -> M:
    """Validate ``data`` against ``model``; every failure is a ConfigError."""
    if not isinstance(data, dict):
        problem = Problem("", f"expected a mapping of keys, got {type(data).__name__}")
        raise ConfigError([problem], source)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(problems_from_validation(exc, model), source) from None
    except (TypeError, ValueError, OverflowError, RecursionError) as exc:
        # A value that pydantic's own checks let through but our code rejects.
        raise ConfigError([Problem("", f"invalid value: {exc}")], source) from None


def load(model: type[M], path: str | Path) -> M:
    """Read and validate a YAML file as ``model``."""
    return validate(model, read_yaml(path), str(path))
