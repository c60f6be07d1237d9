r"""Effective penetration depth: from the nominal needle length to the injury.

A needle of nominal length ``L`` (um) tilted by ``theta`` from the skin normal
reaches at most the vertical depth

    L_v = L cos(theta).

Before the tip punctures, the skin surface dimples by

    delta = delta_ref * (r_tip / r_ref) / k,

with ``k`` the skin stiffness relative to adult facial skin
(:attr:`SkinProfile.stiffness_relative`), ``r_ref = 4 um`` and ``delta_ref``
an assumption (``data/device.yaml``): blunter tips and softer skin dimple more.
The tip then reaches the penetration (injury) depth

    d_pen = eta_device * max(0, L_v - delta),

where ``eta_device`` lumps the incomplete insertion of each device (drum
contact, hand pressure, speed). After withdrawal the tissue recoils elastically
and histology sees a residual channel of depth

    d_chan = (1 - recoil) * d_pen,

whose surface diameter is the needle diameter where the skin surface was when
the tip was deepest, at axial distance ``d_pen / cos(theta)`` from the tip
(:class:`NeedleGeometry`).

Calibration (``data/device.yaml``, a calibration, not a validation): Kalluri
2011 measured, in hairless rat after a 770 um conical roller needle (140 um
base, 4 um tip, no tilt), a channel surface diameter of 70.7 +- 9.9 um and a
channel depth of 152.5 +- 9.6 um. The cone gives ``d_pen = 770 * 70.7 / 140 =
388.85 um``, hence ``recoil = 1 - 152.5 / 388.85`` and, with ``delta_ref = 100
um``, ``eta_roller = 388.85 / (770 - 100)``. Stamps take the roller value; pens
have their own assumed ``pen_insertion_efficiency`` in ``[eta_roller, 1]``.

Each puncture's depth is ``d_pen`` times a lognormal factor ``F`` with
``E[F] = 1`` and coefficient of variation ``c`` (Kalluri's spread, 9.6 / 152.5):
``F = exp(sigma Z - sigma^2 / 2)``, ``sigma^2 = ln(1 + c^2)``, clipped so that
no tip goes deeper than ``L_v``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..anatomy import SkinProfile
from ..config.device import AnyDevice, PenDevice, RollerDevice, StampDevice
from ..data import load_table
from .needle import NeedleGeometry

FloatArray = NDArray[np.float64]


def device_data() -> dict[str, Any]:
    """The packaged device table (``needlesim/data/device.yaml``)."""
    data: dict[str, Any] = load_table("device.yaml")
    return data


@dataclass(frozen=True)
class DeviceParameters:
    """Parameters of the transfer function (see the module docstring)."""

    delta_ref_um: float
    tip_radius_ref_um: float
    recoil_fraction: float
    insertion_efficiency_roller: float
    insertion_efficiency_stamp: float
    pen_insertion_efficiency: float
    depth_cv: float

    @classmethod
    def from_data(cls) -> DeviceParameters:
        """The packaged values of ``data/device.yaml``."""
        p = device_data()["parameters"]
        return cls(**{name: float(p[name]["value"]) for name in cls.__dataclass_fields__})

    def efficiency(self, device: AnyDevice) -> float:
        """``eta_device`` for a roller, pen or stamp."""
        if isinstance(device, RollerDevice):
            return self.insertion_efficiency_roller
        if isinstance(device, PenDevice):
            return self.pen_insertion_efficiency
        if isinstance(device, StampDevice):
            return self.insertion_efficiency_stamp
        raise TypeError(f"unknown device type: {type(device).__name__}")

    def with_delta_ref(self, delta_ref_um: float) -> DeviceParameters:
        """Same parameters with another dimple, roller and stamp efficiencies refitted to
        Kalluri 2011 (``eta = d_pen / (770 - delta_ref)``), the pen kept in ``[eta, 1]``."""
        fit = fit_kalluri(delta_ref_um)
        return replace(
            self,
            delta_ref_um=delta_ref_um,
            recoil_fraction=fit.recoil_fraction,
            insertion_efficiency_roller=fit.insertion_efficiency_roller,
            insertion_efficiency_stamp=fit.insertion_efficiency_roller,
            pen_insertion_efficiency=min(
                1.0, max(fit.insertion_efficiency_roller, self.pen_insertion_efficiency)
            ),
        )


@dataclass(frozen=True)
class KalluriFit:
    """The calibration to Kalluri 2011: derived penetration, recoil and roller efficiency."""

    penetration_depth_um: float
    recoil_fraction: float
    insertion_efficiency_roller: float
    depth_cv: float


def fit_kalluri(delta_ref_um: float = 100.0) -> KalluriFit:
    """Fit recoil, roller efficiency and depth spread to the Kalluri 2011 rat data."""
    k = device_data()["calibration_data"]["kalluri_2011"]
    length = float(k["needle_length_um"])
    d_pen = length * k["channel_surface_diameter_um"]["mean"] / k["needle_base_diameter_um"]
    channel = float(k["channel_depth_um"]["mean"])
    return KalluriFit(
        penetration_depth_um=d_pen,
        recoil_fraction=1.0 - channel / d_pen,
        insertion_efficiency_roller=d_pen / (length - delta_ref_um),
        depth_cv=float(k["channel_depth_um"]["sd"]) / channel,
    )


@cache
def default_parameters() -> DeviceParameters:
    """The packaged parameters (cached)."""
    return DeviceParameters.from_data()


def dimple_um(tip_radius_um: float, stiffness_relative: float, params: DeviceParameters) -> float:
    """``delta = delta_ref * (r_tip / r_ref) / k``: surface deflection before puncture."""
    return params.delta_ref_um * (tip_radius_um / params.tip_radius_ref_um) / stiffness_relative


def penetration_depth_um(
    device: AnyDevice, skin: SkinProfile, params: DeviceParameters | None = None
) -> float:
    """Mean penetration (injury) depth ``eta * max(0, L cos(theta) - delta)`` in um."""
    params = params or default_parameters()
    needle = NeedleGeometry.from_device(device)
    delta = dimple_um(needle.tip_radius_um, skin.stiffness_relative, params)
    return params.efficiency(device) * max(0.0, needle.vertical_reach_um - delta)


def channel_depth_um(
    penetration_um: ArrayLike, params: DeviceParameters | None = None
) -> FloatArray:
    """Residual channel depth after recoil, ``(1 - recoil) * d_pen``."""
    params = params or default_parameters()
    return (1.0 - params.recoil_fraction) * np.asarray(penetration_um, dtype=np.float64)


def surface_diameter_um(penetration_um: ArrayLike, needle: NeedleGeometry) -> FloatArray:
    """Channel diameter at the skin surface: ``d(d_pen / cos(theta))``; 0 where no puncture."""
    d = np.asarray(penetration_um, dtype=np.float64)
    return np.where(d > 0.0, needle.diameter_um(d / needle.cos_tilt), 0.0)


def depth_factors(n: int, cv: float, rng: np.random.Generator) -> FloatArray:
    """``n`` lognormal factors of mean 1 and coefficient of variation ``cv``."""
    sigma = math.sqrt(math.log1p(cv * cv))
    return np.exp(sigma * rng.standard_normal(n) - 0.5 * sigma * sigma)


def sample_penetration_um(
    device: AnyDevice,
    skin: SkinProfile,
    n: int,
    rng: np.random.Generator,
    params: DeviceParameters | None = None,
) -> FloatArray:
    """Per-puncture penetration depths: the mean depth times a lognormal factor, <= ``L_v``."""
    params = params or default_parameters()
    mean = penetration_depth_um(device, skin, params)
    factors = depth_factors(n, params.depth_cv, rng)
    reach = NeedleGeometry.from_device(device).vertical_reach_um
    return np.minimum(mean * factors, reach)
