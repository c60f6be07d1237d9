"""Readable names, units and good directions of the observables (one table for app and reports).

The observable names are a contract (DESIGN.md) and stay snake_case in files;
people read :data:`LABELS`: a label, a unit, and which direction is better.
``better`` is ``"lower"`` or ``"higher"`` (``None`` where neither is an improvement
in itself, e.g. dermal thickness). Changes are (after - baseline) / baseline x 100;
grades are after - baseline, so a negative grade change is an improvement.

Risk pictures (:func:`icon_array`): a probability ``p`` is shown as "about N in
100 patients like this", ``N = round(100 p)``, and as a 10 x 10 grid of icons of
which ``N`` are filled (Gigerenzer's natural frequencies; the grid is drawn by
the caller).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..config import Observable

Better = Literal["lower", "higher"] | None


@dataclass(frozen=True)
class Label:
    """How a person reads one observable."""

    name: str
    label: str
    unit: str
    better: Better
    description: str

    def with_unit(self) -> str:
        """``"Scar depth (% change)"``."""
        return f"{self.label} ({self.unit})"

    def direction_text(self) -> str:
        """``"lower is better"``, ``"higher is better"`` or ``""``."""
        return f"{self.better} is better" if self.better else ""


_PCT = "% change from baseline"

_TABLE: tuple[tuple[str, str, str, Better, str], ...] = (
    ("epidermal_thickness_change_pct", "Epidermal thickness", _PCT, "higher",
     "viable epidermis, histometry"),
    ("dermal_thickness_change_pct", "Dermal thickness", _PCT, None, "dermis"),
    ("papillary_collagen_change_pct", "Papillary collagen", _PCT, "higher",
     "collagen fibre content of the papillary dermis (Masson trichrome)"),
    ("dermal_collagen_change_pct", "Dermal collagen", _PCT, "higher", "total dermal collagen"),
    ("collagen_I_change_pct", "Collagen I", _PCT, "higher", "type I collagen"),
    ("collagen_III_change_pct", "Collagen III", _PCT, "higher", "type III collagen"),
    ("total_elastin_change_pct", "Total elastin", _PCT, None,
     "all elastic material, including elastotic"),
    ("tropoelastin_change_pct", "New elastin (tropoelastin)", _PCT, "higher",
     "newly synthesised elastin"),
    ("elasticity_change_pct", "Skin elasticity", _PCT, "higher",
     "gross elasticity (suction device)"),
    ("dermal_density_change_pct", "Dermal density", _PCT, "higher",
     "ultrasound dermal echo density"),
    ("scar_depth_change_pct", "Scar depth", _PCT, "lower",
     "mean atrophic scar depth (profilometry)"),
    ("scar_score_change_pct", "Acne scar score", _PCT, "lower",
     "quantitative global acne scar score (Goodman & Baron)"),
    ("scar_grade_change", "Acne scar grade", "grade points (1-4 scale)", "lower",
     "qualitative Goodman & Baron grade, after - baseline"),
    ("wrinkle_grade_change", "Wrinkle grade", "grade points (0-5 scale)", "lower",
     "Lemperle wrinkle grade, after - baseline"),
    ("melasma_index_change_pct", "Melasma index (MASI)", _PCT, "lower",
     "melasma area and severity index"),
    ("pih_incidence", "Risk of dark marks (PIH)", "probability", "lower",
     "post-inflammatory hyperpigmentation: chance that a patient gets it"),
    ("erythema_duration_days", "Redness after a session", "days", "lower",
     "visible erythema after a session"),
    ("channel_closure_hours", "Needle channels closed after", "hours", "lower",
     "epidermal closure of the needle channels"),
)  # fmt: skip

LABELS: dict[str, Label] = {row[0]: Label(*row) for row in _TABLE}
"""Every contract observable (DESIGN.md order) -> its :class:`Label`."""

LAYER_LABELS: dict[str, str] = {
    "stratum_corneum": "Stratum corneum",
    "viable_epidermis": "Viable epidermis",
    "papillary_dermis": "Papillary dermis",
    "reticular_dermis": "Reticular dermis",
    "hypodermis": "Hypodermis (fat)",
}
"""Readable layer names, surface first."""


def label(name: str) -> Label:
    """The label of ``name``; an unknown name reads as itself (no unit, no direction)."""
    return LABELS.get(name) or Label(name, name.replace("_", " ").capitalize(), "", None, "")


def readable(name: str) -> str:
    """A readable name, e.g. ``"Acne scar score"``."""
    return label(name).label


def is_improvement(name: str, change: float) -> bool | None:
    """Whether ``change`` of ``name`` is an improvement (None where no direction is better)."""
    better = label(name).better
    if better is None:
        return None
    return change < 0 if better == "lower" else change > 0


def per_hundred(probability: float) -> int:
    """``round(100 p)`` clipped to 0..100: "about N in 100 patients like this"."""
    if not probability == probability:  # NaN
        return 0
    return round(100.0 * min(max(probability, 0.0), 1.0))


def risk_sentence(probability: float, what: str = "get dark marks (PIH)") -> str:
    """``"About 4 in 100 patients like this get dark marks (PIH)."``"""
    n = per_hundred(probability)
    if n == 0 and probability > 0:
        return f"Fewer than 1 in 100 patients like this {what}."
    return f"About {n} in 100 patients like this {what}."


def icon_array(probability: float) -> list[bool]:
    """100 cells, row by row, the first ``per_hundred(p)`` filled (True)."""
    n = per_hundred(probability)
    return [i < n for i in range(100)]


def icon_array_svg(probability: float, size: int = 10, colour: str = "#c0392b") -> str:
    """The icon array as an inline SVG (10 x 10 person-like dots), self-contained."""
    cells = icon_array(probability)
    step = size + 2
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{10 * step}" height="{10 * step}" '
        f'role="img" aria-label="{per_hundred(probability)} in 100">'
    ]
    for i, filled in enumerate(cells):
        x, y = (i % 10) * step + step / 2, (i // 10) * step + step / 2
        fill = colour if filled else "#d5d8dc"
        parts.append(
            f'<circle cx="{x:g}" cy="{y - size * 0.22:g}" r="{size * 0.2:g}" fill="{fill}"/>'
            f'<rect x="{x - size * 0.28:g}" y="{y:g}" width="{size * 0.56:g}" '
            f'height="{size * 0.42:g}" rx="{size * 0.15:g}" fill="{fill}"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


__all__ = [
    "LABELS",
    "LAYER_LABELS",
    "Label",
    "icon_array",
    "icon_array_svg",
    "is_improvement",
    "label",
    "per_hundred",
    "readable",
    "risk_sentence",
]


OBSERVABLE_UNITS: dict[str, str] = {
    Observable.scar_grade_change: "grade (Goodman & Baron, after - baseline)",
    Observable.wrinkle_grade_change: "grade (Lemperle, after - baseline)",
    Observable.pih_incidence: "probability",
    Observable.erythema_duration_days: "days",
    Observable.channel_closure_hours: "hours",
}
"""The ``units`` attribute of each observable in data files (xarray, zarr); any other
observable is a ``% change from baseline``."""


def observable_unit(name: str) -> str:
    """The data-file unit of observable ``name`` (:data:`OBSERVABLE_UNITS`)."""
    return OBSERVABLE_UNITS.get(name, "% change from baseline")
