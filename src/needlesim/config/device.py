"""Device configuration: needle geometry and the kinematics of roller, pen and stamp.

Defaults are the published devices where one exists (``../shared/data``):

* roller: Dermaroller MF8, 192 needles in 8 rows on a 2 cm x 2 cm drum, 0.25 mm
  needles of 1.5 mm tilted 15 degrees (Schwarz & Laaff 2011); 15 passes, the
  rolling count of the published density figure (Doddaballapur 2009).
* pen: 12 needles (SkinPen, FDA DEN160029, secondary), 90 strokes/s (the
  Dermapen maximum, trade source); 1 pass, the passes to uniform pinpoint
  bleeding (:func:`needlesim.device.passes_to_endpoint`).
* needle tip radius 4 um (Kalluri 2011).

Settings without a published value (pen glide speed and cartridge diameter,
stamp head) carry illustrative defaults; they are user settings, not model
parameters, and the docs say so.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from ._base import StrictModel
from .enums import NeedleMaterial, RollPattern


class _NeedleSettings(StrictModel):
    """Needle geometry and passes, shared by every device type."""

    needle_length_mm: float = Field(
        1.5,
        ge=0.0,
        le=3.0,
        description="Nominal needle protrusion in mm (0 = sham). Clinical range 0.25-3.0 "
        "(Gowda 2021; SkinPen/Dermapen 0.25-2.5).",
    )
    needle_base_diameter_um: float = Field(
        250.0,
        ge=50.0,
        le=500.0,
        description="Needle diameter at its base in um (review range 100-250 um, Gowda 2021).",
    )
    needle_tip_radius_um: float = Field(
        4.0, ge=0.5, le=50.0, description="Tip radius in um (4 um: Kalluri 2011)."
    )
    needle_taper_length_um: float | None = Field(
        None,
        ge=10.0,
        le=3000.0,
        description="Length of the conical tip in um; beyond it the shaft is cylindrical. "
        "null: conical over the whole length (the Kalluri 2011 needle).",
    )
    needle_tilt_deg: float = Field(
        0.0, ge=0.0, le=45.0, description="Needle tilt from the skin normal in degrees."
    )
    needle_material: NeedleMaterial = Field(
        NeedleMaterial.stainless_steel, description="Needle material (nickel matters for allergy)."
    )
    passes: int = Field(
        3, ge=0, le=200, description="Passes over the treated area (stamp: stamps per site)."
    )
    pattern: RollPattern = Field(
        RollPattern.crosshatch, description="Direction sequence of successive passes."
    )

    @property
    def needle_length_um(self) -> float:
        return self.needle_length_mm * 1000.0


class RollerDevice(_NeedleSettings):
    """A drum roller: ``needle_count`` needles in ``rows`` rings around a drum."""

    type: Literal["roller"] = "roller"
    needle_count: int = Field(192, ge=1, le=1000, description="Needles on the drum.")
    rows: int = Field(8, ge=1, le=100, description="Rings of needles along the drum axis.")
    drum_diameter_mm: float = Field(20.0, ge=5.0, le=100.0, description="Drum diameter in mm.")
    drum_width_mm: float = Field(20.0, ge=5.0, le=200.0, description="Drum width in mm.")
    needle_tilt_deg: float = Field(
        15.0, ge=0.0, le=45.0, description="Needle tilt in degrees (MF8: 15, Schwarz & Laaff)."
    )
    passes: int = Field(
        15, ge=0, le=200, description="Rolls over the area (15: Doddaballapur 2009)."
    )

    @model_validator(mode="after")
    def _rows_divide_needles(self) -> RollerDevice:
        if self.needle_count % self.rows:
            raise ValueError(
                f"needle_count ({self.needle_count}) must be a multiple of rows ({self.rows})"
            )
        return self


class PenDevice(_NeedleSettings):
    """An automated pen: a cartridge stamping perpendicularly while it glides."""

    type: Literal["pen"] = "pen"
    needle_count: int = Field(12, ge=1, le=100, description="Needles per cartridge (SkinPen 12).")
    stroke_frequency_hz: float = Field(
        90.0, gt=0.0, le=200.0, description="Strokes per second (Dermapen max 90 Hz)."
    )
    glide_speed_mm_s: float = Field(
        20.0, gt=0.0, le=200.0, description="Glide speed over the skin in mm/s (illustrative)."
    )
    cartridge_diameter_mm: float = Field(
        7.0, ge=1.0, le=20.0, description="Diameter of the needle footprint in mm (illustrative)."
    )
    passes: int = Field(
        1,
        ge=0,
        le=200,
        description="Passes over the area. 1: the passes to the clinical endpoint, uniform "
        "pinpoint bleeding (Alster & Graham 2018), i.e. the bleeding-channel density of the "
        "standard 15-pass roller (needlesim.device.passes_to_endpoint).",
    )


class StampDevice(_NeedleSettings):
    """A stamp: a flat head of needles pressed perpendicularly, site after site."""

    type: Literal["stamp"] = "stamp"
    needle_count: int = Field(36, ge=1, le=1000, description="Needles on the head (illustrative).")
    head_width_mm: float = Field(6.0, ge=1.0, le=50.0, description="Head width in mm.")
    head_length_mm: float = Field(6.0, ge=1.0, le=50.0, description="Head length in mm.")


AnyDevice = RollerDevice | PenDevice | StampDevice
"""Type of a validated device of any kind."""


def _device_kind(value: Any) -> Any:
    """The ``type`` of a device mapping; a roller when omitted."""
    if isinstance(value, dict):
        return value.get("type", "roller")
    return getattr(value, "type", None)


Device = Annotated[
    Annotated[RollerDevice, Tag("roller")]
    | Annotated[PenDevice, Tag("pen")]
    | Annotated[StampDevice, Tag("stamp")],
    Discriminator(_device_kind),
]
"""Any device, chosen by its ``type`` key: ``roller`` (default), ``pen`` or ``stamp``."""
