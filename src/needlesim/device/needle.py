"""Needle geometry: cross-section along the needle and the volume of its track.

Let ``s`` be the distance from the tip along the needle axis (um), ``b`` the base
diameter, ``T`` the taper length (the whole needle length ``L`` when the taper
is not given) and ``r_tip`` the tip radius. The diameter is a cone, cylindrical
beyond the taper, never below the tip:

    d(s) = max(2 r_tip, b * min(s, T) / T)

The cone reaches the tip diameter at ``s_c = 2 r_tip T / b``. The volume between
``s0 < s1`` is ``V = int_{s0}^{s1} pi d(s)^2 / 4 ds``, in closed form piecewise:

    [0, s_c]   pi r_tip^2 * ds                        (tip cylinder)
    [s_c, T]   pi b^2 / (12 T^2) * (s_b^3 - s_a^3)    (cone)
    [T, inf)   pi b^2 / 4 * ds                        (shaft)

A needle tilted by ``theta`` from the skin normal whose tip is at depth ``d``
crosses depth ``z <= d`` at ``s = (d - z) / cos(theta)``; a horizontal slice of
the track has area ``pi d(s)^2 / (4 cos theta)``, so the tissue volume between
two depths equals the axial volume between the matching ``s`` (``dz = cos * ds``).

The same track as a solid (:func:`track_mask`, for voxel rasterisation): the
needle enters at the surface point ``(0, 0, 0)`` tilted in the x-z plane (axis
``u = (sin theta, 0, cos theta)``, the direction of motion of a roller; the
device model gives no azimuth, so one is chosen), its tip at
``T = (d tan theta, 0, d)``. A point ``p`` (``z`` down) has axial distance
``s = (T - p) . u`` above the tip and distance ``q = |p - T + s u|`` from the
axis; it is inside when ``z >= 0`` and ``0 <= s`` and ``q <= d(s) / 2``.
Dilated by a margin ``m``: ``q <= d(s) / 2 + m``, plus a ball of radius ``m``
around the tip. Its horizontal slice at depth ``z`` has the area
``pi d(s)^2 / (4 cos theta)`` used by :meth:`NeedleGeometry.track_volume_um3`
(up to the variation of ``d`` across the slice).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..config.device import AnyDevice

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class NeedleGeometry:
    """One needle: lengths in um, tilt in degrees from the skin normal."""

    length_um: float
    base_diameter_um: float
    tip_radius_um: float
    taper_length_um: float | None = None
    tilt_deg: float = 0.0

    def __post_init__(self) -> None:
        if self.length_um < 0 or self.base_diameter_um <= 0 or self.tip_radius_um <= 0:
            raise ValueError(f"invalid needle geometry: {self}")
        if not 0.0 <= self.tilt_deg < 90.0:
            raise ValueError(f"tilt must be in [0, 90) degrees, got {self.tilt_deg}")

    @classmethod
    def from_device(cls, device: AnyDevice) -> NeedleGeometry:
        """The needle of a configured device."""
        return cls(
            length_um=device.needle_length_um,
            base_diameter_um=device.needle_base_diameter_um,
            tip_radius_um=device.needle_tip_radius_um,
            taper_length_um=device.needle_taper_length_um,
            tilt_deg=device.needle_tilt_deg,
        )

    @property
    def taper_um(self) -> float:
        """Taper length ``T``: the given one, else the needle length (a full cone)."""
        return self.taper_length_um if self.taper_length_um is not None else self.length_um

    @property
    def cos_tilt(self) -> float:
        return math.cos(math.radians(self.tilt_deg))

    @property
    def vertical_reach_um(self) -> float:
        """``L_v = L cos(theta)``: how deep the tip would be if the needle went in fully."""
        return self.length_um * self.cos_tilt

    def diameter_um(self, s_um: ArrayLike) -> FloatArray:
        """Cross-section diameter ``d(s)`` at axial distance ``s`` from the tip."""
        s = np.maximum(np.asarray(s_um, dtype=np.float64), 0.0)
        floor = 2.0 * self.tip_radius_um
        taper = self.taper_um
        if taper <= 0.0:
            return np.maximum(np.full_like(s, self.base_diameter_um), floor)
        cone = self.base_diameter_um * np.minimum(s, taper) / taper
        return np.maximum(cone, floor)

    def volume_um3(self, s0_um: ArrayLike, s1_um: ArrayLike) -> FloatArray:
        """Analytic ``int_{s0}^{s1} pi d(s)^2 / 4 ds`` (um^3); zero where ``s1 <= s0``."""
        s0 = np.maximum(np.asarray(s0_um, dtype=np.float64), 0.0)
        s1 = np.maximum(np.asarray(s1_um, dtype=np.float64), s0)
        return self._cumulative_volume(s1) - self._cumulative_volume(s0)

    def _cumulative_volume(self, s: FloatArray) -> FloatArray:
        """``V(s) = int_0^s pi d^2 / 4``, piecewise over tip, cone and shaft."""
        r_tip, b = self.tip_radius_um, self.base_diameter_um
        taper = self.taper_um
        if taper <= 0.0 or 2.0 * r_tip >= b:
            return math.pi * max(r_tip, b / 2.0) ** 2 * s
        s_c = 2.0 * r_tip * taper / b  # < taper, since 2 r_tip < b here
        tip = math.pi * r_tip**2 * np.minimum(s, s_c)
        s_cone = np.clip(s, s_c, taper)
        cone = math.pi * b**2 / (12.0 * taper**2) * (s_cone**3 - s_c**3)
        shaft = math.pi * b**2 / 4.0 * np.maximum(s - taper, 0.0)
        return tip + cone + shaft

    def track_volume_um3(
        self, depth_um: ArrayLike, top_um: ArrayLike, bottom_um: ArrayLike
    ) -> FloatArray:
        """Tissue volume of the track of a needle whose tip is at ``depth_um``, between
        depths ``top_um < bottom_um`` (clipped to the track ``[0, depth]``)."""
        d = np.asarray(depth_um, dtype=np.float64)
        top = np.clip(np.asarray(top_um, dtype=np.float64), 0.0, d)
        bottom = np.clip(np.asarray(bottom_um, dtype=np.float64), 0.0, d)
        c = self.cos_tilt
        return self.volume_um3((d - bottom) / c, (d - top) / c)

    def radius_um(self, s_um: ArrayLike) -> FloatArray:
        """``d(s) / 2``: the profile :func:`track_mask` takes."""
        return 0.5 * self.diameter_um(s_um)

    def axial_length_um(self, depth_um: float) -> float:
        """``d / cos(theta)``: length of needle inside the skin when the tip is at ``d``."""
        return float(depth_um) / self.cos_tilt


def track_mask(
    dx_um: ArrayLike,
    dy_um: ArrayLike,
    z_um: ArrayLike,
    depth_um: float,
    radius_at: Callable[[FloatArray], FloatArray],
    *,
    tilt_deg: float = 0.0,
    margin_um: float = 0.0,
) -> NDArray[np.bool_]:
    """Points ``(dx, dy, z)`` (um from the entry point; ``z`` depth) inside the track
    of a needle with radius profile ``radius_at(s)`` whose tip is at ``depth_um``,
    tilted by ``tilt_deg`` in the x-z plane, dilated by ``margin_um`` (module doc).
    The arguments broadcast against each other."""
    theta = math.radians(tilt_deg)
    sin, cos = math.sin(theta), math.cos(theta)
    px = np.asarray(dx_um, dtype=np.float64) - depth_um * math.tan(theta)
    py = np.asarray(dy_um, dtype=np.float64)
    pz = np.asarray(z_um, dtype=np.float64) - depth_um  # p - T
    s = -(px * sin + pz * cos)
    q2 = (px + s * sin) ** 2 + py**2 + (pz + s * cos) ** 2
    reach = np.asarray(radius_at(np.maximum(s, 0.0)), dtype=np.float64) + margin_um
    shaft = (s >= 0.0) & (q2 <= reach**2)
    cap = px**2 + py**2 + pz**2 <= margin_um**2
    inside: NDArray[np.bool_] = (np.asarray(z_um) >= 0.0) & (shaft | cap)
    return inside
