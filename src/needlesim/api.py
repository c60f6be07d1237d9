"""The public API of needlesim: load a configuration, simulate, run studies and cohorts, plan,
calibrate, analyse sensitivity. The command line (:mod:`needlesim.cli`) calls these and nothing
else; see ``docs/api.md``.

Each function imports the model when it is called, so ``import needlesim`` stays
cheap. Every function raises :class:`ConfigError` for bad input (the message
names the field, the value and what is allowed).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from . import __version__
from .config import (
    ConfigError,
    Indication,
    Observable,
    Problem,
    Region,
    RunConfig,
    Severity,
    Sex,
    Study,
)
from .config import Patient as PatientSpec
from .io.atomic import write_text

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr
    from rich.console import Console
    from rich.table import Table

    from .biology.parameters import ParameterRow
    from .calibration.bayes.crossval import CrossValidationResult
    from .calibration.bayes.run import BayesCalibration
    from .device import DeviceResult
    from .planning.plan import TreatmentPlan
    from .scale.cohort import CohortResult
    from .scale.evaluator import BatchEvaluator
    from .sensitivity.problem import ParameterRange
    from .studies.validate import ValidationRow

Progress = Callable[[float], None]
"""Called with the fraction done (0 to 1)."""

OBSERVABLES: tuple[str, ...] = tuple(o.value for o in Observable)
"""Every observable name, in the order of the contract (DESIGN.md)."""

__all__ = [
    "OBSERVABLES",
    "ConfigError",
    "CourseResult",
    "DeviceRun",
    "Indication",
    "PatientSpec",
    "Plan",
    "Problem",
    "Region",
    "RunConfig",
    "SensitivityResult",
    "Severity",
    "Sex",
    "Study",
    "StudyResult",
    "calibrate",
    "check_output_dir",
    "check_run",
    "check_study",
    "config_schema",
    "cross_validate",
    "load",
    "parameters",
    "plan",
    "run_cohort",
    "run_study",
    "sensitivity",
    "simulate",
    "simulate_device",
    "validate",
]


def __getattr__(name: str) -> Any:
    """Result types defined by the library packages, imported on first use."""
    if name == "CohortResult":
        from .scale.cohort import CohortResult

        return CohortResult
    if name == "CalibrationResult":
        from .calibration.bayes.run import BayesCalibration

        return BayesCalibration
    if name == "SolveError":
        from .solve.errors import SolveError

        return SolveError
    if name == "ModelUnavailableError":
        from .scale.evaluator import ModelUnavailableError

        return ModelUnavailableError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _report(progress: Progress | None, fraction: float) -> None:
    if progress is not None:
        progress(fraction)


# -- configurations ----------------------------------------------------------------------------

_STUDY_KEYS = frozenset({"population", "measurements", "arms"})


def load(path: str | os.PathLike[str], kind: Literal["run", "study"] | None = None) -> Any:
    """Read a YAML file as a run configuration (:class:`RunConfig`) or a :class:`Study`.

    ``kind=None`` sniffs the file: ``population``, ``measurements`` or ``arms``
    make it a study (a study with ``arms`` is a
    :class:`~needlesim.scale.ArmsStudy`), anything else a run configuration.
    Raises :class:`ConfigError` listing every problem by field path.
    """
    from .config import read_yaml, validate

    data = read_yaml(Path(path))
    if kind is None:
        kind = "study" if _STUDY_KEYS & set(data) else "run"
    if kind == "run":
        return validate(RunConfig, data, str(path))
    if "arms" in data:
        from .scale.arms import ArmsStudy

        return validate(ArmsStudy, data, str(path))
    return validate(Study, data, str(path))


def config_schema(kind: Literal["run", "study"] = "run") -> dict[str, Any]:
    """The JSON Schema of a run configuration or a study file."""
    model = RunConfig if kind == "run" else Study
    schema: dict[str, Any] = model.model_json_schema()
    return schema


def parameters() -> tuple[ParameterRow, ...]:
    """The parameter registry: name, value, unit, range, source of every model parameter."""
    from .biology import registry

    return registry()


# -- one course ----------------------------------------------------------------------------------


class CourseResult:
    """One simulated course (``layered`` or ``patch``), as returned by :func:`simulate`.

    ``raw`` is the level's own result (:class:`needlesim.course.CourseResult` or
    :class:`needlesim.course.patch.PatchCourseResult`).
    """

    def __init__(self, config: RunConfig, raw: Any, checkpoint: Path | None = None) -> None:
        self.config = config
        self.fidelity: str = config.simulation.fidelity.value
        self.raw = raw
        self._checkpoint = checkpoint

    def __repr__(self) -> str:
        return f"CourseResult(name={self.config.name!r}, fidelity={self.fidelity!r})"

    @cached_property
    def summary(self) -> dict[str, Any]:
        """What ``summary.json`` holds: provenance, inputs, sessions, observables at key days."""
        if self.fidelity == "patch":
            from .course.patch import summary as patch_summary

            return patch_summary(self.raw)
        from .report.course import summary

        return summary(self.raw)

    @property
    def provenance(self) -> dict[str, Any]:
        """needlesim version, config hash and seed."""
        from .io.provenance import provenance

        return provenance(self.config, self.config.simulation.seed)

    @property
    def warnings(self) -> list[str]:
        """Warnings the run recorded in its summary (none: an empty list)."""
        return list(self.summary.get("warnings", []))

    @cached_property
    def trajectories(self) -> xr.Dataset:
        """States per species, layer and output day (``patch``: every saved output)."""
        if self.fidelity == "patch":
            from .course.patch import to_dataset as patch_dataset

            data: xr.Dataset = patch_dataset(self.raw, attrs=self.provenance)
            return data
        from .report.course import to_dataset

        return to_dataset(self.raw)

    @cached_property
    def observables(self) -> xr.Dataset:
        """One variable per observable over ``day`` (with ``units``), provenance in attrs.

        ``layered``: every observable at the output days, the same numbers as
        ``summary.json``. ``patch``: every observable, from the patch's layer means
        at its saved profile days (the output days and the dense grid after every
        session), through the same formulas
        (:func:`needlesim.course.patch.patch_observables`).
        """
        import xarray as xr

        if self.fidelity == "patch":
            return _patch_observables(self)
        from .outcomes.labels import observable_unit

        raw = self.raw
        idx = raw.trajectory.at_days(raw.output_days)
        data = {
            name: (("day",), values[idx], {"units": observable_unit(name)})
            for name, values in raw.observables.items()
        }
        days = raw.trajectory.days[idx]
        coords = {"day": ("day", days, {"units": "days from the first session"})}
        return xr.Dataset(data, coords=coords, attrs={**self.provenance, "fidelity": "layered"})

    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Write every output as ``needlesim simulate`` does; returns the folder.

        ``layered``: summary.json, trajectories.zarr, PNG plots, report.html;
        ``patch``: summary.json, patch.zarr, PNGs and a .vti (and the
        checkpoint of the run and the fields it kept, if they were in this folder, are
        removed).
        """
        folder = Path(directory)
        if self.fidelity == "patch":
            from .course.patch import finish_folder_run, write_patch_course

            self.__dict__["summary"] = write_patch_course(self.raw, folder)
            if self._checkpoint is not None and self._checkpoint.parent == folder:
                finish_folder_run(folder)
            return folder
        from .report.course import write_course

        self.__dict__["summary"] = write_course(self.raw, folder)
        return folder


