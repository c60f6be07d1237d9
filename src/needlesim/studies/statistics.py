r"""What a measurement's value summarises over the patients, predicted from the cohort.

A study reports one statistic of an observable ``x`` over its ``n`` patients
(``Measurement.statistic``); the virtual cohort gives ``x_i`` for ``N``
patients. The prediction of each statistic, with two intervals:

* ``range``: the spread a reader compares a single number against. For the
  ``mean`` of a per-patient quantity, the patients' 95 % range (percentiles
  2.5 and 97.5 of ``x_i``); for a study-level quantity (an incidence, a
  fraction, an SD) the 95 % range of what a study of ``n`` patients would
  observe.
* ``interval_of_study_value``: the 95 % interval of the value a study of
  ``n`` patients reports, from its size alone (parameter uncertainty is added
  by the calibration's posterior).

Statistics and their sampling intervals:

* ``mean``: :math:`\bar x`; study interval :math:`\bar x \pm 1.96\,s/\sqrt n`.
  For ``pih_incidence`` (``x_i`` a per-patient probability) the Wilson
  interval of :math:`\bar x` at ``n``.
* ``fraction_at_most`` / ``fraction_at_least``: :math:`p = \#\{x_i \le t\}/N`
  (or :math:`\ge t`); Wilson interval of ``p`` at ``n``.
* ``sd``: :math:`s` (``ddof = 1``); a normal sample of ``n`` has
  :math:`(n-1) S^2/\sigma^2 \sim \chi^2_{n-1}`, so the interval is
  :math:`s\,\sqrt{\chi^2_{n-1}(q)/(n-1)}` for ``q = 0.025, 0.975``.

Rounded readings (grades): ``x_i`` is each patient's expected reading; a rater's
reading adds noise of SD ``r`` (:func:`needlesim.outcomes.reading_sd`). With
``reading_sd = r > 0`` the fractions are :math:`\frac1N\sum_i \Phi((t - x_i)/r)`, the
SD is :math:`\sqrt{s^2 + r^2}`, and the patients' range and the interval of the
mean are those of the readings ``x_i + r z_k`` (``z_k`` the normal quantiles at
``(k + 1/2)/K``, ``K = 20``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from ..config import Observable, Statistic

Z95 = 1.959964
"""Two-sided 95 % normal quantile."""


@dataclass(frozen=True)
class Summary:
    """One predicted statistic with its two 95 % intervals (see the module docstring)."""

    value: float
    p2_5: float
    p97_5: float
    mean_p2_5: float
    mean_p97_5: float


def wilson_interval(p: float, n: int, z: float = Z95) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion ``p`` observed in ``n`` subjects."""
    if n <= 0:
        return (float("nan"), float("nan"))
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def sd_interval(sd: float, n: int) -> tuple[float, float]:
    """95 % range of the SD a normal sample of ``n`` shows when the true SD is ``sd``."""
    if n < 2:
        return (float("nan"), float("nan"))
    dof = n - 1
    lo, hi = stats.chi2.ppf([0.025, 0.975], dof)
    return (float(sd * np.sqrt(lo / dof)), float(sd * np.sqrt(hi / dof)))


READING_NODES = stats.norm.ppf((np.arange(20) + 0.5) / 20)
"""Normal quantiles at ``(k + 1/2) / 20``: a patient's readings about its expected one."""


def fraction(
    values: ArrayLike, statistic: Statistic, threshold: float, reading_sd: float = 0.0
) -> float:
    """Share of patients with ``values <= threshold`` (at_most) or ``>= threshold`` (at_least);
    with ``reading_sd`` the expected share of readings ``N(x_i, reading_sd)`` past it."""
    x = np.asarray(values, dtype=np.float64)
    if statistic not in (Statistic.fraction_at_most, Statistic.fraction_at_least):
        raise ValueError(f"{statistic.value!r} is not a fraction statistic")
    below = statistic == Statistic.fraction_at_most
    if reading_sd > 0.0:
        z = (threshold - x) / reading_sd
        return float(np.mean(stats.norm.cdf(z if below else -z)))
    return float(np.mean(x <= threshold if below else x >= threshold))


def readings(values: ArrayLike, reading_sd: float) -> np.ndarray:
    """Each patient's expected reading spread into 20 equally likely readings (flattened)."""
    x = np.asarray(values, dtype=np.float64)
    if reading_sd <= 0.0:
        return x
    return (x[:, None] + reading_sd * READING_NODES[None, :]).ravel()


def summarise(
    values: ArrayLike,
    observable: Observable,
    statistic: Statistic = Statistic.mean,
    threshold: float | None = None,
    n: int | None = None,
    reading_sd: float = 0.0,
) -> Summary:
    """The predicted ``statistic`` of ``observable`` over the patients' ``values``.

    ``n`` is the number of patients the study measured (default: ``len(values)``);
    ``reading_sd`` the noise of a rounded reading (module docstring).
    """
    x = np.asarray(values, dtype=np.float64)
    n = x.size if n is None else int(n)
    if statistic == Statistic.mean:
        mean = float(np.mean(x))
        if observable == Observable.pih_incidence:
            lo, hi = wilson_interval(mean, n)
            return Summary(mean, lo, hi, lo, hi)
        read = readings(x, reading_sd)
        p_lo, p_hi = (float(v) for v in np.percentile(read, [2.5, 97.5]))
        spread = float(np.hypot(np.std(x, ddof=1), reading_sd)) if x.size > 1 else reading_sd
        half = Z95 * spread / np.sqrt(n)
        return Summary(mean, p_lo, p_hi, mean - half, mean + half)
    if statistic == Statistic.sd:
        sd = float(np.hypot(np.std(x, ddof=1), reading_sd)) if x.size > 1 else reading_sd
        lo, hi = sd_interval(sd, n)
        return Summary(sd, lo, hi, lo, hi)
    if threshold is None:
        raise ValueError(f"statistic {statistic.value!r} needs a threshold")
    p = fraction(x, statistic, threshold, reading_sd)
    lo, hi = wilson_interval(p, n)
    return Summary(p, lo, hi, lo, hi)
