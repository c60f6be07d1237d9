r"""Emulators of the model's per-measurement outputs over the prior region.

Design: a scrambled Sobol sequence in ``u = ln theta`` over the prior box
``[ln lo_j, ln hi_j]`` (:func:`design`). At each design point the model gives,
per measurement, two outputs: its ``center`` (the cohort mean; logit of an
incidence; probit of a smoothed fraction) and ``log_spread`` (log of the
between-patient SD). Each output ``k`` is emulated by a polynomial of total
degree ``p`` in the standardised inputs ``x = 2 (u - lo)/(hi - lo) - 1`` of the
parameters that can move it (:meth:`Spec.relevant`):

    f_k(x) = sum_t c_kt prod_j x_j^(a_tj),     sum_j a_tj <= p,

fitted by least squares. Its error is measured on held-out design points
(:class:`Emulator.holdout_rmse`, per output, in the output's units) and enters
the likelihood as an extra variance.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np
from jax import Array
from numpy.typing import NDArray
from scipy.stats import qmc

FloatArray = NDArray[np.float64]


def design(lo: FloatArray, hi: FloatArray, n: int, seed: int = 0) -> FloatArray:
    """``n`` scrambled Sobol points in the box ``[lo, hi]`` (``[n, d]``)."""
    d = lo.size
    if d == 0:
        return np.zeros((n, 0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # balance warning when n is not a power of two
        points = qmc.Sobol(d, scramble=True, seed=seed).random(n)
    return lo + points * (hi - lo)


def exponents(d: int, degree: int) -> NDArray[np.int64]:
    """All multi-indices ``a`` in ``d`` variables with ``sum(a) <= degree`` (constant first)."""
    rows = [a for a in itertools.product(range(degree + 1), repeat=d) if sum(a) <= degree]
    rows.sort(key=lambda a: (sum(a), [-v for v in a]))
    return np.asarray(rows, dtype=np.int64).reshape(len(rows), d)


def n_terms(d: int, degree: int) -> int:
    return int(exponents(d, degree).shape[0])


def choose_degree(d: int, n_train: int, max_degree: int = 3) -> int:
    """The highest degree up to ``max_degree`` with at most ``n_train / 2`` terms (at least 1)."""
    best = 1
    for p in range(1, max_degree + 1):
        if 2 * n_terms(d, p) <= n_train:
            best = p
    return best


def _features(x: FloatArray, powers: NDArray[np.int64]) -> FloatArray:
    return np.prod(x[:, None, :] ** powers[None, :, :], axis=2)


@dataclass(frozen=True)
class Emulator:
    """Polynomial emulators of ``K`` outputs in ``d`` inputs (``u = ln theta``).

    ``powers[K, T, d]`` (zero rows and zero exponents pad outputs with fewer
    terms or inputs), ``coef[K, T]``; ``holdout_rmse[K]``: root-mean-square
    error on held-out design points; ``scale[K]``: the output's spread over
    the design (for a relative error).
    """

    lo: FloatArray
    hi: FloatArray
    powers: NDArray[np.int64]
    coef: FloatArray
    holdout_rmse: FloatArray
    holdout_max: FloatArray
    scale: FloatArray
    degree: int
    holdout_pred: FloatArray  # [N_test, K] of the train-only fit (its errors are holdout_*)

    def _x(self, u: FloatArray) -> FloatArray:
        return 2.0 * (u - self.lo) / np.where(self.hi > self.lo, self.hi - self.lo, 1.0) - 1.0

    def __call__(self, u: FloatArray) -> FloatArray:
        """Outputs at ``u[..., d]`` (NumPy): ``[..., K]``."""
        u = np.asarray(u, dtype=np.float64)
        x = self._x(u.reshape(-1, self.lo.size))
        feats = np.prod(x[:, None, None, :] ** self.powers[None], axis=3)  # [N, K, T]
        out = np.einsum("nkt,kt->nk", feats, self.coef)
        return out.reshape(*u.shape[:-1], self.coef.shape[0])

    def jax(self, u: Array) -> Array:
        """Outputs at one point ``u[d]`` (JAX, differentiable): ``[K]``."""
        lo, hi = jnp.asarray(self.lo), jnp.asarray(self.hi)
        x = 2.0 * (u - lo) / jnp.where(hi > lo, hi - lo, 1.0) - 1.0
        feats = jnp.prod(x[None, None, :] ** jnp.asarray(self.powers), axis=2)
        return jnp.sum(feats * jnp.asarray(self.coef), axis=1)


def fit_emulator(
    u_train: FloatArray,
    y_train: FloatArray,
    u_test: FloatArray,
    y_test: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    relevant: list[list[int]],
    degree: int | None = None,
) -> Emulator:
    """Fit each output ``k`` on its ``relevant[k]`` inputs; measure the error on the test
    points; refit on train + test for the returned coefficients."""
    d, k_out = lo.size, y_train.shape[1]
    deg = degree or choose_degree(max((len(r) for r in relevant), default=1), u_train.shape[0])
    span = np.where(hi > lo, hi - lo, 1.0)

    def x_of(u: FloatArray) -> FloatArray:
        return 2.0 * (u - lo) / span - 1.0

    per: list[NDArray[np.int64]] = []
    for r in relevant:
        sub = exponents(len(r), deg)
        full = np.zeros((sub.shape[0], d), dtype=np.int64)
        full[:, r] = sub
        per.append(full)
    t_max = max(p.shape[0] for p in per)
    powers = np.zeros((k_out, t_max, d), dtype=np.int64)
    coef = np.zeros((k_out, t_max))
    rmse, worst, scale = np.zeros(k_out), np.zeros(k_out), np.zeros(k_out)
    held = np.zeros((u_test.shape[0], k_out))
    u_all, y_all = np.concatenate([u_train, u_test]), np.concatenate([y_train, y_test])
    for k, p in enumerate(per):
        t = p.shape[0]
        powers[k, :t] = p
        a_train = _features(x_of(u_train), p)
        c, *_ = np.linalg.lstsq(a_train, y_train[:, k], rcond=None)
        if u_test.shape[0]:
            held[:, k] = _features(x_of(u_test), p) @ c
            err = held[:, k] - y_test[:, k]
            rmse[k] = float(np.sqrt(np.mean(err**2)))
            worst[k] = float(np.max(np.abs(err)))
        c_all, *_ = np.linalg.lstsq(_features(x_of(u_all), p), y_all[:, k], rcond=None)
        coef[k, :t] = c_all
        scale[k] = float(np.std(y_all[:, k]))
    return Emulator(lo, hi, powers, coef, rmse, worst, scale, deg, held)
