"""Readable configuration errors: one line per problem, naming field, value and what is allowed."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from .device import PenDevice, RollerDevice, StampDevice
from .study import AgeNormal, AgeUniform

# Branch tags that pydantic puts into error locations of tagged unions; they are
# not keys the user wrote, so they are dropped from the displayed path.
_TAG_MODELS: dict[str, type[BaseModel] | None] = {
    "roller": RollerDevice,
    "pen": PenDevice,
    "stamp": StampDevice,
    "normal": AgeNormal,
    "uniform": AgeUniform,
    "count": None,
    "list": None,
}

_BOUND_WORDS = {
    "greater_than_equal": (">=", "ge"),
    "less_than_equal": ("<=", "le"),
    "greater_than": (">", "gt"),
    "less_than": ("<", "lt"),
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a configuration."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigError(ValueError):
    """A configuration that cannot be used; carries every problem found."""

    def __init__(self, problems: list[Problem], source: str | None = None) -> None:
        self.problems = problems
        self.source = source
        super().__init__(self.render())

    def render(self) -> str:
        if len(self.problems) == 1 and not self.problems[0].path:
            where = f"{self.source}: " if self.source else ""
            return f"{where}{self.problems[0].message}"
        head = f"invalid configuration in {self.source}" if self.source else "invalid configuration"
        count = len(self.problems)
        lines = [f"{head} ({count} problem{'s' if count != 1 else ''}):"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """Pydantic models named in an annotation (through Optional, list, Annotated, unions)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is None:
        return []
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _models_in(args[0])
    if origin in (typing.Union, types.UnionType, list, tuple, dict):
        return [m for a in args for m in _models_in(a)]
    return []


def _model_at(root: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model class that holds the key at the end of ``loc``."""
    current: type[BaseModel] | None = root
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if part in _TAG_MODELS:
            current = _TAG_MODELS[part] or current
            continue
        if current is None or part not in current.model_fields:
            return None
        candidates = _models_in(current.model_fields[part].annotation)
        current = candidates[0] if len(candidates) == 1 else None
        if len(candidates) > 1:
            current = None  # a tagged union: the next loc part names the branch
    return current


def _display_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif part in _TAG_MODELS:
            continue
        else:
            parts.append(("." if parts else "") + part)
    return "".join(parts)


def _field_bounds(model: type[BaseModel] | None, name: str) -> str | None:
    """'16 to 90' style text for a numeric field's bounds, if it has any."""
    if model is None or name not in model.model_fields:
        return None
    lo = hi = None
    for meta in model.model_fields[name].metadata:
        lo = getattr(meta, "ge", None) if getattr(meta, "ge", None) is not None else lo
        lo = getattr(meta, "gt", None) if getattr(meta, "gt", None) is not None else lo
        hi = getattr(meta, "le", None) if getattr(meta, "le", None) is not None else hi
        hi = getattr(meta, "lt", None) if getattr(meta, "lt", None) is not None else hi
    if lo is None and hi is None:
        return None
    if lo is not None and hi is not None:
        return f"allowed: {lo} to {hi}"
    return f"allowed: >= {lo}" if lo is not None else f"allowed: <= {hi}"


def problems_from_validation(exc: ValidationError, root: type[BaseModel]) -> list[Problem]:
    """Turn pydantic's errors into one readable problem each."""
    problems: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        kind = err["type"]
        ctx = err.get("ctx", {}) or {}
        value = err.get("input")
        path = _display_path(loc)
        key = loc[-1] if loc else ""
        holder = _model_at(root, loc) if loc else root
        if kind == "extra_forbidden":
            allowed = ", ".join(sorted(holder.model_fields)) if holder else "see the schema"
            message = f"unknown key {_show(key)}; allowed keys: {allowed}"
        elif kind == "missing":
            message = "required key is missing"
        elif kind in ("enum", "literal_error"):
            message = f"{_show(value)} is not allowed; choose one of {ctx.get('expected')}"
        elif kind == "union_tag_invalid":
            path = f"{path}.type" if path else "type"
            message = (
                f"{_show(ctx.get('tag'))} is not allowed; choose one of {ctx.get('expected_tags')}"
            )
        elif kind == "union_tag_not_found":
            message = f"expected a mapping of keys, got {_show(value)}"
        elif kind in _BOUND_WORDS:
            symbol, name = _BOUND_WORDS[kind]
            bounds = _field_bounds(holder, str(key)) or f"allowed: {symbol} {ctx.get(name)}"
            message = f"{_show(value)} is out of range; {bounds}"
        elif kind in ("model_type", "dict_type", "model_attributes_type"):
            message = f"expected a mapping of keys, got {_show(value)}"
        elif kind == "value_error":
            message = str(ctx.get("error", err["msg"])).removeprefix("Value error, ")
        elif kind == "finite_number":
            message = f"{_show(value)} is not allowed; a finite number is required"
        else:
            message = f"{_show(value)} is not allowed: {err['msg'].lower()}"
            limits = _field_bounds(holder, str(key))
            if limits:
                message += f"; {limits}"
        problems.append(Problem(path, message))
    return problems
