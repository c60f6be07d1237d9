"""Calibration targets: the measured values of a folder of studies, each with its tolerance.

A target is one measurement with a value in a study file: the cohort mean of
``observable`` on ``day`` (from the first session) should match ``measured``
within ``tolerance``. Tolerances and their reasons come from the packaged
``tolerances.yaml`` (or a user's file of the same form); targets it does not
list take its documented rules.

Only measurements of a cohort *mean* are targets of this (point) calibration.
A tolerance table with ``only_listed: true`` (the packaged one) restricts the
targets further to the ``(study, observable)`` pairs it lists: the packaged
calibration keeps its seven targets while ``studies/calibration/`` holds the
whole evidence base (fractions, SDs and further studies, for the Bayesian
calibration and cross-validation).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ..config import ConfigError, Measurement, Observable, Problem, Statistic, Study, load
from ..config.loading import read_yaml
from ..studies import study_files, wilson_interval


@dataclass(frozen=True)
class Tolerance:
    """Allowed distance below and above the measured value, and why."""

    below: float
    above: float
    reason: str

    def scale(self, predicted: float, measured: float) -> float:
        """The tolerance on the side of ``predicted``."""
        return self.above if predicted > measured else self.below


@dataclass(frozen=True)
class Target:
    """One published value the model should reproduce."""

    study: Study
    file: Path
    observable: str
    day: float
    measured: float
    tolerance: Tolerance

    @property
    def label(self) -> str:
        return f"{self.study.name}: {self.observable}"

    def residual(self, predicted: float) -> float:
        """``(predicted - measured) / tolerance`` (the side's tolerance)."""
        return float((predicted - self.measured) / self.tolerance.scale(predicted, self.measured))

    def within(self, predicted: float) -> bool:
        return bool(abs(self.residual(predicted)) <= 1.0 + 1e-9)


@cache
def packaged_tolerances() -> dict[str, Any]:
    """The packaged ``tolerances.yaml`` of :mod:`needlesim.calibration`."""
    text = resources.files(__package__).joinpath("tolerances.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def _from_spec(spec: Any, measured: float, n: int, where: str) -> tuple[float, float]:
    if spec == "wilson":
        return _wilson(measured, n)
    if isinstance(spec, int | float) and not isinstance(spec, bool):
        return float(spec), float(spec)
    if isinstance(spec, dict) and set(spec) == {"relative"}:
        width = float(spec["relative"]) * abs(measured)
        return width, width
    if isinstance(spec, dict) and set(spec) == {"below", "above"}:
        return float(spec["below"]), float(spec["above"])
    allowed = "a number, {below, above}, {relative} or 'wilson'"
    raise ConfigError([Problem(where, f"{spec!r} is not allowed; use {allowed}")])


def _wilson(measured: float, n: int) -> tuple[float, float]:
    """Distances to the Wilson 95 % bounds; an incidence of 0 (or 1) cannot be passed on
    its closed side, which then takes the width of the other."""
    lo, hi = wilson_interval(measured, n)
    below, above = measured - lo, hi - measured
    return below or above, above or below


def tolerance_for(
    study: Study, measurement: Measurement, table: dict[str, Any] | None = None
) -> Tolerance:
    """The tolerance of one measurement: listed in ``table``, else by the rules."""
    table = packaged_tolerances() if table is None else table
    assert measurement.value is not None
    measured, n = float(measurement.value), study.population.n
    observable = measurement.observable.value
    listed = (table.get("targets") or {}).get(study.name, {}).get(observable)
    where = f"targets.{study.name}.{observable}.tolerance"
    if listed is not None:
        below, above = _from_spec(listed.get("tolerance"), measured, n, where)
        reason = str(listed.get("reason", ""))
    else:
        below, above, reason = _by_rule(measurement, measured, n, table.get("rules") or {})
    if not (below > 0 and above > 0):
        raise ConfigError([Problem(where, f"tolerances must be > 0, got {below}, {above}")])
    return Tolerance(below, above, reason)


def _by_rule(
    measurement: Measurement, measured: float, n: int, rules: dict[str, Any]
) -> tuple[float, float, str]:
    observable = measurement.observable
    if measurement.sd is not None and measurement.sd > 0:
        return measurement.sd, measurement.sd, "rule: the reported sd of the value"
    if observable == Observable.pih_incidence:
        return (*_wilson(measured, n), f"rule: Wilson 95 % interval at n = {n}")
    if observable.value.endswith("_grade_change"):
        grade = float(rules.get("grade", 0.5))
        return grade, grade, f"rule: {grade:g} grade"
    relative = float(rules.get("relative", 0.25))
    width = max(relative * abs(measured), float(rules.get("minimum_absolute", 0.05)))
    return width, width, f"rule: {100 * relative:g} % of the value"


def _listed(table: dict[str, Any]) -> set[tuple[str, str]] | None:
    """The ``(study, observable)`` pairs of a table with ``only_listed: true``, else None."""
    if not table.get("only_listed", False):
        return None
    return {(s, o) for s, obs in (table.get("targets") or {}).items() for o in obs}


def load_targets(folder: str | Path, tolerances: str | Path | None = None) -> list[Target]:
    """Every measured mean of the studies in ``folder`` (only the listed ones if the
    tolerance table says ``only_listed: true``), with its tolerance.

    Raises :class:`~needlesim.config.ConfigError` for a missing folder, a folder
    without studies or measured values, or an invalid study or tolerance file.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError([Problem("--studies", f"{str(folder)!r} is not a folder")])
    files = study_files(folder)
    if not files:
        raise ConfigError([Problem("--studies", f"no study files (*.yaml) in {str(folder)!r}")])
    table = read_yaml(tolerances) if tolerances is not None else None
    listed = _listed(packaged_tolerances() if table is None else table)
    targets = []
    for path in files:
        study = load(Study, path)
        last = study.protocol.last_session_day
        for m in study.measurements:
            if m.value is None or m.statistic != Statistic.mean:
                continue
            if listed is not None and (study.name, m.observable.value) not in listed:
                continue
            targets.append(
                Target(
                    study=study,
                    file=path,
                    observable=m.observable.value,
                    day=float(m.day_from_first_session(last)),
                    measured=float(m.value),
                    tolerance=tolerance_for(study, m, table),
                )
            )
    if not targets:
        problem = Problem("--studies", f"no measured values in the studies of {str(folder)!r}")
        raise ConfigError([problem])
    return targets
