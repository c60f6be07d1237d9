"""The live entries of the layered state: what the integrator actually carries.

Species absent from a layer (``PRESENCE == False``) are not integrated; the solver
works on the flat vector of the present entries (layer-major)::

    pack:   y[..., 5, N_SPECIES] -> y[..., LIVE_INDEX]     (N_LIVE entries)
    unpack: the inverse, with 0 in the absent entries
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax import Array

from ..biology import N_LAYERS, N_SPECIES, PRESENCE

LIVE_INDEX = np.flatnonzero(PRESENCE.reshape(-1))
"""Flat indices (layer-major) of the integrated entries of the state."""
N_LIVE = int(LIVE_INDEX.size)
_GATHER = np.full(N_LAYERS * N_SPECIES, N_LIVE)
_GATHER[LIVE_INDEX] = np.arange(N_LIVE)


def pack(y: Array) -> Array:
    """``y[..., 5, N_SPECIES]`` -> the live entries ``[..., N_LIVE]``."""
    return y.reshape(*y.shape[:-2], N_LAYERS * N_SPECIES)[..., LIVE_INDEX]


def unpack(yp: Array) -> Array:
    """The live entries ``[..., N_LIVE]`` -> ``y[..., 5, N_SPECIES]`` (0 elsewhere)."""
    padded = jnp.concatenate([yp, jnp.zeros((*yp.shape[:-1], 1), yp.dtype)], axis=-1)
    return padded[..., _GATHER].reshape(*yp.shape[:-1], N_LAYERS, N_SPECIES)
