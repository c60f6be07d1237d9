"""Expected downtime (days) by needle length, from a manufacturer chart (ver S).

The chart gives ranges per depth bin (0.2-0.5 mm: 2-3 days; 0.8-1.5 mm: 4-5;
2.0-3.0 mm: 6-7). Downtime is interpolated linearly between the bin midpoints
(0.35 mm -> 2.5 days, 1.15 -> 4.5, 2.5 -> 6.5) and held constant beyond them.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from .safety import safety_data, section_citation


@cache
def _anchors() -> tuple[tuple[float, ...], tuple[float, ...]]:
    bins = safety_data()["downtime_days_by_depth"]["bins"]
    depth = tuple(float(np.mean(b["depth_mm"])) for b in bins)
    days = tuple(float(np.mean(b["days"])) for b in bins)
    return depth, days


def downtime_days(needle_length_mm: float) -> float:
    """Expected downtime in days after a session with needles of ``needle_length_mm``."""
    depth, days = _anchors()
    return float(np.interp(needle_length_mm, depth, days))


def downtime_source() -> str:
    """Citation and evidence level of the downtime chart."""
    citation, ver = section_citation("downtime_days_by_depth")
    return f"{citation} (ver {ver}), interpolated"
