"""The ``needlesim`` Typer app: the global options and every command, one module each."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from . import (
    calibrate,
    cohort,
    device,
    params,
    plan,
    schema,
    sensitivity,
    serve,
    simulate,
    study,
    validate,
)
from .common import out

app = typer.Typer(
    name="needlesim",
    help="needlesim: an in-silico lab for microneedling (collagen induction therapy).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version_callback(value: bool) -> None:
    if value:
        from .. import __version__

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
    fitted: Annotated[
        Path | None,
        typer.Option(
            "--fitted",
            help="Use this fitted set (a fitted.yaml written by needlesim calibrate) instead "
            "of the packaged one; same as NEEDLESIM_FITTED=PATH.",
            envvar="NEEDLESIM_FITTED",
        ),
    ] = None,
) -> None:
    """needlesim: from the needle cartridge to the clinical outcome."""
    if fitted is not None:
        os.environ["NEEDLESIM_FITTED"] = str(fitted)


for _command in (device, simulate, params, study, validate, schema):
    _command.register(app)
for _command in (cohort, sensitivity, plan, calibrate, serve):
    _command.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