def _patch_observables(result: CourseResult) -> xr.Dataset:
    """The observables of a patch course at its saved profile days (see ``observables``)."""
    from .course.patch import observables_dataset

    data = observables_dataset(result.raw).rename({"time_profile": "day"})
    data["day"].attrs = {"units": "days from the first session"}
    data.attrs = {**result.provenance, "fidelity": "patch", **data.attrs}
    return data


def simulate(
    config: RunConfig,
    *,
    progress: Progress | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
) -> CourseResult:
    """Simulate one configured patient's course at ``config.simulation.fidelity``.

    ``layered``: the layer-resolved model; ``patch``: the 3D patch (with the
    layered model alongside, for comparison). ``checkpoint_dir`` (patch only):
    checkpoint there and resume from a checkpoint of the same run; the saved 3D fields
    are kept there on disk (``.fields``), memory-mapped, and the checkpoint refers to
    them: both stay until the result is saved into that folder. ``progress`` (patch:
    also during the run) gets the fraction of the simulated days done.
    """
    _report(progress, 0.0)
    checkpoint: Path | None = None
    if config.simulation.fidelity.value == "patch":
        from .course.patch import folder_run, simulate_patch_course
        from .patch import Checkpointing
        from .patch import Progress as PatchProgress

        ckpt: Checkpointing | None = None
        spill_dir: Path | None = None
        if checkpoint_dir is not None:
            ckpt, spill_dir = folder_run(Path(checkpoint_dir))
            checkpoint = Path(ckpt.path)
        report = None
        if progress is not None:
            reporter = progress

            def report(info: PatchProgress) -> None:
                reporter(min(1.0, info.t / info.t_end) if info.t_end > 0 else 1.0)

        raw: Any = simulate_patch_course(
            config, checkpoint=ckpt, progress=report, spill_dir=spill_dir
        )
    else:
        from .course.layered import simulate_course

        raw = simulate_course(config)
    _report(progress, 1.0)
    return CourseResult(config, raw, checkpoint)


