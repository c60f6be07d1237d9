"""Patient configuration: who is treated, where, and for what."""

from __future__ import annotations

from pydantic import Field

from ._base import StrictModel
from .enums import Indication, Region, Severity, Sex


class SkinOverride(StrictModel):
    """Explicit skin layers, replacing the regional preset field by field.

    Use it for a measured patient, or for animal skin (e.g. the hairless rat of
    Kalluri 2011). Every omitted thickness comes from the preset.
    """

    stratum_corneum_um: float | None = Field(None, gt=0.0, le=1000.0)
    viable_epidermis_um: float | None = Field(None, gt=0.0, le=1000.0)
    papillary_dermis_um: float | None = Field(None, gt=0.0, le=3000.0)
    reticular_dermis_um: float | None = Field(None, gt=0.0, le=6000.0)
    hypodermis_um: float | None = Field(None, gt=0.0, le=50000.0)
    stiffness_relative: float = Field(
        1.0,
        ge=0.1,
        le=10.0,
        description="Skin stiffness relative to adult human facial skin (1). Scales the "
        "dimpling of the surface before a needle punctures it.",
    )


class Patient(StrictModel):
    """One patient: demographics, treated region and indication."""

    age_years: float = Field(35.0, ge=16.0, le=90.0, description="Age in years (16-90).")
    sex: Sex = Field(Sex.female, description="female or male.")
    fitzpatrick: int = Field(3, ge=1, le=6, description="Fitzpatrick skin type 1-6.")
    region: Region = Field(Region.cheek, description="Treated region.")
    indication: Indication = Field(Indication.rejuvenation, description="What is treated.")
    baseline_severity: Severity = Field(Severity.moderate, description="Baseline severity.")
    skin: SkinOverride | None = Field(None, description="Explicit skin layers (optional).")
