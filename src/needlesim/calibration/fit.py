r"""Fitting: bounded Gauss-Newton (trust-region reflective) on the log-parameters.

Minimises ``C(u) = 1/2 sum_i r_i(u)^2`` over ``u = ln theta`` within
``[ln lo, ln hi]`` with :func:`scipy.optimize.least_squares` (``method="trf"``:
a trust-region Gauss-Newton / Levenberg-Marquardt step on the bounded box,
Branch, Coleman & Li 1999), the Jacobian ``J = dr/du`` exact from JAX
(forward mode through the solver, :mod:`needlesim.calibration.model`).

At the optimum the Gauss-Newton covariance ``(J^T J)^{-1}`` (in tolerance units)
gives each log-parameter's spread ``sd(ln theta_j)``: how far it can move
before the fit worsens by about one tolerance; a large value flags a
parameter the targets barely inform.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import least_squares

from .problem import CalibrationProblem

FloatArray = NDArray[np.float64]

INFORMED_SHARE = 0.05
"""A target informs a parameter when it holds at least this share of ``sum_i J_ij^2``."""


@dataclass(frozen=True)
class FitResult:
    """Everything a fit produced (values in the order of ``problem.free`` / ``problem.targets``)."""

    problem: CalibrationProblem
    start: FloatArray
    value: FloatArray
    before: FloatArray
    after: FloatArray
    residuals_before: FloatArray
    residuals_after: FloatArray
    jacobian: FloatArray  # d r_i / d ln theta_j at the optimum
    status: int
    message: str
    success: bool
    nfev: int
    njev: int
    seconds: float

    @property
    def cost_before(self) -> float:
        return float(0.5 * np.sum(self.residuals_before**2))

    @property
    def cost_after(self) -> float:
        return float(0.5 * np.sum(self.residuals_after**2))

    @property
    def within(self) -> list[bool]:
        return [t.within(p) for t, p in zip(self.problem.targets, self.after, strict=True)]

    @property
    def log_sd(self) -> FloatArray:
        """``sqrt(diag((J_f^T J_f)^{-1}))`` over the parameters ``f`` inside their bounds.

        A parameter at a bound is fixed by it (an active constraint): NaN. The
        pseudo-inverse is used where ``J_f`` is rank-deficient.
        """
        inside = ~np.asarray(self.at_bound, dtype=bool)
        out = np.full(self.value.size, np.nan)
        if inside.any():
            jf = self.jacobian[:, inside]
            out[inside] = np.sqrt(np.abs(np.diag(np.linalg.pinv(jf.T @ jf))))
        return out

    @property
    def at_bound(self) -> list[bool]:
        lo, hi = self.problem.bounds
        return [
            bool(np.isclose(v, a, rtol=1e-6) or np.isclose(v, b, rtol=1e-6))
            for v, a, b in zip(self.value, lo, hi, strict=True)
        ]

    def informed_by(self) -> list[list[str]]:
        """Per parameter, the targets (study names) that carry its fit."""
        squared = self.jacobian**2
        totals = squared.sum(axis=0)
        out = []
        for j in range(squared.shape[1]):
            share = squared[:, j] / totals[j] if totals[j] > 0 else np.zeros(squared.shape[0])
            out.append(
                [
                    t.study.name
                    for t, s in zip(self.problem.targets, share, strict=True)
                    if s >= INFORMED_SHARE
                ]
            )
        return out


class _Cache:
    """Evaluates predictions and Jacobian together; scipy asks for them separately."""

    def __init__(self, problem: CalibrationProblem) -> None:
        self.problem = problem
        self.u: FloatArray | None = None
        self.pred = np.zeros(0)
        self.jac = np.zeros((0, 0))
        self.evaluations = 0

    def update(self, u: FloatArray) -> None:
        if self.u is not None and np.array_equal(u, self.u):
            return
        self.pred, self.jac = self.problem.predictions_and_jacobian(np.exp(u))
        self.u = np.array(u, copy=True)
        self.evaluations += 1

    def residuals(self, u: FloatArray) -> FloatArray:
        self.update(u)
        return self.problem.residuals(self.pred)

    def jacobian(self, u: FloatArray) -> FloatArray:
        self.update(u)
        scale = self.problem.tolerance_scales(self.pred)
        return self.jac / scale[:, None]


def fit(
    problem: CalibrationProblem,
    max_nfev: int = 60,
    start: FloatArray | None = None,
    tol: float = 1e-8,
) -> FitResult:
    """Fit the free parameters of ``problem`` (from their priors, or ``start``)."""
    begin = time.perf_counter()
    theta0 = problem.start if start is None else np.asarray(start, dtype=np.float64)
    lo, hi = problem.bounds
    u0 = np.clip(np.log(theta0), np.log(lo), np.log(hi))
    cache = _Cache(problem)
    before = problem.predictions(problem.start)
    solution = least_squares(
        cache.residuals,
        u0,
        jac=cache.jacobian,
        bounds=(np.log(lo), np.log(hi)),
        method="trf",
        x_scale=1.0,
        xtol=tol,
        ftol=tol,
        gtol=tol,
        max_nfev=max_nfev,
    )
    cache.update(solution.x)
    after = cache.pred
    return FitResult(
        problem=problem,
        start=problem.start,
        value=np.exp(solution.x),
        before=before,
        after=after,
        residuals_before=problem.residuals(before),
        residuals_after=problem.residuals(after),
        jacobian=cache.jacobian(solution.x),
        status=int(solution.status),
        message=str(solution.message).rstrip("."),
        success=bool(solution.success),
        nfev=int(solution.nfev),
        njev=int(solution.njev or 0),
        seconds=time.perf_counter() - begin,
    )
