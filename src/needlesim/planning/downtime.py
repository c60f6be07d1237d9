"""Expected downtime (days) by needle length, from a manufacturer chart (ver S).

The chart gives ranges per depth bin (0.2-0.5 mm: 2-3 days; 0.8-1.5 mm: 4-5;
2.0-3.0 mm: 6-7). Downtime is interpolated linearly between the bin midpoints
(0.35 mm -> 2.5 days, 1.15 -> 4.5, 2.5 -> 6.5) and held constant beyond them
(:func:`needlesim.safety.recovery.downtime_days`, shared with the warnings).
"""

from __future__ import annotations

from ..safety.recovery import downtime_days
from .safety import section_citation

__all__ = ["downtime_days", "downtime_source"]


def downtime_source() -> str:
    """Citation and evidence level of the downtime chart."""
    citation, ver = section_citation("downtime_days_by_depth")
    return f"{citation} (ver {ver}), interpolated"
