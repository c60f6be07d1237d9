"""``needlesim validate``: every study of a folder, predicted against measured."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from .common import CohortOption, JsonOption, err, handles_errors, out


def validate(
    folder: Annotated[Path, typer.Argument(help="Folder of study YAML files.", metavar="DIR")],
    as_json: JsonOption = False,
    n: CohortOption = None,
    cross: Annotated[
        bool,
        typer.Option(
            "--cross-validate",
            help="Leave each study out, refit without it (Bayesian, on the emulator) and "
            "predict it; writes results/validation/cross_validation.json and .png.",
        ),
    ] = False,
    design: Annotated[
        int | None,
        typer.Option("--design", help="Emulator design points for --cross-validate."),
    ] = None,
) -> None:
    """Run every study in a folder and print predicted against measured."""
    from rich.table import Table

    from .. import api

    if cross:
        result = api.cross_validate(
            folder, design=design, report=Path("results/validation"), console=err
        )
        if as_json:
            sys.stdout.write(json.dumps(result.to_dict()) + "\n")
            return
        out.print(api.cross_validation_table(result))
        out.print(
            f"within tolerance: {100 * result.fraction_within_tolerance:.0f} %; coverage of the "
            f"95 % interval: {100 * result.coverage:.0f} %; median interval width "
            f"{100 * result.median_relative_interval_width:.0f} % of the predicted mean"
        )
        return
    files = api.study_files(folder)
    with err.status(f"running {len(files)} studies"):
        results, found = api.validate(folder, n)
    if as_json:
        data = [{**r.__dict__, "error": r.error, "inside": r.inside} for r in found]
        sys.stdout.write(json.dumps(data) + "\n")
        return
    table = Table(title=f"validation: {len(results)} studies, {len(found)} measured values")
    for column in ("study", "measurement", "day", "predicted", "95 % range", "measured", "error"):
        table.add_column(column, justify="left" if column in ("study", "measurement") else "right")
    for r in found:
        mark = "" if r.inside else " *"
        table.add_row(
            r.study,
            r.label,
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


def register(app: typer.Typer) -> None:
    """Add ``validate`` to a Typer app."""
    app.command("validate")(handles_errors(validate))
