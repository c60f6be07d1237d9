"""``needlesim sensitivity``: Sobol indices of observables over the parameter ranges."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from .common import EvaluatorOption, bad_input, cli_evaluator, err, handles_errors, out


def _observables(names: list[str]) -> list[str]:
    from ..api import OBSERVABLES

    if not names:
        bad_input("--observable", f"give at least one; valid: {list(OBSERVABLES)}")
    bad = [n for n in names if n not in OBSERVABLES]
    if bad:
        bad_input("--observable", f"unknown {bad}; valid: {', '.join(OBSERVABLES)}")
    return list(dict.fromkeys(names))


def _ranges(params: list[str]) -> list[Any]:
    from .. import api

    if params:
        ranges = [api.parse_param(p) for p in params]
        names = [r.name for r in ranges]
        if len(set(names)) != len(names):
            bad_input("--param", f"repeated parameter names in {names}")
        return ranges
    found = api.registry_ranges()
    if not found:
        bad_input(
            "--param",
            "no parameter registry is available (needlesim.biology); "
            "give the ranges as --param name:lo:hi",
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
    from .. import api

    study = api.load(study_file, kind="study")
    names = _observables(observable)
    ranges = _ranges(param or [])
    if n_base < 2 or n_base & (n_base - 1):
        bad_input("--n-base", f"{n_base} is not a power of 2 (e.g. 256, 1024)")
    fn = cli_evaluator(evaluator)
    folder = out_dir or Path("results") / f"{study_file.stem}-sobol"
    result = api.sensitivity(
        study, names, n_base=n_base, params=ranges, day=day, out=folder, evaluator=fn,
        scheduler=scheduler, workers=workers, batch_size=batch_size, progress=not as_json,
    )  # fmt: skip
    header, indices = result.header, result.indices
    if header["failed_points"]:
        err.print(
            f"{header['failed_points']} sample points failed to solve; their Saltelli groups "
            f"were dropped ({header['base_points_used']} of {n_base} base points used)"
        )
    if as_json:
        sys.stdout.write(json.dumps(result.to_json()) + "\n")
        return
    title = f"{study.name}: Sobol indices, {indices.attrs['n_evaluations']} evaluations"
    if header["test_double"]:
        title += " (analytic TEST DOUBLE: not model results)"
    out.print(api.sobol_table(indices, title))
    err.print(f"wrote {folder}/sobol.csv, sobol.json, sobol.png")


def register(app: typer.Typer) -> None:
    """Add ``sensitivity`` to a Typer app."""
    app.command("sensitivity")(handles_errors(sensitivity))
