"""``needlesim sensitivity``: Sobol indices of observables over the parameter ranges."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from .. import __version__
from ..config import ConfigError, Problem
from ..io import config_hash
from ..scale.arms import ArmsStudy, load_study
from ..scale.clitools import EvaluatorOption, cli_evaluator, err, out, with_errors
from ..scale.evaluator import OBSERVABLES, evaluator_name, is_test_double
from .model import model_sobol
from .problem import ParameterRange, parse_param, registry_ranges
from .report import rich_table, write_indices


def _observables(names: list[str]) -> list[str]:
    if not names:
        raise ConfigError(
            [Problem("--observable", f"give at least one; valid: {list(OBSERVABLES)}")]
        )
    bad = [n for n in names if n not in OBSERVABLES]
    if bad:
        raise ConfigError(
            [Problem("--observable", f"unknown {bad}; valid: {', '.join(OBSERVABLES)}")]
        )
    return list(dict.fromkeys(names))


def _ranges(params: list[str]) -> list[ParameterRange]:
    if params:
        ranges = [parse_param(p) for p in params]
        names = [r.name for r in ranges]
        if len(set(names)) != len(names):
            raise ConfigError([Problem("--param", f"repeated parameter names in {names}")])
        return ranges
    found = registry_ranges()
    if not found:
        raise ConfigError(
            [
                Problem(
                    "--param",
                    "no parameter registry is available (needlesim.biology); "
                    "give the ranges as --param name:lo:hi",
                )
            ]
        )
    return found


def sensitivity(
    study_file: Annotated[Path, typer.Argument(metavar="STUDY", help="Study YAML.")],
    observable: Annotated[
        list[str],
        typer.Option("--observable", help="Observable to analyse (repeat for several)."),
    ],
    n_base: Annotated[
        int, typer.Option("--n-base", help="Base sample size N (power of 2); N(D+2) runs.")
    ] = 256,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param", help="name:lo:hi (repeat); default: the model's parameter registry."
        ),
    ] = None,
    day: Annotated[
        float | None, typer.Option("--day", help="Output day (default: the last one).")
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output folder (default: results/<study>-sobol)."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Local worker processes.")
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Dask scheduler address, or 'inline' (no Dask)."),
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", help="Sample rows per task.", min=1)
    ] = 1000,
    evaluator: EvaluatorOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object on stdout instead of a table.")
    ] = False,
) -> None:
    """Sobol indices (first order and total, with intervals) ranking the model parameters.

    Writes sobol.csv, sobol.json and sobol.png.
    """
    study = load_study(study_file)
    names = _observables(observable)
    ranges = _ranges(param or [])
    if n_base < 2 or n_base & (n_base - 1):
        raise ConfigError([Problem("--n-base", f"{n_base} is not a power of 2 (e.g. 256, 1024)")])
    fn = cli_evaluator(evaluator)
    protocol = study.arms[0].protocol if isinstance(study, ArmsStudy) else study.protocol
    indices = model_sobol(
        study, ranges, names, n_base, fn, day=day, protocol=protocol,
        scheduler=scheduler, workers=workers, batch_size=batch_size, progress=not as_json,
    )  # fmt: skip
    folder = out_dir or Path("results") / f"{study_file.stem}-sobol"
    header = {
        "study": study.name,
        "config_hash": config_hash(study),
        "seed": study.simulation.seed,
        "evaluator": evaluator_name(fn),
        "test_double": is_test_double(fn),
        "needlesim_version": __version__,
        "parameters": [[r.name, r.lo, r.hi] for r in ranges],
        "observables": names,
        "day": day,
        "failed_points": indices.attrs["failed_points"],
        "base_points_used": indices.attrs["base_points_used"],
    }
    write_indices(indices, folder, header)
    if header["failed_points"]:
        err.print(
            f"{header['failed_points']} sample points failed to solve; their Saltelli groups "
            f"were dropped ({header['base_points_used']} of {n_base} base points used)"
        )
    if as_json:
        payload = {**header, "indices": indices.to_dict(orient="records")}
        sys.stdout.write(json.dumps(payload) + "\n")
        return
    title = f"{study.name}: Sobol indices, {indices.attrs['n_evaluations']} evaluations"
    if header["test_double"]:
        title += " (analytic TEST DOUBLE: not model results)"
    out.print(rich_table(indices, title))
    err.print(f"wrote {folder}/sobol.csv, sobol.json, sobol.png")


def register(app: typer.Typer) -> None:
    """Add ``sensitivity`` to a Typer app."""
    app.command("sensitivity")(with_errors(sensitivity))
