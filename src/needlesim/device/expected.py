r"""Expected injury of a session without sampling punctures (for cohorts and fitting).

The sampled chain (:func:`simulate_punctures` then :func:`summarize_injury`) is
exact for one sample; a virtual cohort needs the expectation for thousands of
patients. With channel density ``n`` (per um^2, from the kinematics) and the
per-puncture depth ``d = min(d_pen F, L_v)`` where ``F`` is lognormal with mean
1 and coefficient of variation ``c``,

    injured fraction of layer l = n E[V_l(d)] / h_l,
    bleeding fraction           = P(d > z_DEJ),
    coverage                    = 1 - exp(-n E[A(d)]),

with ``V_l`` the needle-track volume inside layer ``l`` and ``A`` the channel
footprint. Expectations over ``F`` use Gauss-Hermite quadrature in
``ln F ~ N(-sigma^2/2, sigma^2)``, ``sigma^2 = ln(1 + c^2)``.

Passes to the clinical endpoint (:func:`passes_to_endpoint`): needling is
carried to uniform pinpoint bleeding (Alster TS, Graham PM. Microneedling: a
review and practical guide. Dermatol Surg 2018;44(3):397-404, treatment end
points), the sign that the needles reached the capillary loops of the
papillary dermis all over the treated area. The documented way to reach it
with a roller is the standard rolling count, 15 passes of the 192-needle drum
(about 250 channels/cm^2, Doddaballapur 2009; the model's default roller gives
229/cm^2). The surface within reach ``r`` of a bleeding channel covers
``1 - exp(-n_b pi r^2)`` of the skin (``n_b`` bleeding channels per area,
Boolean model), so whatever that reach, another device reaches the same
endpoint when its bleeding-channel density reaches the roller's:

    passes = ceil(n_b,roller / (n_pass b)),

``n_pass`` the device's channels per pass and ``b`` its bleeding fraction on
that skin. For the default pen (771 channels/cm^2 per pass, all bleeding at
1 mm on the cheek) that is one pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..anatomy import Layer, SkinProfile
from ..config.device import AnyDevice, PenDevice, RollerDevice, StampDevice
from .needle import NeedleGeometry
from .pen import pen_density_per_cm2
from .penetration import DeviceParameters, default_parameters, penetration_depth_um
from .roller import roller_density_per_cm2
from .stamp import stamp_density_per_cm2

FloatArray = NDArray[np.float64]
QUADRATURE_NODES = 24


@dataclass(frozen=True)
class ExpectedInjury:
    """Mean injury of one session: what the healing model takes as its dose."""

    injured_fraction: FloatArray  # (5,) per layer, Layer order
    bleeding_fraction: float
    channel_density_per_mm2: float
    penetration_depth_um: float
    channel_depth_um: float
    surface_diameter_um: float
    coverage_fraction: float


def density_per_cm2(device: AnyDevice) -> float:
    """Channel density of a whole session (all passes), per cm^2."""
    if isinstance(device, RollerDevice):
        per_pass = roller_density_per_cm2(device)
    elif isinstance(device, PenDevice):
        per_pass = pen_density_per_cm2(device)
    elif isinstance(device, StampDevice):
        per_pass = stamp_density_per_cm2(device)
    else:  # pragma: no cover - the config union is closed
        raise TypeError(f"unknown device {device!r}")
    return per_pass * device.passes


ENDPOINT_REFERENCE = RollerDevice()
"""The device and passes that define the endpoint density (MF8 roller, 15 passes, 1.5 mm)."""


def bleeding_density_per_cm2(
    device: AnyDevice, skin: SkinProfile, params: DeviceParameters | None = None
) -> float:
    """Channels per cm^2 that reach the dermal capillaries in a session of ``device``."""
    return density_per_cm2(device) * expected_injury(device, skin, params).bleeding_fraction


def passes_to_endpoint(
    device: AnyDevice, skin: SkinProfile, params: DeviceParameters | None = None
) -> int:
    """Passes of ``device`` that reach uniform pinpoint bleeding on ``skin`` (module docstring).

    ``ceil(n_b,reference / (n_pass b))``; 0 when the device makes no bleeding
    channels (too short to reach the dermis: the endpoint cannot be reached).
    """
    target = bleeding_density_per_cm2(ENDPOINT_REFERENCE, skin, params)
    one_pass = device.model_copy(update={"passes": 1})
    per_pass = bleeding_density_per_cm2(one_pass, skin, params)
    if per_pass <= 0.0:
        return 0
    return max(1, math.ceil(target / per_pass - 1e-9))


def _lognormal_nodes(cv: float) -> tuple[FloatArray, FloatArray]:
    """Nodes ``F_k`` and weights ``w_k`` with ``sum w_k g(F_k) ~ E[g(F)]``."""
    if cv <= 0.0:
        return np.ones(1), np.ones(1)
    x, w = np.polynomial.hermite_e.hermegauss(QUADRATURE_NODES)
    sigma = math.sqrt(math.log1p(cv * cv))
    return np.exp(sigma * x - 0.5 * sigma * sigma), w / w.sum()


def expected_injury(
    device: AnyDevice, skin: SkinProfile, params: DeviceParameters | None = None
) -> ExpectedInjury:
    """Expected dose of one session of ``device`` on ``skin``."""
    params = params or default_parameters()
    needle = NeedleGeometry.from_device(device)
    mean_depth = penetration_depth_um(device, skin, params)
    n_per_um2 = density_per_cm2(device) * 1e-8
    if mean_depth <= 0.0 or n_per_um2 <= 0.0:
        return ExpectedInjury(np.zeros(len(Layer)), 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    factors, weights = _lognormal_nodes(params.depth_cv)
    depth = np.minimum(mean_depth * factors, needle.vertical_reach_um)
    edges = skin.boundaries_um
    track = np.stack(
        [needle.track_volume_um3(depth, edges[layer], edges[layer + 1]) for layer in Layer]
    )
    volume = track @ weights
    thickness = np.asarray(skin.thickness_um, dtype=np.float64)
    diameter = needle.diameter_um(depth / needle.cos_tilt)
    footprint = math.pi / 4.0 * diameter**2 / needle.cos_tilt
    return ExpectedInjury(
        injured_fraction=n_per_um2 * volume / thickness,
        bleeding_fraction=float(weights @ (depth > skin.epidermis_um)),
        channel_density_per_mm2=n_per_um2 * 1e6,
        penetration_depth_um=float(weights @ depth),
        channel_depth_um=float((1.0 - params.recoil_fraction) * (weights @ depth)),
        surface_diameter_um=float(weights @ diameter),
        coverage_fraction=float(1.0 - math.exp(-n_per_um2 * (weights @ footprint))),
    )
