"""The packaged screening rules (``needlesim/data/safety.yaml``) as typed records.

Rule groups (``exclusions_alam_2014_trial``, ``safety_review_chu_2021``,
``common_practice``) each carry a citation (or none) and a ``ver`` (V: read in the
source; S: secondary source; ``practice``: common clinical practice without a
trial source, labelled as such in every output).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from ..data import load_table

RULE_GROUPS = ("exclusions_alam_2014_trial", "safety_review_chu_2021", "common_practice")
DARKER_SKIN_RULE = "darker_skin_fitzpatrick_4_to_6"
"""Attached automatically for Fitzpatrick types 4-6 (Chu 2021)."""
PRACTICE = "practice"


def safety_data() -> dict[str, Any]:
    """The packaged safety table."""
    data: dict[str, Any] = load_table("safety.yaml")
    return data


@dataclass(frozen=True)
class Rule:
    """One screening rule: ``absolute`` (do not treat) or ``relative`` (with a precaution)."""

    id: str
    kind: str
    group: str
    ver: str
    citation: str | None
    precaution: str | None = None
    note: str | None = None

    @property
    def is_practice(self) -> bool:
        return self.ver == PRACTICE

    @property
    def source(self) -> str:
        """The citation, or ``practice`` for common-practice rules."""
        return PRACTICE if self.is_practice or not self.citation else self.citation

    @property
    def label(self) -> str:
        """``practice`` or ``sourced (ver V|S)``."""
        return PRACTICE if self.is_practice else f"sourced (ver {self.ver})"


@cache
def rules() -> dict[str, Rule]:
    """Every rule by id, in file order."""
    data = safety_data()
    found: dict[str, Rule] = {}
    for group in RULE_GROUPS:
        section = data[group]
        entries = section.get("rules", []) + section.get("risk_factors", [])
        for entry in entries:
            found[entry["id"]] = Rule(
                id=entry["id"],
                kind=entry["kind"],
                group=group,
                ver=str(section.get("ver", PRACTICE)),
                citation=section.get("citation"),
                precaution=entry.get("precaution"),
                note=entry.get("note"),
            )
    return found


def history_ids() -> list[str]:
    """Valid ``--history`` ids (every rule id)."""
    return list(rules())


def section_citation(key: str) -> tuple[str, str]:
    """``(citation, ver)`` of a top-level section of the safety table."""
    section = safety_data()[key]
    return str(section.get("citation", PRACTICE)), str(section.get("ver", PRACTICE))
