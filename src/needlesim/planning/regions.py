"""Needle-length limits by region for the planner (the data: :mod:`needlesim.safety.depth`).

needlesim regions map onto the chart's areas: forehead, periorbital, nose,
cheek, chin and neck directly; perioral -> upper_lip; abdomen, thigh and back ->
body_striae. A plan beyond the limit needs an explicit override and is flagged.
"""

from __future__ import annotations

from ..config import ConfigError, Problem, Region
from ..safety.depth import DEPTH_SOURCE, REGION_DEPTH_KEY, DepthLimit, depth_limit

__all__ = ["DEPTH_SOURCE", "REGION_DEPTH_KEY", "DepthLimit", "check_depth", "depth_limit"]


def check_depth(region: Region, needle_length_mm: float, override: bool = False) -> str | None:
    """Check a needle length against the region limit.

    Returns None within the limit, the flag text beyond it with ``override``,
    and raises a ConfigError (``needle_length_mm``) beyond it without.
    """
    limit = depth_limit(region)
    flag = limit.flag(needle_length_mm)
    if flag is not None and not override:
        raise ConfigError(
            [
                Problem(
                    "needle_length_mm",
                    f"{needle_length_mm:g} mm exceeds the {region.value} limit of "
                    f"{limit.max_needle_length_mm:g} mm ({limit.source}); an explicit override "
                    "(--override-depth) is needed",
                )
            ]
        )
    return flag
