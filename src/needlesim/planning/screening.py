"""Screening a patient against the safety rules before any plan is searched.

* an ``absolute`` rule in the history refuses the plan (the reasons list each
  rule with its source);
* a ``relative`` rule attaches its precaution;
* Fitzpatrick types 4-6 attach the darker-skin precaution of Chu 2021
  automatically (it need not be in the history);
* rules from ``common_practice`` are labelled ``practice`` wherever they appear.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..config import ConfigError, Problem
from .safety import DARKER_SKIN_RULE, Rule, history_ids, rules


@dataclass(frozen=True)
class Finding:
    """A rule that applies to this patient."""

    rule: Rule
    automatic: bool = False

    def to_dict(self) -> dict[str, Any]:
        r = self.rule
        return {
            "id": r.id,
            "kind": r.kind,
            "precaution": r.precaution,
            "note": r.note,
            "source": r.source,
            "label": r.label,
            "automatic": self.automatic,
        }

    def text(self) -> str:
        """One line for a report."""
        r = self.rule
        what = r.id.replace("_", " ")
        body = f"{what}: {r.precaution}" if r.precaution else what
        if r.note:
            body += f" ({r.note})"
        return body


@dataclass(frozen=True)
class Screening:
    """The outcome of screening: refused or not, why, and the precautions to take."""

    refused: bool
    reasons: tuple[Finding, ...]
    precautions: tuple[Finding, ...]


def check_history(history: Sequence[str], option: str = "--history") -> list[str]:
    """The history ids, de-duplicated; a ConfigError listing the valid ids for unknown ones."""
    valid = history_ids()
    unknown = [h for h in history if h not in valid]
    if unknown:
        raise ConfigError(
            [Problem(option, f"unknown id(s) {unknown}; valid ids: {', '.join(valid)}")]
        )
    return list(dict.fromkeys(history))


def screen(history: Sequence[str], fitzpatrick: int) -> Screening:
    """Screen a patient with ``history`` (rule ids) and Fitzpatrick type ``fitzpatrick``."""
    ids = check_history(history)
    table = rules()
    reasons = [Finding(table[i]) for i in ids if table[i].kind == "absolute"]
    precautions = [Finding(table[i]) for i in ids if table[i].kind == "relative"]
    if fitzpatrick >= 4 and DARKER_SKIN_RULE not in ids:
        precautions.append(Finding(table[DARKER_SKIN_RULE], automatic=True))
    return Screening(bool(reasons), tuple(reasons), tuple(precautions))
