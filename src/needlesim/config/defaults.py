"""Defaults for what a published study leaves out (``data/protocol_defaults.yaml``)."""

from __future__ import annotations

from typing import Any

from ..data import load_table
from .enums import Indication, Region
from .protocol import Protocol
from .study import Study


def protocol_defaults() -> dict[str, Any]:
    """The packaged defaults for what a study leaves out."""
    data: dict[str, Any] = load_table("protocol_defaults.yaml")
    return data


def default_needle_length_mm(indication: Indication | str, region: Region | str) -> float:
    """``min(indication default, region limit)`` in mm."""
    data = protocol_defaults()
    by_indication = data["needle_length_mm_by_indication"][Indication(indication).value]["value"]
    limit = data["region_limit_mm"][Region(region).value]
    return float(min(by_indication, limit))


def with_study_defaults(study: Study) -> Study:
    """The study with a needle length filled in where its device omits one."""
    device = study.protocol.device
    if "needle_length_mm" in device.model_fields_set:
        return study
    pop = study.population
    length = default_needle_length_mm(pop.indication, pop.region)
    new_device = device.model_copy(update={"needle_length_mm": length})
    protocol = Protocol.model_validate({**study.protocol.model_dump(), "device": new_device})
    return study.model_copy(update={"protocol": protocol})