@dataclass(frozen=True)
class DeviceRun:
    """The punctures of one session and the injury they leave (``needlesim device``)."""

    result: DeviceResult
    session: int
    summary: dict[str, Any]

    @property
    def device(self) -> Any:
        return self.result.device

    def save(
        self, directory: str | os.PathLike[str], summary: dict[str, Any] | None = None
    ) -> Path:
        """device_summary.json, puncture_map.png and depth_profile.png in ``directory``."""
        from .io.atomic import write_json
        from .plots.device import plot_depth_profile, plot_puncture_map

        folder = Path(directory)
        write_json(folder / "device_summary.json", summary or self.summary)
        plot_puncture_map(self.result, folder / "puncture_map.png")
        plot_depth_profile(self.result, folder / "depth_profile.png")
        return folder


def simulate_device(config: RunConfig, session: int = 0, source: str | None = None) -> DeviceRun:
    """Punctures and injury of session ``session`` (0 = first) of a configured run."""
    from .device import simulate_device as _simulate_device

    sessions = config.protocol.session_count
    if sessions and session >= sessions:
        problem = Problem("--session", f"{session} is out of range; allowed: 0 to {sessions - 1}")
        raise ConfigError([problem], source)
    result = _simulate_device(config, session_index=session)
    return DeviceRun(result, session, {"session": session, **result.summary.to_dict()})


# -- studies and cohorts -------------------------------------------------------------------------


@dataclass(frozen=True)
class StudyResult:
    """A study's virtual cohort and its predictions (:func:`run_study`).

    ``predictions``: one dict per measurement (observable, day, mean, p2_5,
    p97_5, measured); ``patients``: one row per patient and day with the
    measured observables; ``raw``: :class:`needlesim.studies.StudyResult`.
    """

    study: Study
    predictions: list[dict[str, Any]]
    patients: pd.DataFrame
    raw: Any = field(repr=False)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """``{"study": name, "predictions": [...], "warnings": [...]}`` (``study run --json``)."""
        return {**self.raw.to_dict(), "warnings": self.warnings}


def _study_result(raw: Any) -> StudyResult:
    from .safety import check_study

    warnings = [w.to_dict() for w in check_study(raw.study)]
    table = raw.outcomes if raw.patients is None else raw.patients.merge(raw.outcomes)
    return StudyResult(raw.study, [p.to_dict() for p in raw.predictions], table, raw, warnings)


def run_study(
    study: Study,
    n: int | None = None,
    *,
    progress: Progress | None = None,
    evaluator: BatchEvaluator | str | None = None,
) -> StudyResult:
    """Simulate ``study``'s virtual cohort (``n`` patients, default ``population.n``).

    With ``progress`` the cohort is evaluated in chunks and ``progress(fraction)``
    is called after each; an exception it raises cancels the run (and propagates).
    ``evaluator`` replaces the healing model (an analytic test double, say).
    """
    from .studies import run_study as _run_study

    evaluate = None
    if evaluator is not None:
        from .scale.evaluator import normalise_outcomes, resolve_evaluator

        fn = resolve_evaluator(evaluator)

        def evaluate(patients: pd.DataFrame, protocol: Any, **_: Any) -> pd.DataFrame:
            return normalise_outcomes(fn(patients, protocol, None), patients)

    raw = _run_study(study, n, progress=progress, evaluate=evaluate)
    if evaluate is None:
        from .calibration.bayes.study_interval import with_posterior_intervals

        raw = with_posterior_intervals(raw)
    return _study_result(raw)


