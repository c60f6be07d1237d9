"""The command line (Typer): one module per command, each a thin layer over :mod:`needlesim.api`.

Exit codes: 0 ok; 2 bad input (the message names the field, the value and
what is allowed; no traceback); 1 internal error. No package of needlesim
imports this one.
"""

from .application import app, main

__all__ = ["app", "main"]
