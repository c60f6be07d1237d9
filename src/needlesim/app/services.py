"""The app's only door into needlesim: one function per public API call.

Every page calls these functions and nothing else in the package. They are
named after the public API of ``needlesim`` (``load``, ``simulate``,
``run_study``, ``plan``) and call it; the few helpers the API has no function
for yet (puncture map, species names, screening ids) read
the library directly. Keep this module thin.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import ConfigError, Patient, Problem, RunConfig, Study, parse_yaml, validate

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
    return validate(kind, parse_yaml(text, source), source)


def load(path: str | Path) -> RunConfig | Study:
    """``needlesim.load``: a run config or a study, sniffed by its keys."""
    import needlesim

    result: RunConfig | Study = needlesim.load(path)
    return result


_MODEL_LOCK = threading.Lock()
"""JAX compiles are not shared between threads that race to the same function;
one model call at a time keeps the cache hot and memory bounded on 2 cores."""


def simulate(config: RunConfig) -> CourseResult:
    """``needlesim.simulate`` (layered fidelity); the level's own result (``.raw``)."""
    import needlesim

    with _MODEL_LOCK:
        result: CourseResult = needlesim.simulate(config).raw
    return result


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

    ``evaluator`` replaces the model (tests only).
    """
    import needlesim

    with _MODEL_LOCK:
        result = needlesim.run_study(study, n, progress=progress, evaluator=evaluator)
    return StudyRun(study.name, result.predictions, result.patients, evaluator is not None)


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
    import needlesim

    with _MODEL_LOCK:
        result = needlesim.plan(
            patient, history=history, override_depth=override_depth, evaluator=evaluator
        )
    data: dict[str, Any] = result.to_json()
    return data


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
    """The packaged calibration (``fitted.yaml``): its targets with the posterior predictive
    interval of each study mean."""
    from ..data import load_table

    data: dict[str, Any] = load_table("fitted.yaml")
    return data


@dataclass(frozen=True)
class CrossValidation:
    """A leave-one-study-out result: its held-out measurements and where it comes from."""

    measurements: list[dict[str, Any]]
    source: str
    summary: dict[str, Any]


def cross_validation(root: Path | None = None) -> CrossValidation | None:
    """The latest leave-one-study-out run: this folder's, where ``needlesim validate
    --cross-validate`` wrote one (``results/validation/``), else the packaged one
    (``needlesim/data/cross_validation.json``, the run the docs report); None if
    neither has measurements."""
    import json
    from importlib import resources

    base = root or Path.cwd()
    local = [
        base / "results" / "validation" / "cross_validation.json",
        base / "results" / "cross_validation.json",
    ]
    packaged = resources.files("needlesim.data").joinpath("cross_validation.json")
    for path in [*local, packaged]:
        if not path.is_file():
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        rows = data.get("measurements") if isinstance(data, dict) else None
        if not isinstance(rows, list) or not rows:
            continue
        if path is not packaged:
            source = f"the run in {path}"
        else:
            source = (
                f"the packaged run ({data.get('date', 'undated')}, needlesim "
                f"{data.get('needlesim_version', '?')}; docs/validation.md)"
            )
        keys = ("fraction_within_tolerance", "coverage", "median_relative_interval_width")
        return CrossValidation(rows, source, {k: data[k] for k in keys if k in data})
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
