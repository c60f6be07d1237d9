"""Command-line interface (Typer): a thin layer over the Python API.

Exit codes: 0 ok; 2 bad input (the message names the field, the value and
what is allowed; no traceback); 1 internal error.
"""

from __future__ import annotations

import errno
import functools
import json
import os
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from . import __version__
from .config import ConfigError, Problem, RunConfig, Study, load

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2

app = typer.Typer(
    name="needlesim",
    help="needlesim: an in-silico lab for microneedling (collagen induction therapy).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)
out = Console()

P = ParamSpec("P")
R = TypeVar("R")


def handles_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Map bad input to exit 2 and anything unexpected to exit 1, without a traceback.

    Set ``NEEDLESIM_DEBUG=1`` to see the traceback of an internal error.
    """

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ConfigError as exc:
            err.print(f"[bold red]error:[/] {exc.render()}", highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except typer.Exit:
            raise
        except Exception as exc:
            if os.environ.get("NEEDLESIM_DEBUG"):
                raise
            sentence = _solver_failure(exc) or _write_failure(exc)
            if sentence is not None:
                err.print(f"[bold red]error:[/] {sentence}", highlight=False, soft_wrap=True)
                raise typer.Exit(EXIT_INTERNAL) from None
            err.print(
                f"[bold red]internal error:[/] {type(exc).__name__}: {exc}\n"
                "This is a bug in needlesim; rerun with NEEDLESIM_DEBUG=1 for the traceback.",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper


def _solver_failure(exc: BaseException) -> str | None:
    """One sentence for a solve that failed (a SolveError, or a solver error that escaped
    as a JAX/equinox runtime error), else None."""
    from .solve import SolveError

    if isinstance(exc, SolveError):
        return str(exc)
    text = str(exc)
    if "maximum number of solver steps" in text or type(exc).__name__ == "EqxRuntimeError":
        first = next((line for line in text.splitlines() if line.strip()), type(exc).__name__)
        return (
            f"The solver stopped ({first.strip()[:200]}); try fewer passes, shorter needles or "
            "longer intervals, and report the configuration if it is within the documented limits."
        )
    return None


WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS})


def _write_failure(exc: BaseException) -> str | None:
    """One sentence for an output that could not be written (disk full, permission), else None.

    Every result file is written atomically, so files already complete stay complete.
    """
    if not isinstance(exc, OSError) or exc.errno not in WRITE_ERRNOS:
        return None
    where = f" {exc.filename}" if exc.filename else ""
    return (
        f"could not write{where}: {exc.strerror or exc}; files already written are complete "
        "(each is written whole or not at all): free space or choose another --out, then rerun."
    )


def print_warnings(warnings: list[Any]) -> None:
    """Warnings about the input (never blocking), on stderr in yellow."""
    for w in warnings:
        err.print(
            f"[bold yellow]warning:[/] [yellow]{w.field}: {w.message}[/]",
            highlight=False,
            soft_wrap=True,
        )


def _default_out(config_path: Path, suffix: str = "") -> Path:
    return Path("results") / f"{config_path.stem}{suffix}"


def _version_callback(value: bool) -> None:
    if value:
        out.print(f"needlesim {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="Show the version."
        ),
    ] = False,
) -> None:
    """needlesim: from the needle cartridge to the clinical outcome."""


ConfigArg = Annotated[
    Path, typer.Argument(help="YAML configuration file.", show_default=False, metavar="CONFIG")
]
OutOption = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="Output folder (default: results/<config name>)."),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON object on stdout instead of a table.")
]


@app.command()
@handles_errors
def device(
    config: ConfigArg,
    out_dir: OutOption = None,
    as_json: JsonOption = False,
    session: Annotated[
        int, typer.Option("--session", min=0, help="Which session of the protocol (0 = first).")
    ] = 0,
) -> None:
    """Needle punctures and the injury they leave: density, depth, layers reached, bleeding.

    Writes device_summary.json, puncture_map.png and depth_profile.png.
    """
    run = load(RunConfig, config)
    from .device import simulate_device
    from .io import write_json
    from .plots.device import plot_depth_profile, plot_puncture_map

    sessions = run.protocol.session_count
    if sessions and session >= sessions:
        problem = Problem("--session", f"{session} is out of range; allowed: 0 to {sessions - 1}")
        raise ConfigError([problem], str(config))
    from .io import check_output_dir

    folder = check_output_dir(out_dir or _default_out(config, "-device"))
    result = simulate_device(run, session_index=session)
    summary = {"config": str(config), "session": session, **result.summary.to_dict()}
    write_json(folder / "device_summary.json", summary)
    plot_puncture_map(result, folder / "puncture_map.png")
    plot_depth_profile(result, folder / "depth_profile.png")
    if as_json:
        # The density map stays in the file; stdout gets the scalar summary.
        brief = {k: v for k, v in summary.items() if not k.startswith("density_")}
        sys.stdout.write(json.dumps(brief) + "\n")
        return
    _print_device_summary(summary, result, folder)


def _print_device_summary(summary: dict[str, Any], result: Any, folder: Path) -> None:
    dev = result.device
    table = Table(title=f"needlesim device: {dev.type}, {dev.needle_length_mm} mm needles")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    rows: list[tuple[str, str]] = [
        ("punctures in sample", f"{summary['n_punctures']}"),
        ("channel density", f"{summary['channel_density_per_cm2']:.1f} /cm²"),
        ("coverage of the surface", f"{100 * summary['coverage_fraction']:.2f} %"),
        ("penetration depth (mean)", f"{summary['effective_depth_um']:.0f} µm"),
        ("residual channel depth (mean)", f"{summary['channel_depth_um']:.0f} µm"),
        ("channel surface diameter", f"{summary['surface_diameter_um']:.0f} µm"),
        ("layers reached", ", ".join(summary["layers_reached"]) or "none"),
        ("channels with pinpoint bleeding", f"{100 * summary['bleeding_fraction']:.0f} %"),
    ]
    if summary.get("punctures_per_second") is not None:
        rows.append(("punctures per second", f"{summary['punctures_per_second']:.0f}"))
    for layer, frac in summary["injured_volume_fraction"].items():
        rows.append((f"injured volume, {layer.replace('_', ' ')}", f"{100 * frac:.3f} %"))
    for name, value in rows:
        table.add_row(name, value)
    out.print(table)
    out.print(f"wrote {folder}/device_summary.json, puncture_map.png, depth_profile.png")


@app.command()
@handles_errors
def simulate(
    config: ConfigArg,
    out_dir: OutOption = None,
    as_json: JsonOption = False,
) -> None:
    """Simulate one patient's course: injury, healing over months, observables.

    Writes trajectories.zarr, summary.json, PNG plots and report.html.
    """
    run = load(RunConfig, config)
    from .config import Fidelity
    from .io import check_output_dir

    folder = check_output_dir(out_dir or _default_out(config))
    if run.simulation.fidelity == Fidelity.patch:
        from .patch_course import run_patch_course

        with err.status(f"simulating {run.name} on a 3D patch"):
            patch_data = run_patch_course(run, folder)  # checkpoints in folder, resumes
        if as_json:
            sys.stdout.write(json.dumps(patch_data) + "\n")
            return
        agree = ", ".join(
            f"{k} {v:+.1%}" for k, v in patch_data["layered_agreement"].items() if k != "day"
        )
        out.print(
            f"patch {patch_data['grid']['shape']} in {patch_data['runtime_s']:.1f} s; "
            f"vs layered on day {patch_data['end_day']:g}: {agree}"
        )
        out.print(f"wrote {folder}/summary.json, patch.zarr, PNGs and a .vti")
        return
    from .course import simulate_course
    from .report.course import write_course
    from .safety import check_run

    print_warnings(check_run(run))
    with err.status(f"simulating {run.name} ({run.protocol.session_count} sessions)"):
        result = simulate_course(run)
        data = write_course(result, folder)
    if as_json:
        sys.stdout.write(json.dumps(data) + "\n")
        return
    _print_course_summary(data, folder)


def _compact(value: float) -> str:
    """At most ~6 characters: 3 significant digits, or 1e-04 style for tiny values."""
    if value == 0 or abs(value) >= 0.01:
        return f"{value:.3g}"
    return f"{value:.0e}"


def _print_course_summary(data: dict[str, Any], folder: Path) -> None:
    days = data["days"]
    table = Table(title=f"needlesim simulate: {data['name']}")
    table.add_column("observable", no_wrap=True)
    for day in days:
        table.add_column(f"day {day:g}", justify="right")
    for name, entry in data["observables"].items():
        table.add_row(name, *[_compact(v) for v in entry["values"]])
    out.print(table)
    out.print(
        f"wrote {folder}/summary.json, trajectories.zarr, report.html and plots "
        "(outcomes, matrix, mediators, cells)"
    )


@app.command()
@handles_errors
def params(
    as_json: JsonOption = False,
) -> None:
    """The parameter registry: value, unit, plausible range and source of every parameter."""
    from .biology import registry

    rows = registry()
    if as_json:
        sys.stdout.write(json.dumps([row._asdict() for row in rows]) + "\n")
        return
    table = Table(title=f"needlesim parameters ({len(rows)})", show_lines=False)
    table.add_column("name", no_wrap=True)
    table.add_column("value", no_wrap=True)
    table.add_column("unit", max_width=16)
    table.add_column("range", no_wrap=True)
    table.add_column("source", overflow="fold", min_width=30)
    for row in rows:
        table.add_row(
            row.name, f"{row.value:.4g}", row.unit, f"{row.lo:.3g}-{row.hi:.3g}", row.source
        )
    out.print(table)


study_app = typer.Typer(help="Studies in the study format of DESIGN.md.", no_args_is_help=True)
app.add_typer(study_app, name="study")

CohortOption = Annotated[
    int | None,
    typer.Option("--n", min=1, help="Virtual patients (default: the study's population.n)."),
]


@study_app.command("run")
@handles_errors
def study_run(
    study_file: Annotated[Path, typer.Argument(help="Study YAML file.", metavar="STUDY")],
    as_json: JsonOption = False,
    n: CohortOption = None,
) -> None:
    """Simulate a study's virtual cohort and predict each measurement (mean, 95 % range)."""
    study = load(Study, study_file)
    from .safety import check_study
    from .studies import run_study

    warnings = check_study(study)
    print_warnings(warnings)
    with err.status(f"simulating {n or study.population.n} virtual patients of {study.name}"):
        result = run_study(study, n)
    if as_json:
        data = {**result.to_dict(), "warnings": [w.to_dict() for w in warnings]}
        sys.stdout.write(json.dumps(data) + "\n")
        return
    table = Table(title=f"{study.name}: {n or study.population.n} virtual patients")
    for column in ("observable", "day", "mean", "95 % range", "measured"):
        table.add_column(column, justify="left" if column == "observable" else "right")
    for p in result.predictions:
        measured = "" if p.measured is None else f"{p.measured:.3g}"
        table.add_row(
            p.observable, f"{p.day:g}", f"{p.mean:.3g}", f"{p.p2_5:.3g} to {p.p97_5:.3g}", measured
        )
    out.print(table)


@app.command()
@handles_errors
def validate(
    folder: Annotated[Path, typer.Argument(help="Folder of study YAML files.", metavar="DIR")],
    as_json: JsonOption = False,
    n: CohortOption = None,
) -> None:
    """Run every study in a folder and print predicted against measured."""
    from .studies import rows, study_files, validate_folder

    if not folder.is_dir():
        raise ConfigError([Problem("DIR", f"{str(folder)!r} is not a folder")])
    files = study_files(folder)
    if not files:
        raise ConfigError([Problem("DIR", f"no study files (*.yaml) in {str(folder)!r}")])
    with err.status(f"running {len(files)} studies"):
        results = validate_folder(folder, n)
    found = rows(results)
    if as_json:
        data = [{**r.__dict__, "error": r.error, "inside": r.inside} for r in found]
        sys.stdout.write(json.dumps(data) + "\n")
        return
    table = Table(title=f"validation: {len(results)} studies, {len(found)} measured values")
    for column in ("study", "observable", "day", "predicted", "95 % range", "measured", "error"):
        table.add_column(column, justify="left" if column in ("study", "observable") else "right")
    for r in found:
        mark = "" if r.inside else " *"
        table.add_row(
            r.study,
            r.observable,
            f"{r.day:g}",
            f"{r.predicted:.3g}",
            f"{r.p2_5:.3g} to {r.p97_5:.3g}",
            f"{r.measured:.3g}",
            f"{r.error:+.3g}{mark}",
        )
    out.print(table)
    outside = sum(not r.inside for r in found)
    out.print(
        f"{len(found) - outside} of {len(found)} measured values inside the predicted "
        "95 % range (* = outside)"
    )


class SchemaKind(StrEnum):
    run = "run"
    study = "study"


@app.command()
@handles_errors
def schema(
    kind: Annotated[
        SchemaKind, typer.Option("--kind", help="run: one patient (simulate, device); study.")
    ] = SchemaKind.run,
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Write the JSON Schema of a configuration file (for editors and validators)."""
    from .io import write_text

    model = RunConfig if kind == SchemaKind.run else Study
    text = json.dumps(model.model_json_schema(), indent=2) + "\n"
    if out_file is None:
        sys.stdout.write(text)
    else:
        write_text(out_file, text)
        err.print(f"wrote {out_file}")


def main() -> None:
    """Console-script entry point."""
    app()


def _register_subcommands() -> None:
    """Commands that live with their layer (scale, sensitivity, planning)."""
    from .calibration import register as register_calibrate
    from .planning import register as register_plan
    from .scale import register as register_cohort
    from .sensitivity import register as register_sensitivity

    register_cohort(app)
    register_sensitivity(app)
    register_plan(app)
    register_calibrate(app)


_register_subcommands()
