"""After-care advice for a plan, each item with its source (``practice`` unless sourced)."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import Indication
from .safety import PRACTICE, rules, safety_data, section_citation


@dataclass(frozen=True)
class Advice:
    """One piece of after-care advice."""

    topic: str
    advice: str
    source: str
    label: str

    def to_dict(self) -> dict[str, str]:
        return {
            "topic": self.topic,
            "advice": self.advice,
            "source": self.source,
            "label": self.label,
        }


def _source(entry: dict[str, str]) -> tuple[str, str]:
    if "source" in entry:
        key = entry["source"]
        if key in rules():  # a rule id, e.g. the darker-skin rule
            rule = rules()[key]
            return rule.source, rule.label
        citation, ver = section_citation(key)
        return citation, f"sourced (ver {ver})"
    ver = entry.get("ver", PRACTICE)
    if ver == PRACTICE:
        return PRACTICE, PRACTICE
    if ver == "plan":
        return "this plan", "plan"
    return entry.get("citation", PRACTICE), f"sourced (ver {ver})"


def aftercare(fitzpatrick: int, indication: Indication, interval_days: float) -> list[Advice]:
    """Photoprotection, what to avoid, and when to return, for this patient and plan."""
    transient = int(safety_data()["transient_reactions"]["transient_up_to_days"])
    items: list[Advice] = []
    for entry in safety_data()["aftercare"]:
        when = entry.get("when")
        if when == "fitzpatrick_4_to_6" and fitzpatrick < 4:
            continue
        if when == "melasma" and indication != Indication.melasma:
            continue
        text = entry["advice"].format(interval_days=f"{interval_days:g}", transient_days=transient)
        source, label = _source(entry)
        items.append(Advice(entry["topic"], text, source, label))
    return items
