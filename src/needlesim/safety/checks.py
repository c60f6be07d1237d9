"""The checks behind the warnings: depth limits, recovery intervals, calibrated domain.

Each check returns :class:`~needlesim.safety.advisory.Advisory` records naming the
input field (dotted path as in the configuration file); none raises.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from ..config import AgeUniform, Protocol, Region, RunConfig, Study
from .advisory import (
    DEPTH_LIMIT,
    OUTSIDE_CALIBRATION,
    SESSIONS_AFTER_END,
    SHORT_INTERVAL,
    Advisory,
)
from .depth import depth_limit
from .domain import CalibratedDomain, calibrated_domain
from .recovery import recovery_days, recovery_source


def _device_field(protocol: Protocol, index: int, key: str) -> str:
    if isinstance(protocol.sessions, list):
        spec = protocol.sessions[index]
        if key == "needle_length_mm" and spec.needle_length_mm is not None:
            return f"protocol.sessions[{index}].needle_length_mm"
        if spec.device is not None:
            return f"protocol.sessions[{index}].device.{key}"
    return f"protocol.device.{key}"


def _interval_field(protocol: Protocol, index: int) -> str:
    if isinstance(protocol.sessions, list) and protocol.sessions[index].day is not None:
        return f"protocol.sessions[{index}].day"
    return "protocol.interval_days"


def _first_per_field(found: Iterable[Advisory]) -> list[Advisory]:
    """One advisory per (code, field): a long course repeats the same problem."""
    seen: set[tuple[str, str]] = set()
    out = []
    for a in found:
        if (a.code, a.field) not in seen:
            seen.add((a.code, a.field))
            out.append(a)
    return out


def check_protocol(protocol: Protocol, region: Region) -> list[Advisory]:
    """Depth limit of ``region`` and recovery interval for every session of ``protocol``."""
    limit = depth_limit(region)
    schedule = protocol.schedule()
    found: list[Advisory] = []
    for s in schedule:
        length = s.device.needle_length_mm
        if limit.exceeded_by(length):
            found.append(
                Advisory(
                    DEPTH_LIMIT,
                    f"needle length {length:g} mm exceeds the {region.value} limit of "
                    f"{limit.max_needle_length_mm:g} mm ({limit.source}, ver {limit.ver})",
                    _device_field(protocol, s.index, "needle_length_mm"),
                )
            )
    for before, s in itertools.pairwise(schedule):
        gap = s.day - before.day
        need = recovery_days(before.device.needle_length_mm)
        if gap < need:
            found.append(
                Advisory(
                    SHORT_INTERVAL,
                    f"interval of {_days(gap)} before session {s.index + 1} is shorter than the "
                    f"{need:g} days the tissue needs to recover ({recovery_source()})",
                    _interval_field(protocol, s.index),
                )
            )
    return _first_per_field(found)


def _days(x: float) -> str:
    return f"{x:g} day" if x == 1 else f"{x:g} days"


def _outside(value: float, lo: float, hi: float) -> bool:
    return value < lo - 1e-9 or value > hi + 1e-9


def _range_text(lo: float, hi: float) -> str:
    return f"{lo:g} to {hi:g}"


def _domain_protocol(protocol: Protocol, d: CalibratedDomain) -> list[Advisory]:
    found: list[Advisory] = []
    schedule = protocol.schedule()
    note = f"calibrated on {len(d.studies)} studies"
    for s in schedule:
        if s.device.type not in d.device_types:
            found.append(
                Advisory(
                    OUTSIDE_CALIBRATION,
                    f"device type {s.device.type!r} is outside the calibrated domain "
                    f"({sorted(d.device_types)}, {note})",
                    _device_field(protocol, s.index, "type"),
                )
            )
        length = s.device.needle_length_mm
        if _outside(length, *d.needle_length_mm):
            found.append(
                Advisory(
                    OUTSIDE_CALIBRATION,
                    f"needle length {length:g} mm is outside the calibrated domain "
                    f"({_range_text(*d.needle_length_mm)} mm, {note})",
                    _device_field(protocol, s.index, "needle_length_mm"),
                )
            )
    if schedule and _outside(len(schedule), *d.sessions):
        found.append(
            Advisory(
                OUTSIDE_CALIBRATION,
                f"{len(schedule)} sessions is outside the calibrated domain "
                f"({_range_text(*d.sessions)} sessions, {note})",
                "protocol.sessions",
            )
        )
    for before, s in itertools.pairwise(schedule):
        gap = s.day - before.day
        if _outside(gap, *d.interval_days):
            found.append(
                Advisory(
                    OUTSIDE_CALIBRATION,
                    f"interval of {_days(gap)} is outside the calibrated domain "
                    f"({_range_text(*d.interval_days)} days, {note})",
                    _interval_field(protocol, s.index),
                )
            )
    return found


def _category(value: str, allowed: frozenset[str], what: str, field: str, n: int) -> list[Advisory]:
    if value in allowed:
        return []
    return [
        Advisory(
            OUTSIDE_CALIBRATION,
            f"{what} {value!r} is outside the calibrated domain ({sorted(allowed)}, "
            f"calibrated on {n} studies)",
            field,
        )
    ]


def check_duration(config: RunConfig) -> list[Advisory]:
    """Sessions scheduled after the end of the run (``simulation.duration_days``): not
    simulated, on either fidelity level (:meth:`~needlesim.config.RunConfig.simulated_sessions`)."""
    late = config.protocol.schedule()[len(config.simulated_sessions()) :]
    if not late:
        return []
    days = ", ".join(f"{s.day:g}" for s in late)
    what = (
        f"session on day {days}, which is"
        if len(late) == 1
        else f"sessions on days {days}, which are"
    )
    return [
        Advisory(
            SESSIONS_AFTER_END,
            f"the run ends on day {config.end_day():g}, before the {what} not simulated",
            "simulation.duration_days",
        )
    ]


def check_run(config: RunConfig, domain: CalibratedDomain | None = None) -> list[Advisory]:
    """Every warning for one patient's run configuration."""
    patient = config.patient
    found = check_protocol(config.protocol, patient.region) + check_duration(config)
    d = domain or calibrated_domain()
    if d is not None:
        n = len(d.studies)
        if _outside(patient.age_years, *d.age_years):
            found.append(
                Advisory(
                    OUTSIDE_CALIBRATION,
                    f"age {patient.age_years:g} years is outside the calibrated domain "
                    f"({_range_text(*d.age_years)} years, calibrated on {n} studies)",
                    "patient.age_years",
                )
            )
        if patient.fitzpatrick not in d.fitzpatrick:
            found.append(
                Advisory(
                    OUTSIDE_CALIBRATION,
                    f"Fitzpatrick type {patient.fitzpatrick} is outside the calibrated domain "
                    f"(types {sorted(d.fitzpatrick)}, calibrated on {n} studies)",
                    "patient.fitzpatrick",
                )
            )
        found += _category(patient.region.value, d.regions, "region", "patient.region", n)
        found += _category(
            patient.indication.value, d.indications, "indication", "patient.indication", n
        )
        found += _domain_protocol(config.protocol, d)
    return _first_per_field(found)


