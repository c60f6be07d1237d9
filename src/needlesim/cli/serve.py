"""``needlesim serve``: the web app (plan, explore, studies, validation), fully offline."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import handles_errors


def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (loopback by default).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port.")] = 8050,
) -> None:
    """The web app: plan, explore (A/B), studies, validation; no network needed.

    It binds to loopback unless told otherwise (and warns when it is); /healthz
    answers 200 once the model is compiled.
    """
    from ..app.server import serve as run_server

    run_server(host, port)


def register(app: typer.Typer) -> None:
    """Add ``serve`` to a Typer app."""
    app.command("serve")(handles_errors(serve))
