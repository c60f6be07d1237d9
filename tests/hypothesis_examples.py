"""How many examples the hypothesis tests draw (no tests here).

The suite draws a few per test; ``NEEDLESIM_HYPOTHESIS_EXAMPLES=N`` raises every
count that uses :func:`examples` to ``N`` (never lowers it), for a long run.
"""

from __future__ import annotations

import os

ENV = "NEEDLESIM_HYPOTHESIS_EXAMPLES"


def examples(default: int) -> int:
    """``max(default, $NEEDLESIM_HYPOTHESIS_EXAMPLES)``."""
    return max(default, int(os.environ.get(ENV, "0") or 0))
