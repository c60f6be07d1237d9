"""The calibrated domain: the populations and protocols the calibration studies covered.

Computed from the study files the model was calibrated on
(``studies/calibration/*.yaml``, the ``studies`` entry of ``data/fitted.yaml``),
not written down by hand: each study contributes its ages (``{min, max}``, or
``mean +- 2 sd`` clipped to 16-90), Fitzpatrick types, region, indication, device
type, needle length (the study's, or the documented default it runs with),
number of sessions and interval (for courses of more than one session). The
domain is the union: a set of each category and the ``[min, max]`` hull of each
number. Inputs outside it are extrapolations of the fitted model.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..config import AgeUniform, Study, load

ENV_STUDIES = "NEEDLESIM_CALIBRATION_STUDIES"
"""Environment variable: a folder of calibration studies to use instead of the default."""


@dataclass(frozen=True)
class CalibratedDomain:
    """What the calibration studies covered (see the module docstring)."""

    studies: tuple[str, ...]
    age_years: tuple[float, float]
    fitzpatrick: frozenset[int]
    regions: frozenset[str]
    indications: frozenset[str]
    device_types: frozenset[str]
    needle_length_mm: tuple[float, float]
    sessions: tuple[int, int]
    interval_days: tuple[float, float]

    @classmethod
    def of(cls, studies: list[Study]) -> CalibratedDomain:
        from ..config.defaults import with_study_defaults

        ages: list[float] = []
        types: set[int] = set()
        regions: set[str] = set()
        indications: set[str] = set()
        devices: set[str] = set()
        lengths: list[float] = []
        counts: list[int] = []
        intervals: list[float] = []
        for raw in studies:
            study = with_study_defaults(raw)
            pop = study.population
            age = pop.age_years
            if isinstance(age, AgeUniform):
                ages += [age.min, age.max]
            else:
                ages += [max(16.0, age.mean - 2 * age.sd), min(90.0, age.mean + 2 * age.sd)]
            types.update(pop.fitzpatrick)
            regions.add(pop.region.value)
            indications.add(pop.indication.value)
            schedule = study.protocol.schedule()
            for s in schedule:
                devices.add(s.device.type)
                lengths.append(s.device.needle_length_mm)
            counts.append(len(schedule))
            intervals += [b.day - a.day for a, b in itertools.pairwise(schedule)]
        return cls(
            studies=tuple(s.name for s in studies),
            age_years=(min(ages), max(ages)),
            fitzpatrick=frozenset(types),
            regions=frozenset(regions),
            indications=frozenset(indications),
            device_types=frozenset(devices),
            needle_length_mm=(min(lengths), max(lengths)),
            sessions=(min(counts), max(counts)),
            interval_days=(min(intervals), max(intervals)) if intervals else (0.0, 0.0),
        )


def studies_folder() -> Path | None:
    """The calibration studies: ``$NEEDLESIM_CALIBRATION_STUDIES``, the source tree's
    ``studies/calibration``, or the working directory's; None if none exists."""
    candidates = []
    if os.environ.get(ENV_STUDIES):
        candidates.append(Path(os.environ[ENV_STUDIES]))
    candidates.append(Path(__file__).resolve().parents[3] / "studies" / "calibration")
    candidates.append(Path("studies") / "calibration")
    for folder in candidates:
        if folder.is_dir() and any(folder.glob("*.yaml")):
            return folder
    return None


@cache
def _domain_of(folder: str) -> CalibratedDomain:
    files = sorted(Path(folder).glob("*.yaml"))
    return CalibratedDomain.of([load(Study, f) for f in files])


def calibrated_domain(folder: Path | None = None) -> CalibratedDomain | None:
    """The domain of the studies in ``folder`` (default :func:`studies_folder`); None if none."""
    folder = folder or studies_folder()
    if folder is None:
        return None
    return _domain_of(str(folder.resolve()))
