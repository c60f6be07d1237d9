"""Progress of long work on stderr: a rich bar in a terminal, plain lines in a log.

A rich progress bar draws nothing when stderr is not a terminal (CI, ``nohup``,
``2> log``), so a 30-minute cross-validation would be silent there. Off a
terminal, :func:`progress_bar` returns :class:`ProgressLines`, which has the part
of rich's ``Progress`` interface that needlesim uses (``add_task``, ``advance``,
a context manager) and prints one line per tenth of the work::

    cross-validation refits: 5/24 (21 %), 6 min 12 s
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import IO, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

STEPS_PER_LINE = 0.1
"""Off a terminal, a line each time another tenth of a task is done (and at its end)."""


class ProgressLines:
    """Rich's ``Progress`` interface (as needlesim uses it) as plain lines on a stream."""

    def __init__(self, stream: IO[str] | None = None, enabled: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.console = Console(file=self.stream)
        self.enabled = enabled
        self.tasks: dict[TaskID, dict[str, Any]] = {}

    def __enter__(self) -> ProgressLines:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        return None

    def add_task(
        self, description: str, total: float | None = None, completed: float = 0
    ) -> TaskID:
        task = TaskID(len(self.tasks))
        self.tasks[task] = {
            "description": description,
            "total": total,
            "completed": completed,
            "start": time.monotonic(),
            "printed": completed,
        }
        return task

    def advance(self, task: TaskID, advance: float = 1) -> None:
        t = self.tasks[task]
        t["completed"] += advance
        total = t["total"]
        if not self.enabled or not total:
            return
        step = max(STEPS_PER_LINE * total, 1)
        if t["completed"] - t["printed"] >= step or t["completed"] >= total:
            t["printed"] = t["completed"]
            elapsed = int(time.monotonic() - t["start"])
            self.stream.write(
                f"{t['description']}: {t['completed']:g}/{total:g} "
                f"({100 * t['completed'] / total:.0f} %), {elapsed // 60} min {elapsed % 60} s\n"
            )
            self.stream.flush()


def progress_bar(
    enabled: bool = True, console: Console | None = None, transient: bool = False
) -> Progress | ProgressLines:
    """Progress on stderr (or ``console``): description, bar, done/total, elapsed, remaining
    in a terminal; :class:`ProgressLines` elsewhere."""
    console = console or Console(stderr=True)
    if not console.is_terminal:
        return ProgressLines(console.file, enabled)
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not enabled,
        transient=transient,
    )
