r"""The measured values of a folder of studies, as data of the statistical model.

A datum is one measurement with a ``value``: its study and ``group`` (studies
of one group are one trial; default: the study's own name), observable and
instrument, day from the first session, ``statistic`` (``mean``, ``sd``,
``fraction_at_most``, ``fraction_at_least``; default ``mean``), ``threshold``
(fractions), the reported between-patient ``sd`` and ``n`` (default
``population.n``). The likelihood family follows from it
(:mod:`needlesim.calibration.bayes.model`):

* ``normal``: a continuous study mean, standard error ``sd / sqrt(n)``
  (``sd`` missing: ``default_cv x |value|``);
* ``binomial``: an incidence (``pih_incidence``) or a ``fraction_*``, ``value x n`` of ``n``;
* ``spread``: a reported between-patient SD (``statistic: sd``).

The fields beyond ``observable``, ``value``, ``sd`` are read when the study
format has them (``docs/studies.md``), so the same code serves both.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ...config import ConfigError, Problem, Study, load
from ...config.defaults import with_study_defaults
from ...studies import study_files
from .spec import Spec

Family = Literal["normal", "binomial", "spread"]

INCIDENCES = frozenset({"pih_incidence"})
"""Observables whose cohort mean is a per-patient probability (binomial in the trial)."""


def _text(x: Any) -> str | None:
    if x is None:
        return None
    return str(getattr(x, "value", x))


@dataclass(frozen=True)
class Datum:
    """One measured value and what the statistical model needs of it."""

    study: Study
    file: Path
    group: str
    observable: str
    instrument: str
    day: float
    statistic: str
    threshold: float | None
    value: float
    sd: float | None
    n: int

    @property
    def family(self) -> Family:
        if self.statistic == "sd":
            return "spread"
        if self.statistic.startswith("fraction_") or self.observable in INCIDENCES:
            return "binomial"
        return "normal"

    @property
    def label(self) -> str:
        return f"{self.study.name}: {self.observable} day {self.day:g}"

    def standard_error(self, default_cv: float) -> float:
        """``sd / sqrt(n)`` of a ``normal`` datum (default sd: ``default_cv x |value|``)."""
        sd = self.sd if self.sd is not None and self.sd > 0 else default_cv * abs(self.value)
        return max(float(sd), 1e-9) / float(self.n) ** 0.5


def load_data(folder: str | Path, spec: Spec) -> list[Datum]:
    """Every measured value of every study in ``folder`` (ConfigError for a missing folder,
    no studies, no values, an invalid study or an observable without an instrument)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError([Problem("studies", f"{str(folder)!r} is not a folder")])
    files = study_files(folder)
    if not files:
        raise ConfigError([Problem("studies", f"no study files (*.yaml) in {str(folder)!r}")])
    out: list[Datum] = []
    for path in files:
        study = with_study_defaults(load(Study, path))
        last = study.protocol.last_session_day
        group = _text(getattr(study, "group", None)) or study.name
        for m in study.measurements:
            if m.value is None:
                continue
            statistic = _text(getattr(m, "statistic", None)) or "mean"
            threshold = getattr(m, "threshold", None)
            if statistic.startswith("fraction_") and threshold is None:
                raise ConfigError(
                    [
                        Problem(
                            f"{study.name}.{m.observable.value}", f"{statistic} needs a threshold"
                        )
                    ],
                    str(path),
                )
            n = getattr(m, "n", None) or study.population.n
            out.append(
                Datum(
                    study=study,
                    file=path,
                    group=group,
                    observable=m.observable.value,
                    instrument=spec.instrument_of(m.observable.value).name,
                    day=float(m.day_from_first_session(last)),
                    statistic=statistic,
                    threshold=None if threshold is None else float(threshold),
                    value=float(m.value),
                    sd=None if m.sd is None else float(m.sd),
                    n=int(n),
                )
            )
    if not out:
        raise ConfigError([Problem("studies", f"no measured values in {str(folder)!r}")])
    return out
