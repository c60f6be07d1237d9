"""Maximum needle length by region (manufacturer charts, ``depth_limits_mm`` in safety.yaml).

needlesim regions map onto the chart's areas: forehead, periorbital, nose,
cheek, chin and neck directly; perioral -> upper_lip; abdomen, thigh and back ->
body_striae.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import Region
from ..data import load_table

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

    def exceeded_by(self, needle_length_mm: float) -> bool:
        return needle_length_mm > self.max_needle_length_mm + 1e-9

    def flag(self, needle_length_mm: float) -> str | None:
        """A flag text if ``needle_length_mm`` exceeds the limit, else None."""
        if not self.exceeded_by(needle_length_mm):
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
    table = load_table("safety.yaml")["depth_limits_mm"]
    area = REGION_DEPTH_KEY[Region(region)]
    return DepthLimit(Region(region), area, float(table[area]), str(table.get("ver", "S")))