def check_study(study: Study, domain: CalibratedDomain | None = None) -> list[Advisory]:
    """Every warning for a study (its population and protocol, with the study defaults)."""
    from ..config.defaults import with_study_defaults

    study = with_study_defaults(study)
    pop = study.population
    found = check_protocol(study.protocol, pop.region)
    d = domain or calibrated_domain()
    if d is not None:
        n = len(d.studies)
        age = pop.age_years
        lo, hi = (
            (age.min, age.max)
            if isinstance(age, AgeUniform)
            else (max(16.0, age.mean - 2 * age.sd), min(90.0, age.mean + 2 * age.sd))
        )
        if _outside(lo, *d.age_years) or _outside(hi, *d.age_years):
            found.append(
                Advisory(
                    OUTSIDE_CALIBRATION,
                    f"ages {lo:g} to {hi:g} years reach outside the calibrated domain "
                    f"({_range_text(*d.age_years)} years, calibrated on {n} studies)",
                    "population.age_years",
                )
            )
        extra = sorted(set(pop.fitzpatrick) - d.fitzpatrick)
        if extra:
            found.append(
                Advisory(
                    OUTSIDE_CALIBRATION,
                    f"Fitzpatrick types {extra} are outside the calibrated domain "
                    f"(types {sorted(d.fitzpatrick)}, calibrated on {n} studies)",
                    "population.fitzpatrick",
                )
            )
        found += _category(pop.region.value, d.regions, "region", "population.region", n)
        found += _category(
            pop.indication.value, d.indications, "indication", "population.indication", n
        )
        found += _domain_protocol(study.protocol, d)
    return _first_per_field(found)
