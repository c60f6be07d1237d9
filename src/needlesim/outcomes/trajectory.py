"""A simulated course as plain arrays: what the observation models read."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Trajectory:
    """States of ``B`` patients saved at ``T`` days.

    ``state[b, t, layer, species]`` in the layout of :mod:`needlesim.biology.state`;
    ``baseline[b, layer, species]`` is the state just before the first session;
    ``thickness_um[b, layer]`` the patient's layer thicknesses; ``session_days``
    the (shared) session days, counted from the first session.
    """

    days: FloatArray
    state: FloatArray
    baseline: FloatArray
    thickness_um: FloatArray
    session_days: FloatArray

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

    def at_days(self, days: FloatArray) -> FloatArray:
        """Indices of the saved times nearest to ``days``."""
        idx = np.searchsorted(self.days, days)
        idx = np.clip(idx, 0, self.days.size - 1)
        left = np.clip(idx - 1, 0, self.days.size - 1)
        nearer_left = np.abs(self.days[left] - days) < np.abs(self.days[idx] - days)
        return np.where(nearer_left, left, idx)
