"""Reading configuration files: YAML in, validated models or a ConfigError out."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from .errors import ConfigError, Problem, problems_from_validation

M = TypeVar("M", bound=BaseModel)


MAX_BYTES = 1_000_000
"""Largest configuration file read (configurations are a few kB)."""
MAX_NODES = 100_000
"""Most values in one document, counting every use of a YAML alias (a 'billion laughs'
document is small on disk and huge once expanded)."""


def _nodes_exceed(data: Any, limit: int) -> bool:
    """Whether ``data`` has more than ``limit`` values, counting shared ones at every use."""
    stack, count = [data], 0
    while stack:
        node = stack.pop()
        count += 1
        if count > limit:
            return True
        if isinstance(node, dict):
            stack.extend(node.values())
            stack.extend(node.keys())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Parse a YAML file into a mapping; every failure is a ConfigError."""
    path = Path(path)
    source = str(path)
    if not path.exists():
        raise ConfigError([Problem("", f"file not found: {source}")], source)
    if not path.is_file():
        raise ConfigError([Problem("", f"not a file: {source}")], source)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise ConfigError(
            [Problem("", f"the file has {size} bytes; allowed: at most {MAX_BYTES} bytes")], source
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            [Problem("", f"the file is not UTF-8 text (byte {exc.start}: {exc.reason}); "
                     "allowed: a UTF-8 YAML file")],
            source,
        ) from None  # fmt: skip
    except OSError as exc:
        raise ConfigError([Problem("", f"cannot read the file: {exc}")], source) from None
    return parse_yaml(text, source)


def parse_yaml(text: str, source: str | None = None) -> dict[str, Any]:
    """Parse YAML ``text`` (a file's content or an upload) into a mapping, with the checks
    of :func:`read_yaml` (no NUL bytes, not empty, no alias bombs); every failure is a
    ConfigError."""
    if "\x00" in text:
        raise ConfigError(
            [Problem("", "the file holds NUL bytes (binary data); allowed: a UTF-8 YAML file")],
            source,
        )
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([Problem("", f"malformed YAML at {where}{reason}")], source) from None
    if data is None:
        raise ConfigError(
            [Problem("", "the file is empty; allowed: a YAML mapping of keys (needlesim schema)")],
            source,
        )
    if _nodes_exceed(data, MAX_NODES):
        raise ConfigError(
            [Problem("", f"the document has more than {MAX_NODES} values (YAML aliases "
                     "expanded); allowed: a configuration of ordinary size")],
            source,
        )  # fmt: skip
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
