"""Validation: every study in a folder, predicted against measured."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..config import Study, load
from .runner import StudyResult, run_study


@dataclass(frozen=True)
class ValidationRow:
    study: str
    observable: str
    day: float
    predicted: float
    p2_5: float
    p97_5: float
    measured: float
    statistic: str = "mean"
    threshold: float | None = None

    @property
    def label(self) -> str:
        """The observable with its statistic, e.g. ``scar_grade_change [fraction <= -1.5]``."""
        if self.statistic == "mean":
            return self.observable
        if self.statistic == "sd":
            return f"{self.observable} [sd]"
        side = "<=" if self.statistic == "fraction_at_most" else ">="
        return f"{self.observable} [fraction {side} {self.threshold:g}]"

    @property
    def error(self) -> float:
        return self.predicted - self.measured

    @property
    def inside(self) -> bool:
        """Whether the measured value lies in the predicted 95 % range."""
        return bool(self.p2_5 <= self.measured <= self.p97_5)


def study_files(folder: str | Path) -> list[Path]:
    """The study files of a folder (``*.yaml`` / ``*.yml``), sorted."""
    folder = Path(folder)
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])


def validate_folder(folder: str | Path, n: int | None = None) -> list[StudyResult]:
    """Run every study of ``folder`` (all are loaded first, so bad files fail fast)."""
    studies = [load(Study, path) for path in study_files(folder)]
    return [run_study(study, n) for study in studies]


def rows(results: list[StudyResult]) -> list[ValidationRow]:
    """Predicted vs measured for every measurement that has a value."""
    return [
        ValidationRow(
            r.study.name,
            p.observable,
            p.day,
            p.mean,
            p.p2_5,
            p.p97_5,
            p.measured,
            p.statistic,
            p.threshold,
        )
        for r in results
        for p in r.predictions
        if p.measured is not None
    ]
