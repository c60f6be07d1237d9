"""Progress of long work off a terminal: plain lines at each tenth, not a silent bar."""

from __future__ import annotations

import io

from rich.console import Console
from rich.progress import Progress

from needlesim.io.progress import ProgressLines, progress_bar


def test_off_a_terminal_progress_is_a_line_per_tenth_of_the_work() -> None:
    log = io.StringIO()
    bar = progress_bar(console=Console(file=log, force_terminal=False))
    assert isinstance(bar, ProgressLines)
    with bar:
        task = bar.add_task("refits", total=24)
        for _ in range(24):
            bar.advance(task)
    lines = log.getvalue().splitlines()
    # a line each time at least 2.4 refits more are done (so each 3), and the last one
    assert len(lines) == 8, lines
    assert lines[0].startswith("refits: 3/24 (12 %), 0 min ")
    assert lines[-1].startswith("refits: 24/24 (100 %)")


def test_disabled_progress_prints_nothing_and_a_terminal_gets_the_rich_bar() -> None:
    log = io.StringIO()
    with progress_bar(enabled=False, console=Console(file=log)) as bar:
        task = bar.add_task("batches", total=3, completed=1)
        bar.advance(task, 2)
    assert log.getvalue() == ""
    assert isinstance(progress_bar(console=Console(file=io.StringIO(), force_terminal=True)),
                      Progress)  # fmt: skip
