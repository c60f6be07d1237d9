"""``needlesim params``: the parameter registry."""

from __future__ import annotations

import json
import sys

import typer

from .common import JsonOption, handles_errors, out


def params(as_json: JsonOption = False) -> None:
    """The parameter registry: value, unit, plausible range and source of every parameter."""
    from rich.table import Table

    from .. import api

    rows = api.parameters()
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


def register(app: typer.Typer) -> None:
    """Add ``params`` to a Typer app."""
    app.command("params")(handles_errors(params))