def check_run(config: RunConfig) -> list[dict[str, Any]]:
    """Warnings (never blocking) about a run: depth limits, recovery intervals, calibrated
    domain; each ``{"code", "field", "message"}``."""
    from .safety import check_run as _check_run

    return [w.to_dict() for w in _check_run(config)]


def check_study(study: Study) -> list[dict[str, Any]]:
    """Warnings (never blocking) about a study's protocol and population."""
    from .safety import check_study as _check_study

    return [w.to_dict() for w in _check_study(study)]


def check_output_dir(folder: str | os.PathLike[str]) -> Path:
    """``folder`` as a Path once it is known to be a writable folder (or creatable);
    a ConfigError (exit 2) naming ``--out`` otherwise. Nothing in it is touched."""
    from .io.outdir import check_output_dir as _check

    return _check(Path(folder))


def study_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The study files (``*.yaml``) of a folder; a ConfigError if there are none."""
    path = Path(folder)
    if not path.is_dir():
        raise ConfigError([Problem("DIR", f"{str(folder)!r} is not a folder")])
    files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
    if not files:
        raise ConfigError([Problem("DIR", f"no study files (*.yaml) in {str(folder)!r}")])
    return files


def validate(
    folder: str | os.PathLike[str], n: int | None = None
) -> tuple[list[StudyResult], list[ValidationRow]]:
    """Run every study of ``folder``; the results and predicted-vs-measured rows."""
    from .studies import rows, validate_folder

    study_files(folder)
    raw = validate_folder(Path(folder), n)
    return [_study_result(r) for r in raw], rows(raw)


def run_cohort(
    study: Study,
    n: int | None,
    out: str | os.PathLike[str],
    *,
    workers: int | None = 2,
    batch_size: int | None = None,
    scheduler: str | None = None,
    evaluator: BatchEvaluator | str | None = None,
    progress: bool | None = None,
    plots: bool = True,
) -> CohortResult:
    """Run ``n`` virtual patients of ``study`` in batches on Dask, written to ``out``.

    Parquet parts (one row per patient and day), ``cohort.json``,
    ``summary.json`` and plots; re-running skips the batches already written.
    ``workers``: local processes (``None``: every CPU); ``scheduler``: a Dask
    address or ``"inline"`` (this process); ``progress``: show a progress bar.
    """
    from .scale.cohort import DEFAULT_BATCH_SIZE
    from .scale.cohort import run_cohort as _run_cohort

    return _run_cohort(
        study,
        n,
        Path(out),
        workers=workers,
        scheduler=scheduler,
        batch_size=DEFAULT_BATCH_SIZE if batch_size is None else batch_size,
        evaluator=evaluator,
        progress=bool(progress),
        plots=plots,
    )


def resolve_evaluator(spec: Any = None) -> BatchEvaluator:
    """The batch evaluator named ``module:attribute`` (or given), else the model's."""
    from .scale.evaluator import resolve_evaluator as _resolve

    return _resolve(spec)


def is_test_double(evaluator: object) -> bool:
    """Whether ``evaluator`` is the analytic test double (its numbers are not model results)."""
    from .scale.evaluator import is_test_double as _is_test_double

    return _is_test_double(evaluator)


