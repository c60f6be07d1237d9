"""The app's only door into needlesim: one function per public API call.

Every page calls these functions and nothing else in the package. They are
named after the public API of ``needlesim`` (``load``, ``simulate``,
``run_study``, ``plan``); until that API is merged they call the current
internal functions (as ``needlesim.cli`` does). Keep this module thin: when the
public API lands, each body becomes one call.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ..config import ConfigError, Patient, Problem, RunConfig, Study, validate

if TYPE_CHECKING:
    import pandas as pd

    from ..course import CourseResult
    from ..device import DeviceResult

MAX_UPLOAD_BYTES = 256 * 1024
"""Largest study file the Studies page accepts (a study is a few hundred bytes)."""

Progress = Callable[[float], None]


class Cancelled(Exception):
    """Raised from a progress callback to stop a long run."""


def parse(text: str, kind: type[RunConfig] | type[Study], source: str = "upload") -> Any:
    """Validate YAML ``text`` as ``kind`` in memory (safe loading, size-limited).

    The in-memory twin of ``needlesim.load``: the same ConfigError messages.
    """
    if len(text.encode("utf-8", errors="replace")) > MAX_UPLOAD_BYTES:
        raise ConfigError(
            [Problem("", f"the file is larger than {MAX_UPLOAD_BYTES // 1024} KiB")], source
        )
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([Problem("", f"malformed YAML at {where}{reason}")], source) from None
    return validate(kind, data if data is not None else {}, source)


def load(path: str | Path) -> RunConfig | Study:
    """``needlesim.load``: a run config or a study, sniffed by its keys."""
    from ..config import read_yaml

    data = read_yaml(path)
    kind: type[RunConfig] | type[Study] = Study if "population" in data else RunConfig
    result: RunConfig | Study = validate(kind, data, str(path))
    return result


_MODEL_LOCK = threading.Lock()
"""JAX compiles are not shared between threads that race to the same function;
one model call at a time keeps the cache hot and memory bounded on 2 cores."""


def simulate(config: RunConfig) -> CourseResult:
    """``needlesim.simulate`` (layered fidelity)."""
    from ..course import simulate_course

    with _MODEL_LOCK:
        return simulate_course(config)


def device(config: RunConfig, session: int = 0) -> DeviceResult:
    """The punctures of one session (``needlesim device``)."""
    from ..device import simulate_device

    return simulate_device(config, session_index=session)


@dataclass(frozen=True)
class StudyRun:
    """What :func:`run_study` returns to the app: predictions and the per-patient table."""

    name: str
    predictions: list[dict[str, Any]]
    patients: pd.DataFrame
    test_double: bool = False


def run_study(
    study: Study,
    n: int | None = None,
    *,
    progress: Progress | None = None,
    evaluator: Any = None,
) -> StudyRun:
    """``needlesim.run_study`` with a progress callback (which may raise :class:`Cancelled`).

    Until the public API reports progress itself, the cohort is evaluated in
    chunks here (the same patients, days and reduction as ``studies.run_study``).
    ``evaluator`` replaces the model (tests only); each measurement then reads
    the nearest output day.
    """
    import numpy as np
    import pandas as pd

    from ..config import Observable
    from ..studies import evaluate_batch, patient_table, wilson_interval
    from ..studies.defaults import with_study_defaults
    from ..studies.runner import measurements

    study = with_study_defaults(study)
    wanted = measurements(study)
    last = study.protocol.last_session_day
    days = sorted({m.day_from_first_session(last) for m in wanted})
    patients = patient_table(study, n)
    observables = {m.observable.value for m in wanted}
    chunk = max(1, min(8, len(patients) // 10 or 1))
    frames = []
    if progress:
        progress(0.0)
    for start in range(0, len(patients), chunk):
        part = patients.iloc[start : start + chunk]
        real = len(part)
        if real < chunk:  # pad with copies: one batch shape, one compile
            pad = part.iloc[[-1] * (chunk - real)].copy()
            pad["patient_id"] = -1 - np.arange(chunk - real)
            part = pd.concat([part, pad], ignore_index=True)
        with _MODEL_LOCK:
            if evaluator is None:
                found = evaluate_batch(part, study.protocol, days=days, observables=observables)
            else:
                from ..scale.evaluator import normalise_outcomes, resolve_evaluator

                raw = resolve_evaluator(evaluator)(part, study.protocol, None)
                found = normalise_outcomes(raw, part)
        frames.append(found[found["patient_id"] >= 0])
        if progress:
            progress(min(1.0, (start + real) / len(patients)))
    outcomes = pd.concat(frames, ignore_index=True)
    predictions = []
    for m in wanted:
        day = m.day_from_first_session(last)
        found_days = outcomes["day"].to_numpy(dtype=float)
        nearest = found_days[np.argmin(np.abs(found_days - day))]
        values = outcomes.loc[found_days == nearest, m.observable.value].to_numpy()
        mean = float(np.mean(values))
        if m.observable == Observable.pih_incidence:
            lo, hi = wilson_interval(mean, values.size)
        else:
            lo, hi = (float(v) for v in np.percentile(values, [2.5, 97.5]))
        predictions.append(
            {
                "observable": m.observable.value,
                "day": float(day),
                "mean": mean,
                "p2_5": lo,
                "p97_5": hi,
                "measured": m.value,
            }
        )
    table = patients.merge(outcomes, on="patient_id")
    return StudyRun(study.name, predictions, table, evaluator is not None)


def plan(
    patient: Patient,
    *,
    history: Sequence[str] = (),
    override_depth: bool = False,
    evaluator: Any = None,
) -> dict[str, Any]:
    """``needlesim.plan(...).to_json()``: screening, the recommended course, two alternatives.

    ``evaluator`` (``module:attr``) replaces the model, for tests only (the plan
    then says TEST DOUBLE).
    """
    from ..planning import plan_treatment

    with _MODEL_LOCK:
        result = plan_treatment(
            patient, history, override_depth=override_depth, evaluator=evaluator
        )
    data: dict[str, Any] = result.to_dict()
    return data


def course_bands(
    patient: Patient, protocol: dict[str, Any], n: int, seed: int = 0, evaluator: Any = None
) -> pd.DataFrame:
    """Every observable over time for ``n`` virtual copies of ``patient`` on one course.

    ``protocol``: a plan's course (``device``, ``needle_length_mm``, ``sessions``,
    ``interval_days``) or a protocol mapping. One row per virtual patient and
    output day (the planner's virtual cohort; used for the improvement band of a plan).
    """
    if isinstance(protocol.get("device"), str):
        protocol = {
            "device": {
                "type": protocol["device"],
                "needle_length_mm": protocol["needle_length_mm"],
            },
            "sessions": protocol["sessions"],
            "interval_days": protocol["interval_days"],
        }
    from ..config import Protocol
    from ..planning.search import virtual_patients
    from ..scale.evaluator import normalise_outcomes, resolve_evaluator

    patients = virtual_patients(patient, n, seed)
    fn = resolve_evaluator(evaluator)
    with _MODEL_LOCK:
        raw = fn(patients, Protocol.model_validate(protocol), None)
    out: pd.DataFrame = normalise_outcomes(raw, patients)
    return out


def history_ids() -> list[tuple[str, str]]:
    """``(id, kind)`` of every screening rule in safety.yaml (the history choices)."""
    from ..planning import rules

    return [(r.id, r.kind) for r in rules().values()]


def species_names() -> tuple[str, ...]:
    """The state's species in order (the last axis of a course's trajectory)."""
    from ..biology.state import SPECIES_NAMES

    return SPECIES_NAMES


def primary_outcome(indication: str) -> str:
    """The observable a plan optimises for ``indication`` (dermal collagen if unknown)."""
    from ..config import Indication
    from ..planning import INDICATION_TARGETS

    try:
        return INDICATION_TARGETS[Indication(indication)].observable.value
    except (ValueError, KeyError):
        return "dermal_collagen_change_pct"


@cache
def calibration_report() -> dict[str, Any]:
    """The packaged calibration (``fitted.yaml``): targets before and after the fit."""
    from ..data import load_table

    data: dict[str, Any] = load_table("fitted.yaml")
    return data


def cross_validation(root: Path | None = None) -> list[dict[str, Any]] | None:
    """The latest leave-one-study-out table, where one was written (``results/``); else None."""
    import json

    base = root or Path.cwd()
    for path in (base / "results" / "cross_validation.json", base / "cross_validation.json"):
        if path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            rows = data.get("rows", data) if isinstance(data, dict) else data
            return rows if isinstance(rows, list) else None
    return None


def bundled_studies() -> dict[str, Path]:
    """Study files shipped in the repository's ``studies/`` folder (name -> path)."""
    import needlesim

    roots = [Path(needlesim.__file__).resolve().parents[2] / "studies", Path.cwd() / "studies"]
    found: dict[str, Path] = {}
    for root in roots:
        if root.is_dir():
            for path in sorted(root.glob("*/*.yaml")):
                found.setdefault(f"{path.parent.name}/{path.stem}", path)
    return found
