"""What every command shares: consoles, exit codes, error handling, common options.

Exit codes: 0 ok; 2 bad input (the message names the field, the value and
what is allowed; no traceback); 1 internal error (``NEEDLESIM_DEBUG=1`` shows
the traceback). Nothing here imports the model: a command imports
:mod:`needlesim.api` when it runs, so ``needlesim --help`` stays fast.
"""

from __future__ import annotations

import errno
import functools
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2

err = Console(stderr=True)
out = Console()

P = ParamSpec("P")
R = TypeVar("R")


def bad_input(field: str, message: str, source: str | None = None) -> NoReturn:
    """Raise the ConfigError of one bad option (exit 2)."""
    from ..api import ConfigError, Problem

    raise ConfigError([Problem(field, message)], source)


def handles_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Map bad input to exit 2 and anything unexpected to exit 1, without a traceback.

    Set ``NEEDLESIM_DEBUG=1`` to see the traceback of an internal error.
    """

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except typer.Exit:
            raise
        except Exception as exc:
            from ..api import ConfigError, ModelUnavailableError

            if isinstance(exc, ConfigError):
                err.print(f"[bold red]error:[/] {exc.render()}", highlight=False, soft_wrap=True)
                raise typer.Exit(EXIT_BAD_INPUT) from None
            if isinstance(exc, ModelUnavailableError):
                err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
                raise typer.Exit(EXIT_INTERNAL) from None
            if os.environ.get("NEEDLESIM_DEBUG"):
                raise
            sentence = _solver_failure(exc) or _write_failure(exc)
            if sentence is not None:
                err.print(f"[bold red]error:[/] {sentence}", highlight=False, soft_wrap=True)
                raise typer.Exit(EXIT_INTERNAL) from None
            err.print(
                f"[bold red]internal error:[/] {type(exc).__name__}: {exc}\n"
                "This is a bug in needlesim; rerun with NEEDLESIM_DEBUG=1 for the traceback.",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper


def _solver_failure(exc: BaseException) -> str | None:
    """One sentence for a solve that failed (a SolveError, or a solver error that escaped
    as a JAX/equinox runtime error), else None."""
    from ..api import SolveError

    if isinstance(exc, SolveError):
        return str(exc)
    text = str(exc)
    if "maximum number of solver steps" in text or type(exc).__name__ == "EqxRuntimeError":
        first = next((line for line in text.splitlines() if line.strip()), type(exc).__name__)
        return (
            f"The solver stopped ({first.strip()[:200]}); try fewer passes, shorter needles or "
            "longer intervals, and report the configuration if it is within the documented limits."
        )
    return None


WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS})


def _write_failure(exc: BaseException) -> str | None:
    """One sentence for an output that could not be written (disk full, permission), else None.

    Every result file is written atomically, so files already complete stay complete.
    """
    if not isinstance(exc, OSError) or exc.errno not in WRITE_ERRNOS:
        return None
    where = f" {exc.filename}" if exc.filename else ""
    return (
        f"could not write{where}: {exc.strerror or exc}; files already written are complete "
        "(each is written whole or not at all): free space or choose another --out, then rerun."
    )


def print_warnings(warnings: list[Any]) -> None:
    """Warnings about the input (never blocking), on stderr in yellow.

    Each is an advisory dict (``code``, ``field``, ``message``) as in ``summary.json``.
    """
    for w in warnings:
        field = w["field"] if isinstance(w, dict) else w.field
        message = w["message"] if isinstance(w, dict) else w.message
        err.print(
            f"[bold yellow]warning:[/] [yellow]{field}: {message}[/]",
            highlight=False,
            soft_wrap=True,
        )


def default_out(config_path: Path, suffix: str = "") -> Path:
    """``results/<config stem><suffix>``."""
    return Path("results") / f"{config_path.stem}{suffix}"


ConfigArg = Annotated[
    Path, typer.Argument(help="YAML configuration file.", show_default=False, metavar="CONFIG")
]
OutOption = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="Output folder (default: results/<config name>)."),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON object on stdout instead of a table.")
]
CohortOption = Annotated[
    int | None,
    typer.Option("--n", min=1, help="Virtual patients (default: the study's population.n)."),
]
EvaluatorOption = Annotated[
    str | None,
    typer.Option(
        "--evaluator",
        help="Batch evaluator as module:attribute (default: the healing model, "
        "needlesim.studies:evaluate_batch). needlesim.testing.analytic:analytic_evaluator is an "
        "analytic test double for trying the plumbing: its numbers are not model results.",
    ),
]


def cli_evaluator(spec: str | None) -> Any:
    """Resolve ``--evaluator``; warn loudly when it declares itself a test double."""
    from ..api import is_test_double, resolve_evaluator

    evaluator = resolve_evaluator(spec)
    if is_test_double(evaluator):
        warn_test_double()
    return evaluator


def warn_test_double() -> None:
    """Say loudly that the numbers come from a test double."""
    err.print(
        "[bold yellow]warning:[/] the evaluator is a TEST DOUBLE (it declares "
        "is_model_result = False): numbers are invented, NOT model results.",
        highlight=False,
    )


def fmt(value: Any, digits: int = 3) -> str:
    """A number for a table: ``digits`` significant digits; blanks for missing."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{float(value):.{digits}g}"


def compact(value: float) -> str:
    """At most ~6 characters: 3 significant digits, or 1e-04 style for tiny values."""
    if value == 0 or abs(value) >= 0.01:
        return f"{value:.3g}"
    return f"{value:.0e}"