# -- planning ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """A treatment plan (:func:`plan`): refused or a recommended course with alternatives.

    ``raw`` is :class:`needlesim.planning.TreatmentPlan`; its attributes
    (``refused``, ``screening``, ...) are reachable on the plan itself.
    """

    raw: TreatmentPlan

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "raw":  # copy/pickle probe before raw is set
            raise AttributeError(name)
        return getattr(self.raw, name)

    @property
    def refused(self) -> bool:
        return bool(self.raw.refused)

    def to_json(self) -> dict[str, Any]:
        """The plan as JSON data (what ``needlesim plan --json`` prints)."""
        data: dict[str, Any] = self.raw.to_dict()
        return data

    def save(self, directory: str | os.PathLike[str]) -> Path:
        """plan.json and plan.html in ``directory``."""
        from .io.atomic import write_json
        from .planning.report import write_html

        folder = Path(directory)
        data = self.to_json()
        write_json(folder / "plan.json", data)
        write_html(data, folder / "plan.html")
        return folder


def check_history(history: Sequence[str], option: str = "--history") -> list[str]:
    """The screening ids (safety.yaml), de-duplicated; a ConfigError names unknown ones."""
    from .planning.screening import check_history as _check

    return _check(history, option)


def plan(
    patient: PatientSpec,
    *,
    history: Sequence[str] = (),
    severity: Severity | str | None = None,
    override_depth: bool = False,
    max_pih: float | None = None,
    max_downtime: float | None = None,
    n_virtual: int | None = None,
    seed: int = 0,
    evaluator: BatchEvaluator | str | None = None,
) -> Plan:
    """Screen ``patient`` with ``history`` (safety.yaml ids) and, unless refused, plan a course.

    ``severity`` replaces the patient's ``baseline_severity``; ``max_pih``
    (probability) and ``max_downtime`` (days) replace the default limits;
    ``n_virtual`` virtual patients per shortlisted course (the search screens every candidate
    on the expected patient first: :func:`needlesim.planning.search.search`).
    """
    from .planning.plan import plan_treatment
    from .planning.search import N_VIRTUAL

    if severity is not None:
        patient = patient.model_copy(update={"baseline_severity": Severity(severity)})
    result = plan_treatment(
        patient,
        list(history),
        evaluator=evaluator,
        override_depth=override_depth,
        max_pih_risk=max_pih,
        max_downtime_days=max_downtime,
        n_virtual=N_VIRTUAL if n_virtual is None else n_virtual,
        seed=seed,
    )
    return Plan(result)


def print_plan(data: dict[str, Any], console: Console) -> None:
    """A plan (``Plan.to_json()``) as terminal tables."""
    from .planning.report import print_plan as _print_plan

    _print_plan(data, console)


# -- calibration ---------------------------------------------------------------------------------


def calibrate(
    studies: str | os.PathLike[str] = "studies/calibration",
    *,
    out: str | os.PathLike[str] | None = None,
    report: str | os.PathLike[str] | None = None,
    design: int | None = None,
    samples: int | None = None,
    n: int | None = None,
    spec: str | os.PathLike[str] | None = None,
) -> BayesCalibration:
    """Bayesian calibration of the free parameters to every measured value in ``studies``.

    An emulator of the model over the priors (``design`` model runs), NUTS on it
    (``samples`` draws per chain), study-level random effects; writes the fitted set
    (posterior medians) and ``posterior.npz`` beside it. ``out``: default
    ``fitted.yaml`` in the user data folder (:func:`needlesim.io.paths.default_fitted_out`);
    the packaged set is never written. Use it with ``NEEDLESIM_FITTED=<out>``.
    ``report``: a folder for ``calibration.json``, the plots and the design cache.
    ``n``: virtual patients per study per model run; ``spec``: the free-parameter
    declaration (default: the packaged ``free_parameters.yaml``).
    """
    from .calibration.bayes.design import DEFAULT_DESIGN
    from .calibration.bayes.run import DEFAULT_SAMPLES
    from .calibration.bayes.run import calibrate as _calibrate
    from .calibration.bayes.simulate import EMULATOR_PATIENTS
    from .io.paths import default_fitted_out

    return _calibrate(
        Path(studies),
        Path(out) if out is not None else default_fitted_out(),
        None if report is None else Path(report),
        DEFAULT_DESIGN if design is None else design,
        DEFAULT_SAMPLES if samples is None else samples,
        EMULATOR_PATIENTS if n is None else n,
        spec_file=None if spec is None else Path(spec),
    )


def print_calibration(result: BayesCalibration, console: Console) -> None:
    """The prior-vs-posterior table and the targets' posterior predictive."""
    from .calibration.bayes.output import print_report

    print_report(result, console)


