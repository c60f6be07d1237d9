r"""The 95 % interval of a study's mean: parameter uncertainty and cohort-size sampling.

For each posterior draw ``(theta, tau)`` a new study's observed mean is drawn as

    normal:    c(theta) + tau_k z + e eps_1 + s(theta) / sqrt(n) eps_2
    incidence: Bin(n, sigmoid(c(theta) + tau_k z + e eps_1)) / n
    fraction:  Bin(n, Phi(c(theta) -+ tau_k z / s(theta) + e eps_1)) / n
    spread:    s(theta) (1 + e^s eps_1) sqrt(chi2_(n-1) / (n - 1))

with ``z, eps ~ N(0, 1)``: the posterior of the free parameters, the
between-study heterogeneity of the instrument (a new study is a new draw of
the study effect), the emulator's error and the sampling of ``n`` patients.
The interval is the 2.5 and 97.5 percentiles of those draws; ``mean`` is the
posterior mean of ``c`` (back-transformed for incidences and fractions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit, ndtr

from .data import Datum
from .emulator import Emulator
from .model import Posterior, kind_of
from .spec import Spec

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class MeanInterval:
    mean: float
    lo: float
    hi: float


def draw_study_means(
    kind: int,
    c: FloatArray,
    s: FloatArray,
    e: float,
    e_s: float,
    tau: FloatArray,
    n: int,
    sign: float,
    rng: np.random.Generator,
) -> FloatArray:
    """One simulated study mean per draw (arrays of draws; see the module docstring)."""
    size = c.shape[0]
    z, eps1, eps2 = rng.standard_normal((3, size))
    if kind == 0:
        return c + tau * z + e * eps1 + s / np.sqrt(n) * eps2
    if kind == 1:
        return rng.binomial(n, expit(c + tau * z + e * eps1)) / n
    if kind == 2:
        return rng.binomial(n, ndtr(c + sign * tau * z / s + e * eps1)) / n
    chi = rng.chisquare(max(n - 1, 1), size) / max(n - 1, 1)
    return s * np.maximum(1.0 + e_s * eps1, 0.0) * np.sqrt(chi)


def point_of(kind: int, c: FloatArray, s: FloatArray) -> float:
    """The predicted study mean: the posterior mean of the expected value."""
    if kind == 1:
        return float(np.mean(expit(c)))
    if kind == 2:
        return float(np.mean(ndtr(c)))
    if kind == 3:
        return float(np.mean(s))
    return float(np.mean(c))


def predict_data(
    data: Sequence[Datum],
    rows: Sequence[int],
    emulator: Emulator,
    posterior: Posterior,
    spec: Spec,
    seed: int = 0,
    replicates: int = 4,
) -> list[MeanInterval]:
    """The predicted mean and 95 % interval of each ``data[i]``, ``i in rows`` (through the
    emulator, ``replicates`` simulated studies per posterior draw)."""
    rng = np.random.default_rng(seed)
    out = emulator(posterior.u)  # [S, 2 K]
    k_all = len(data)
    result = []
    for i in rows:
        d = data[i]
        kind = kind_of(d)
        c, s = out[:, i], np.exp(out[:, k_all + i])
        tau = posterior.tau_of(d.instrument, spec.instruments[d.instrument].tau_scale)
        sign = 1.0 if d.statistic == "fraction_at_least" else -1.0
        reps = np.concatenate(
            [
                draw_study_means(
                    kind,
                    c,
                    s,
                    emulator.holdout_rmse[i],
                    emulator.holdout_rmse[k_all + i],
                    tau,
                    d.n,
                    sign,
                    rng,
                )
                for _ in range(replicates)
            ]
        )
        lo, hi = np.percentile(reps, [2.5, 97.5])
        result.append(MeanInterval(point_of(kind, c, s), float(lo), float(hi)))
    return result
