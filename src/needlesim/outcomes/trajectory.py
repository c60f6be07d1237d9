"""A simulated course as plain arrays: what the observation models read.

One type for both array libraries: the fields are NumPy arrays (``simulate``,
``study run``, ``cohort``) or JAX arrays and tracers (calibration, inside
``jit``); :func:`needlesim.outcomes.observe` computes the same formulas on either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
Arr = Any
"""A NumPy or JAX float array (loose, so that one code path serves both)."""


@dataclass(frozen=True)
class Trajectory:
    """States of ``B`` patients saved at ``T`` days.

    ``state[b, t, layer, species]`` in the layout of :mod:`needlesim.biology.state`;
    ``baseline[b, layer, species]`` is the state just before the first session;
    ``thickness_um[b, layer]`` the patient's layer thicknesses; ``session_days``
    the (shared, sorted) session days, counted from the first session. Sessions
    after the last saved day are inert (calibration pads with them).
    """

    days: Arr
    state: Arr
    baseline: Arr
    thickness_um: Arr
    session_days: Arr

    def __post_init__(self) -> None:
        b, t = self.state.shape[:2]
        if self.days.shape != (t,):
            raise ValueError(f"days has shape {self.days.shape}, state has {t} times")
        if self.baseline.shape != (b, *self.state.shape[2:]):
            raise ValueError(f"baseline shape {self.baseline.shape} does not match the state")
        if self.thickness_um.shape != (b, self.state.shape[2]):
            raise ValueError(f"thickness shape {self.thickness_um.shape} does not match")

    @property
    def n_patients(self) -> int:
        return int(self.state.shape[0])

    def at_days(self, days: FloatArray) -> NDArray[np.intp]:
        """Indices of the saved times nearest to ``days`` (NumPy)."""
        saved = np.asarray(self.days)
        idx = np.searchsorted(saved, days)
        idx = np.clip(idx, 0, saved.size - 1)
        left = np.clip(idx - 1, 0, saved.size - 1)
        nearer_left = np.abs(saved[left] - days) < np.abs(saved[idx] - days)
        return np.where(nearer_left, left, idx)
