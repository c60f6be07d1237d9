"""Pieces shared by the ``cohort``, ``sensitivity`` and ``plan`` commands."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from .evaluator import BatchEvaluator, ModelUnavailableError, is_test_double, resolve_evaluator

P = ParamSpec("P")
R = TypeVar("R")

err = Console(stderr=True)
out = Console()

EvaluatorOption = Annotated[
    str | None,
    typer.Option(
        "--evaluator",
        help="Batch evaluator as module:attribute (default: the healing model, "
        "needlesim.studies:evaluate_batch). needlesim.scale.testing:analytic_evaluator is an "
        "analytic test double for trying the plumbing: its numbers are not model results.",
    ),
]


def cli_evaluator(spec: str | None) -> BatchEvaluator:
    """Resolve ``--evaluator``; without a model, exit 1 with a clear message (no traceback)."""
    try:
        evaluator = resolve_evaluator(spec)
    except ModelUnavailableError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    if is_test_double(evaluator):
        warn_test_double()
    return evaluator


def warn_test_double() -> None:
    """Say loudly that the numbers come from the analytic test double."""
    err.print(
        "[bold yellow]warning:[/] using the analytic TEST DOUBLE "
        "(needlesim.scale.testing): numbers are invented, NOT model results.",
        highlight=False,
    )


def fmt(value: Any, digits: int = 3) -> str:
    """A number for a table: ``digits`` significant digits; blanks for missing."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{float(value):.{digits}g}"


def with_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Wrap ``command`` with :func:`needlesim.cli.handles_errors` (imported late: no cycle)."""
    from ..cli import handles_errors

    return handles_errors(command)
