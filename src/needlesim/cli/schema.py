"""``needlesim schema``: the JSON Schema of a configuration file."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from .common import err, handles_errors


class SchemaKind(StrEnum):
    run = "run"
    study = "study"


def schema(
    kind: Annotated[
        SchemaKind, typer.Option("--kind", help="run: one patient (simulate, device); study.")
    ] = SchemaKind.run,
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Write the JSON Schema of a configuration file (for editors and validators)."""
    from .. import api

    text = json.dumps(api.config_schema(kind.value), indent=2) + "\n"
    if out_file is None:
        sys.stdout.write(text)
    else:
        api.write_text(out_file, text)
        err.print(f"wrote {out_file}")


def register(app: typer.Typer) -> None:
    """Add ``schema`` to a Typer app."""
    app.command("schema")(handles_errors(schema))
