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
) -> None:
    """Run every study in a folder and print predicted against measured."""
    from rich.table import Table

    from .. import api

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
