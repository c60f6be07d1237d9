"""The calibration as one call: targets -> fit -> fitted set + report (``needlesim calibrate``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..biology.parameters import FITTED_FILE
from ..io.paths import default_fitted_out
from .fit import FitResult, fit
from .output import write_fitted, write_report
from .problem import build_problem, free_parameters
from .targets import load_targets

DEFAULT_STUDIES = Path("studies/calibration")


def packaged_fitted_path() -> Path | None:
    """``src/needlesim/data/fitted.yaml`` when needlesim runs from its source checkout, else None.

    The file a developer replaces (by copying a reviewed calibration result over
    it and committing it, docs/calibration.md); never written by :func:`calibrate`.

    A checkout is recognised by the ``src`` layout with the project's
    ``pyproject.toml`` two levels above the package; an installed needlesim has
    no such file, and its package data are not ours to rewrite.
    """
    import needlesim.data

    data = Path(needlesim.data.__file__).resolve().parent
    root = data.parents[2]
    pyproject = root / "pyproject.toml"
    if data.parent.parent.name == "src" and pyproject.is_file():
        if 'name = "needlesim"' in pyproject.read_text(encoding="utf-8"):
            return data / FITTED_FILE
    return None


@dataclass(frozen=True)
class Calibration:
    """A finished calibration: the fit, where the set went, the report files."""

    result: FitResult
    fitted_path: Path
    report_paths: list[Path]
    document: dict[str, Any]


def calibrate(
    studies: str | Path = DEFAULT_STUDIES,
    out: str | Path | None = None,
    report: str | Path | None = None,
    kinetic: Sequence[str] | None = None,
    tolerances: str | Path | None = None,
    n_patients: int | None = None,
    max_nfev: int = 60,
) -> Calibration:
    """Fit the free parameters to every measured value in ``studies`` and write the results.

    ``out``: the fitted set (default ``fitted.yaml`` in the user data folder,
    :func:`needlesim.io.paths.default_fitted_out`; the packaged set is never
    written here, see :func:`packaged_fitted_path`); ``report``: a folder for
    ``calibration.json`` and the PNG (none if ``None``); ``kinetic``: kinetic
    parameters to free besides the calibratable observation parameters (default
    :data:`~needlesim.calibration.problem.DEFAULT_KINETIC`).
    """
    targets = load_targets(studies, tolerances)
    free = free_parameters(kinetic)
    if out is None:
        out = default_fitted_out()
    result = fit(build_problem(targets, free, n_patients), max_nfev=max_nfev)
    document = write_fitted(result, out, studies)
    paths = write_report(result, report, document) if report is not None else []
    return Calibration(result, Path(out), paths, document)
