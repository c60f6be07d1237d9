"""``python -m needlesim.app [--host H] [--port P] [--evaluator module:attr]``.

A stand-in for ``needlesim serve`` until the CLI wires it; ``--evaluator`` is for
tests (it replaces the model in plans, which then say TEST DOUBLE).
"""

from __future__ import annotations

import argparse

from .server import serve
from .state import SETTINGS


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m needlesim.app", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8050)
    parser.add_argument("--evaluator", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    SETTINGS["evaluator"] = args.evaluator
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
