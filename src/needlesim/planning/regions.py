"""Maximum needle length by region (manufacturer charts, ``depth_limits_mm`` in safety.yaml).

needlesim regions map onto the chart's areas: forehead, periorbital, nose,
cheek, chin and neck directly; perioral -> upper_lip; abdomen, thigh and back ->
body_striae. A plan beyond the limit needs an explicit override and is flagged.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import ConfigError, Problem, Region
from .safety import safety_data

REGION_DEPTH_KEY: dict[Region, str] = {
    Region.forehead: "forehead",
    Region.periorbital: "periorbital",
    Region.nose: "nose",
    Region.cheek: "cheek",
    Region.chin: "chin",
    Region.neck: "neck",
    Region.perioral: "upper_lip",
    Region.abdomen: "body_striae",
    Region.thigh: "body_striae",
    Region.back: "body_striae",
}

DEPTH_SOURCE = "manufacturer depth charts, safety.yaml depth_limits_mm"


@dataclass(frozen=True)
class DepthLimit:
    """The needle-length limit of a region."""

    region: Region
    area: str
    max_needle_length_mm: float
    ver: str
    source: str = DEPTH_SOURCE

    def flag(self, needle_length_mm: float) -> str | None:
        """A flag text if ``needle_length_mm`` exceeds the limit, else None."""
        if needle_length_mm <= self.max_needle_length_mm + 1e-9:
            return None
        return (
            f"needle length {needle_length_mm:g} mm exceeds the {self.region.value} limit of "
            f"{self.max_needle_length_mm:g} mm ({self.source}, ver {self.ver}); explicit override"
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "region": self.region.value,
            "area": self.area,
            "max_needle_length_mm": self.max_needle_length_mm,
            "source": self.source,
            "ver": self.ver,
        }


def depth_limit(region: Region) -> DepthLimit:
    """The limit for ``region``."""
    table = safety_data()["depth_limits_mm"]
    area = REGION_DEPTH_KEY[region]
    return DepthLimit(region, area, float(table[area]), str(table.get("ver", "S")))


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
