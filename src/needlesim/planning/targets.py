"""What each indication is treated for: its primary observable and which way is better."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..config import Indication, Observable


@dataclass(frozen=True)
class Target:
    """The observable a plan maximises the improvement of, and its good direction."""

    observable: Observable
    better: Literal["lower", "higher"]

    def improvement(self, value: float) -> float:
        """``value`` signed so that larger is better."""
        return -value if self.better == "lower" else value


INDICATION_TARGETS: dict[Indication, Target] = {
    Indication.atrophic_acne_scars: Target(Observable.scar_score_change_pct, "lower"),
    Indication.surgical_scar: Target(Observable.scar_score_change_pct, "lower"),
    Indication.wrinkles: Target(Observable.wrinkle_grade_change, "lower"),
    Indication.photoaging: Target(Observable.dermal_collagen_change_pct, "higher"),
    Indication.rejuvenation: Target(Observable.dermal_collagen_change_pct, "higher"),
    Indication.striae: Target(Observable.dermal_collagen_change_pct, "higher"),
    Indication.melasma: Target(Observable.melasma_index_change_pct, "lower"),
}
"""One row per indication: the primary observable and whether lower or higher is better."""
