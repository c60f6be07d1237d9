"""Exchange of soluble mediators between neighbouring layers of the ``layered`` level.

Each layer is a well-mixed compartment of thickness ``h_l``. A diffusible
species ``G`` (cytokines and growth factors, :data:`~needlesim.biology.DIFFUSIBLE`)
crosses the interface between layers ``l`` and ``l+1`` with the finite-volume
flux (per unit skin area, centre-to-centre distance ``(h_l + h_{l+1}) / 2``)::

    J_l = 2 D (G_{l+1} - G_l) / (h_l + h_{l+1})
    dG_l/dt     += J_l / h_l
    dG_{l+1}/dt -= J_l / h_{l+1}

so ``sum_l h_l G_l`` is conserved by exchange, and the rate constant between
two layers is ``2 D / (h_l (h_l + h_{l+1}))``, of the order ``D / (h_i h_j)``.
Only layers where the species exists on both sides exchange (nothing crosses
into the dead stratum corneum). ``G`` is in fold units: this assumes the rest
concentration is the same on both sides, so exchange vanishes at rest.
``D`` is the parameter ``mediator_diffusivity_um2_per_day`` (1e-7 cm^2/s: a
15-50 kDa protein hindered by the matrix; an assumption, see the registry).
"""

from __future__ import annotations

import numpy as np

from ..biology import Arr, namespace
from ..biology.state import DIFFUSIBLE, PRESENCE

INTERFACE_MASK = (DIFFUSIBLE[None, :] & PRESENCE[:-1] & PRESENCE[1:]).astype(np.float64)
"""``[interface, species]``: 1 where the species crosses interface ``l | l+1``."""


def interface_conductance(thickness_um: Arr, diffusivity_um2_per_day: Arr) -> Arr:
    """``2 D / (h_l + h_{l+1})`` for the 4 interfaces (um/day)."""
    h = thickness_um
    return 2.0 * diffusivity_um2_per_day[..., None] / (h[..., :-1] + h[..., 1:])


def exchange_rates(y: Arr, thickness_um: Arr, diffusivity_um2_per_day: Arr) -> Arr:
    """``dy/dt`` from exchange, same shape as ``y[..., 5, N_SPECIES]``."""
    xp = namespace(y, thickness_um)
    h = thickness_um
    g = interface_conductance(h, xp.asarray(diffusivity_um2_per_day))
    flux = g[..., :, None] * (y[..., 1:, :] - y[..., :-1, :]) * xp.asarray(INTERFACE_MASK)
    zero = xp.zeros_like(flux[..., :1, :])
    gain = xp.concatenate([flux / h[..., :-1, None], zero], axis=-2)
    loss = xp.concatenate([zero, flux / h[..., 1:, None]], axis=-2)
    return gain - loss
