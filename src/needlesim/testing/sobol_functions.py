"""Test functions with known Sobol indices, to check the pipeline end to end.

Ishigami (Ishigami & Homma 1990), with ``a = 7``, ``b = 0.1`` and
``x_i ~ U(-pi, pi)``::

    f(x) = sin x1 + a sin^2 x2 + b x3^4 sin x1

    V   = a^2/8 + b pi^4/5 + b^2 pi^8/18 + 1/2
    V1  = (1 + b pi^4/5)^2 / 2,  V2 = a^2/8,  V3 = 0
    VT1 = V1 + V13,  V13 = b^2 pi^8 (1/18 - 1/50),  VT2 = V2,  VT3 = V13

giving S1 = (0.3139, 0.4424, 0), ST = (0.5576, 0.4424, 0.2437).

Linear additive ``f(x) = sum a_i x_i`` with ``x_i ~ U(lo_i, hi_i)``:
``S1_i = ST_i = a_i^2 var_i / sum_j a_j^2 var_j``, ``var_i = (hi_i - lo_i)^2 / 12``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

ISHIGAMI_A = 7.0
ISHIGAMI_B = 0.1
ISHIGAMI_PROBLEM = [(f"x{i}", -math.pi, math.pi) for i in (1, 2, 3)]


def ishigami(
    x: NDArray[np.float64], a: float = ISHIGAMI_A, b: float = ISHIGAMI_B
) -> NDArray[np.float64]:
    """The Ishigami function of the rows of ``x`` (shape (N, 3))."""
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_indices(
    a: float = ISHIGAMI_A, b: float = ISHIGAMI_B
) -> tuple[list[float], list[float]]:
    """Analytic (S1, ST) of the Ishigami function."""
    pi4, pi8 = math.pi**4, math.pi**8
    v1 = 0.5 * (1.0 + b * pi4 / 5.0) ** 2
    v2 = a**2 / 8.0
    v13 = b**2 * pi8 * (1.0 / 18.0 - 1.0 / 50.0)
    var = v1 + v2 + v13
    return [v1 / var, v2 / var, 0.0], [(v1 + v13) / var, v2 / var, v13 / var]


def linear_indices(
    coefficients: Sequence[float], ranges: Sequence[tuple[float, float]]
) -> list[float]:
    """Analytic indices (S1 = ST) of ``sum a_i x_i`` with uniform ``x_i``."""
    parts = [a**2 * (hi - lo) ** 2 / 12.0 for a, (lo, hi) in zip(coefficients, ranges, strict=True)]
    total = sum(parts)
    return [p / total for p in parts]


class Linear:
    """``f(x) = x @ a``: a picklable linear additive test function."""

    def __init__(self, coefficients: Sequence[float]) -> None:
        self.coefficients = np.asarray(coefficients, dtype=np.float64)

    def __call__(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        result: NDArray[np.float64] = x @ self.coefficients
        return result
