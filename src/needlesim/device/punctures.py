"""Punctures of one session: where every needle struck and how deep it went.

Positions come from the device kinematics (:mod:`.roller`, :mod:`.pen`,
:mod:`.stamp`) on a square sample of side ``S`` (um, ``0 <= x, y < S``, periodic
at its edges for footprints and maps); depths from the transfer function of
:mod:`.penetration`. Random draws happen in a fixed order (positions, pass by
pass, then one depth factor per puncture), so the same generator state gives
identical arrays. Every strike is kept, also when the needle is too short to
pierce: its penetration depth is then 0 and it makes no channel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..anatomy import SkinProfile
from ..config.device import AnyDevice, PenDevice, RollerDevice, StampDevice
from ._frame import Positions
from .needle import NeedleGeometry
from .pen import pen_positions
from .penetration import (
    DeviceParameters,
    channel_depth_um,
    default_parameters,
    sample_penetration_um,
    surface_diameter_um,
)
from .roller import roller_positions
from .stamp import stamp_positions

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Punctures:
    """Needle strikes on the sample; one entry per strike, lengths in um.

    ``nominal_depth_um`` is the nominal needle length (the device setting),
    ``penetration_depth_um`` the depth the tip reached (the injury),
    ``channel_depth_um`` the residual channel after recoil (histology) and
    ``surface_diameter_um`` the channel diameter at the surface.
    """

    x_um: FloatArray
    y_um: FloatArray
    nominal_depth_um: FloatArray
    penetration_depth_um: FloatArray
    channel_depth_um: FloatArray
    surface_diameter_um: FloatArray
    pass_index: NDArray[np.int64]
    sample_side_um: float

    def __len__(self) -> int:
        return int(self.x_um.size)

    @property
    def sample_area_cm2(self) -> float:
        return (self.sample_side_um * 1e-4) ** 2

    @property
    def pierced(self) -> NDArray[np.bool_]:
        """Strikes that made a channel (penetration depth > 0)."""
        return self.penetration_depth_um > 0.0

    def select(self, mask: NDArray[np.bool_]) -> Punctures:
        """The punctures where ``mask`` is true."""
        return Punctures(
            x_um=self.x_um[mask],
            y_um=self.y_um[mask],
            nominal_depth_um=self.nominal_depth_um[mask],
            penetration_depth_um=self.penetration_depth_um[mask],
            channel_depth_um=self.channel_depth_um[mask],
            surface_diameter_um=self.surface_diameter_um[mask],
            pass_index=self.pass_index[mask],
            sample_side_um=self.sample_side_um,
        )


def puncture_positions(device: AnyDevice, side_um: float, rng: np.random.Generator) -> Positions:
    """Positions and pass indices of every strike of ``device`` on the sample."""
    if isinstance(device, RollerDevice):
        return roller_positions(device, side_um, rng)
    if isinstance(device, PenDevice):
        return pen_positions(device, side_um, rng)
    if isinstance(device, StampDevice):
        return stamp_positions(device, side_um, rng)
    raise TypeError(f"unknown device type: {type(device).__name__}")


def simulate_punctures(
    device: AnyDevice,
    skin: SkinProfile,
    sample_area_mm: float,
    rng: np.random.Generator,
    params: DeviceParameters | None = None,
) -> Punctures:
    """Every strike of one session of ``device`` on a sample of side ``sample_area_mm``."""
    params = params or default_parameters()
    side_um = sample_area_mm * 1000.0
    x, y, pass_index = puncture_positions(device, side_um, rng)
    penetration = sample_penetration_um(device, skin, x.size, rng, params)
    needle = NeedleGeometry.from_device(device)
    return Punctures(
        x_um=x,
        y_um=y,
        nominal_depth_um=np.full(x.size, device.needle_length_um),
        penetration_depth_um=penetration,
        channel_depth_um=channel_depth_um(penetration, params),
        surface_diameter_um=surface_diameter_um(penetration, needle),
        pass_index=pass_index,
        sample_side_um=side_um,
    )
