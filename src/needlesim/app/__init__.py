"""The web app (``needlesim serve``): Plan, Explore, Studies and Validation pages.

Every call into the model goes through :mod:`.services`. Start it with
:func:`serve` (or ``python -m needlesim.app``).
"""

from __future__ import annotations

from typing import Any


def serve(host: str = "127.0.0.1", port: int = 8050) -> None:
    """Run the app (see :func:`needlesim.app.server.serve`)."""
    from .server import serve as _serve

    _serve(host, port)


def __getattr__(name: str) -> Any:  # lazy: importing the package does not import Dash
    if name in ("create_app", "make_server"):
        from . import server

        return getattr(server, name)
    raise AttributeError(name)


__all__ = ["create_app", "make_server", "serve"]
