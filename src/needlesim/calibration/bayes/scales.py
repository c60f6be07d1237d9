"""A measurement's own scale: the emulated quantity back on it, and its tolerance."""

from __future__ import annotations

import numpy as np
from scipy.special import expit, ndtr

from ...studies import wilson_interval
from .data import Datum
from .model import kind_of

RELATIVE_TOLERANCE = 0.35
"""Within tolerance: measured inside the 95 % interval of the study mean, or within 35 %
of the predicted mean (issue 11)."""


def tolerance(d: Datum) -> float:
    """A measurement's tolerance for error reports: 35 % of its value, at least the 95 %
    half-width of its own sampling error (Wilson for a proportion, 1.96 se otherwise)."""
    if kind_of(d) in (1, 2):
        lo, hi = wilson_interval(d.value, d.n)
        half = 0.5 * (hi - lo)
    else:
        half = 1.96 * d.standard_error(0.6)
    return float(max(RELATIVE_TOLERANCE * abs(d.value), half))


def natural(d: Datum, center: np.ndarray, log_spread: np.ndarray) -> np.ndarray:
    """The emulated quantity on the measurement's own scale."""
    kind = kind_of(d)
    if kind == 1:
        return np.asarray(expit(center))
    if kind == 2:
        return np.asarray(ndtr(center))
    if kind == 3:
        return np.exp(log_spread)
    return center
