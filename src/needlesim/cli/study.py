"""``needlesim study run``: one study's virtual cohort and its predictions."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from .common import CohortOption, JsonOption, err, handles_errors, out, print_warnings


def study_run(
    study_file: Annotated[Path, typer.Argument(help="Study YAML file.", metavar="STUDY")],
    as_json: JsonOption = False,
    n: CohortOption = None,
) -> None:
    """Simulate a study's virtual cohort and predict each measurement (mean, 95 % range)."""
    from rich.table import Table

    from .. import api

    study = api.load(study_file, kind="study")
    print_warnings(api.check_study(study))
    with err.status(f"simulating {n or study.population.n} virtual patients of {study.name}"):
        result = api.run_study(study, n)
    if as_json:
        sys.stdout.write(json.dumps(result.to_json()) + "\n")
        return
    table = Table(title=f"{study.name}: {n or study.population.n} virtual patients")
    for column in ("observable", "day", "mean", "95 % range", "measured"):
        table.add_column(column, justify="left" if column == "observable" else "right")
    for p in result.predictions:
        measured = "" if p["measured"] is None else f"{p['measured']:.3g}"
        table.add_row(
            p["observable"],
            f"{p['day']:g}",
            f"{p['mean']:.3g}",
            f"{p['p2_5']:.3g} to {p['p97_5']:.3g}",
            measured,
        )
    out.print(table)


def register(app: typer.Typer) -> None:
    """Add the ``study`` group (``study run``) to a Typer app."""
    study_app = typer.Typer(help="Studies in the study format of DESIGN.md.", no_args_is_help=True)
    study_app.command("run")(handles_errors(study_run))
    app.add_typer(study_app, name="study")