def cross_validate(
    studies: str | os.PathLike[str] = "studies/calibration",
    *,
    design: int | None = None,
    report: str | os.PathLike[str] | None = None,
    console: Console | None = None,
) -> CrossValidationResult:
    """Leave each study (or group) out, refit without it, predict it (``validate
    --cross-validate``). With ``report``, ``cross_validation.json`` and ``.png`` go there
    (and the design runs are cached there)."""
    import json

    from .calibration.bayes.crossval import cross_validate as _cross_validate
    from .calibration.bayes.crossval import plot_cross_validation
    from .calibration.bayes.design import DEFAULT_DESIGN
    from .io.atomic import write_text

    folder = None if report is None else Path(report)
    cache = None if folder is None else folder / "design.npz"
    result = _cross_validate(
        Path(studies),
        design=DEFAULT_DESIGN if design is None else design,
        cache=cache,
        console=console,
    )
    if folder is not None:
        from datetime import UTC, datetime

        from . import __version__

        record = {
            "needlesim_version": __version__,
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "studies": str(studies),
            **result.to_dict(),
        }
        folder.mkdir(parents=True, exist_ok=True)
        write_text(folder / "cross_validation.json", json.dumps(record, indent=2))
        plot_cross_validation(result, folder / "cross_validation.png")
    return result


def cross_validation_table(result: CrossValidationResult) -> str:
    """The cross-validation as a markdown table."""
    from .calibration.bayes.crossval import markdown_table

    return markdown_table(result)


# -- sensitivity ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SensitivityResult:
    """Sobol indices (:func:`sensitivity`): one row per observable and parameter.

    ``indices``: columns output, parameter, S1, S1_conf, ST, ST_conf, rank;
    ``header``: study, config hash, seed, evaluator, parameters, failed points.
    """

    indices: pd.DataFrame
    header: dict[str, Any]
    files: list[Path]

    def to_json(self) -> dict[str, Any]:
        return {**self.header, "indices": self.indices.to_dict(orient="records")}


def parse_param(text: str) -> ParameterRange:
    """A parameter range ``name:lo:hi``."""
    from .sensitivity.problem import parse_param as _parse

    return _parse(text)


def registry_ranges() -> list[ParameterRange] | None:
    """The plausible ranges of the registry's parameters (None without a registry)."""
    from .sensitivity import problem

    return problem.registry_ranges()


def sensitivity(
    study: Study,
    observables: Sequence[str],
    *,
    n_base: int = 64,
    params: Sequence[ParameterRange] | None = None,
    day: float | None = None,
    out: str | os.PathLike[str] | None = None,
    evaluator: BatchEvaluator | str | None = None,
    scheduler: str | None = "inline",
    workers: int | None = None,
    batch_size: int = 1000,
    progress: bool = False,
) -> SensitivityResult:
    """Sobol indices of ``observables`` of ``study``'s typical patient over parameter ranges.

    ``params``: the ranges (default: the registry's plausible ranges);
    ``n_base``: Saltelli base sample (a power of 2; ``n_base (D + 2)`` runs);
    ``day``: output day (default the last); ``out``: write sobol.csv, .json, .png there.
    """
    from .io.provenance import config_hash
    from .scale.arms import ArmsStudy
    from .scale.evaluator import evaluator_name
    from .sensitivity.model import model_sobol
    from .sensitivity.report import write_indices

    ranges = list(params) if params else (registry_ranges() or [])
    if not ranges:
        raise ConfigError([Problem("params", "no parameter ranges and no registry")])
    fn = resolve_evaluator(evaluator)
    protocol = study.arms[0].protocol if isinstance(study, ArmsStudy) else study.protocol
    indices = model_sobol(
        study, ranges, list(observables), n_base, fn, day=day, protocol=protocol,
        scheduler=scheduler, workers=workers, batch_size=batch_size, progress=progress,
    )  # fmt: skip
    header = {
        "study": study.name,
        "config_hash": config_hash(study),
        "seed": study.simulation.seed,
        "evaluator": evaluator_name(fn),
        "test_double": is_test_double(fn),
        "needlesim_version": __version__,
        "parameters": [[r.name, r.lo, r.hi] for r in ranges],
        "observables": list(observables),
        "day": day,
        "failed_points": indices.attrs["failed_points"],
        "base_points_used": indices.attrs["base_points_used"],
    }
    files = write_indices(indices, Path(out), header) if out is not None else []
    return SensitivityResult(indices, header, files)


def sobol_table(indices: pd.DataFrame, title: str) -> Table:
    """Sobol indices as a terminal table."""
    from .sensitivity.report import rich_table

    return rich_table(indices, title)


__all__ += [
    "check_history",
    "is_test_double",
    "parse_param",
    "print_calibration",
    "print_plan",
    "registry_ranges",
    "resolve_evaluator",
    "sobol_table",
    "study_files",
    "write_text",
]
