"""Shared pydantic base: strict, immutable models that reject unknown keys."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator


def _accepts_bool(annotation: Any) -> bool:
    """Whether ``bool`` is a valid type of a field (directly, or in a union/Annotated)."""
    if annotation is bool:
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _accepts_bool(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(_accepts_bool(a) for a in typing.get_args(annotation))
    return annotation is Any


class StrictModel(BaseModel):
    """Base of every config model: unknown keys are errors, values are frozen, and a
    ``true``/``false`` is not read as the number 1/0 (``needle_length_mm: yes`` is a
    mistake, not 1 mm)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False
    )

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if field is None or _accepts_bool(field.annotation):
            return value
        items = value if isinstance(value, list) else [value]
        if any(isinstance(v, bool) for v in items):
            raise ValueError(f"{value!r} is not allowed; allowed: a number, not true/false")
        return value
