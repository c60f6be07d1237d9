"""An analytic test double of the batch evaluator: NOT the healing model.

:class:`AnalyticEvaluator` maps a patient table and a protocol to every
observable with closed-form, smooth, monotone expressions (deeper needles, more
sessions and younger patients respond more; PIH grows with Fitzpatrick type and
depth; a per-patient random effect comes from each patient's seed). It exists
to test and benchmark the plumbing (batching, workers, Parquet, Sobol, planner)
without the model. Its numbers are invented: never report them as predictions.

It also carries test instrumentation: an optional delay per call, a log of the
batches it evaluated, and a one-time crash of the worker process (``os._exit``)
on the first attempt of the batch that holds a given patient.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..config import Protocol

ANALYTIC_PARAMETERS: tuple[tuple[str, float, float], ...] = (
    ("collagen_gain_pct", 20.0, 60.0),
    ("age_decline_per_year", 0.0, 0.015),
    ("pih_type_slope", 0.3, 1.0),
    ("pih_depth_slope", 0.5, 2.0),
    ("response_sd", 0.05, 0.30),
)
"""Parameters of the test double, with ranges: ``(name, lo, hi)``."""

ANALYTIC_DEFAULTS: dict[str, float] = {
    "collagen_gain_pct": 40.0,
    "age_decline_per_year": 0.008,
    "pih_type_slope": 0.55,
    "pih_depth_slope": 1.2,
    "response_sd": 0.15,
}

FOLLOW_UP_DAYS: tuple[float, ...] = (30.0, 90.0, 180.0)
"""Output days, counted after the last session."""

_DEVICE_FACTOR = {"roller": 1.0, "pen": 1.1, "stamp": 0.9}
_SEVERITY_FACTOR = {"mild": 0.8, "moderate": 1.0, "severe": 1.2}
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _splitmix64(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """One step of the splitmix64 mixer, vectorised (wrapping uint64 arithmetic)."""
    with np.errstate(over="ignore"):
        z = (x + np.uint64(0x9E3779B97F4A7C15)) & _MASK64
        z = ((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _MASK64
        z = ((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _MASK64
        return z ^ (z >> np.uint64(31))


def seed_normals(seeds: NDArray[np.int64], k: int) -> NDArray[np.float64]:
    """``k`` standard normal draws per seed, a pure function of the seed (Box-Muller)."""
    state = seeds.astype(np.uint64)
    out = np.empty((seeds.size, k), dtype=np.float64)
    for j in range(k):
        a = _splitmix64(state + np.uint64(2 * j + 1))
        b = _splitmix64(state + np.uint64(2 * j + 2))
        u1 = ((a >> np.uint64(11)).astype(np.float64) + 0.5) / 2.0**53
        u2 = (b >> np.uint64(11)).astype(np.float64) / 2.0**53
        out[:, j] = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
    return out


def _protocol_terms(protocol: Protocol) -> tuple[float, int, float, float]:
    """Effective depth (mm, device-weighted), sessions, interval (days), last session day."""
    schedule = protocol.schedule()
    if not schedule:
        return 0.0, 0, protocol.interval_days, 0.0
    depth = float(
        np.mean(
            [min(s.device.needle_length_mm, 2.5) * _DEVICE_FACTOR[s.device.type] for s in schedule]
        )
    )
    days = [s.day for s in schedule]
    interval = float(np.mean(np.diff(days))) if len(days) > 1 else protocol.interval_days
    return depth, len(schedule), interval, float(days[-1])


def _param(
    name: str, n: int, overrides: Mapping[str, NDArray[np.float64]] | None
) -> NDArray[np.float64]:
    if overrides is not None and name in overrides:
        values = np.asarray(overrides[name], dtype=np.float64)
        if values.shape != (n,):
            raise ValueError(f"override {name!r} has shape {values.shape}, expected ({n},)")
        return values
    return np.full(n, ANALYTIC_DEFAULTS[name])


def analytic_outcomes(
    patients: pd.DataFrame,
    protocol: Protocol,
    overrides: Mapping[str, NDArray[np.float64]] | None = None,
) -> pd.DataFrame:
    """Every observable for every patient at :data:`FOLLOW_UP_DAYS` after the last session.

    With ``r`` the lognormal response of a patient (mean 1 x gain x dose x age x
    severity x interval factors) and ``m = 1 - exp(-t / 60)`` the maturation ``t``
    days after the last session, the collagen observables are multiples of
    ``r m``; ``pih_incidence`` is a per-patient probability,
    ``logistic(-7.5 + a_type (type - 1) + a_depth depth (1 + 0.25 (type - 1)) +
    0.15 (sessions - 1) + 0.4 z)``.
    """
    unknown = sorted(set(overrides or {}) - set(ANALYTIC_DEFAULTS))
    if unknown:
        raise ValueError(f"unknown parameters {unknown}; known: {sorted(ANALYTIC_DEFAULTS)}")
    n = len(patients)
    depth, sessions, interval, last_day = _protocol_terms(protocol)
    age = patients["age_years"].to_numpy(dtype=np.float64)
    ftype = patients["fitzpatrick"].to_numpy(dtype=np.float64)
    severity = patients["baseline_severity"].map(_SEVERITY_FACTOR).to_numpy(dtype=np.float64)
    z = seed_normals(patients["seed"].to_numpy(dtype=np.int64), 2)

    gain = _param("collagen_gain_pct", n, overrides)
    age_decline = _param("age_decline_per_year", n, overrides)
    sd = _param("response_sd", n, overrides)
    dose = depth * (1.0 - np.exp(-sessions / 2.5))
    interval_factor = 1.0 - 0.35 * np.exp(-interval / 14.0)
    age_factor = np.maximum(0.2, 1.0 - age_decline * (age - 25.0))
    response = (
        gain * dose * interval_factor * age_factor * severity * np.exp(sd * z[:, 0] - sd**2 / 2)
    )
    logit = (
        -7.5
        + _param("pih_type_slope", n, overrides) * (ftype - 1.0)
        + _param("pih_depth_slope", n, overrides) * depth * (1.0 + 0.25 * (ftype - 1.0))
        + 0.15 * max(sessions - 1, 0)
        + 0.4 * z[:, 1]
    )
    pih = np.where(sessions > 0, 1.0 / (1.0 + np.exp(-logit)), 0.0)

    days = np.asarray(FOLLOW_UP_DAYS)
    k = days.size
    rm = np.repeat(response, k) * np.tile(1.0 - np.exp(-days / 60.0), n)
    pih_rows = np.repeat(pih, k)
    columns: dict[str, NDArray[np.float64]] = {
        "epidermal_thickness_change_pct": 0.7 * rm,
        "dermal_thickness_change_pct": 0.3 * rm,
        "papillary_collagen_change_pct": 1.3 * rm,
        "dermal_collagen_change_pct": rm,
        "collagen_I_change_pct": 1.1 * rm,
        "collagen_III_change_pct": 0.9 * rm,
        "total_elastin_change_pct": -0.2 * rm,
        "tropoelastin_change_pct": 0.9 * rm,
        "elasticity_change_pct": 0.4 * rm,
        "dermal_density_change_pct": 0.5 * rm,
        "scar_depth_change_pct": -0.8 * rm,
        "scar_score_change_pct": -0.9 * rm,
        "scar_grade_change": -rm / 25.0,
        "wrinkle_grade_change": -rm / 30.0,
        "melasma_index_change_pct": -0.7 * rm + 40.0 * pih_rows,
        "pih_incidence": pih_rows,
        "erythema_duration_days": np.full(n * k, 0.5 + 1.2 * depth),
        "channel_closure_hours": np.repeat(12.0 + 6.0 * depth * (1.0 + 0.01 * (age - 30.0)), k),
    }
    frame = pd.DataFrame(
        {
            "patient_id": np.repeat(patients["patient_id"].to_numpy(dtype=np.int64), k),
            "day": np.tile(last_day + days, n),
        }
    )
    return pd.concat([frame, pd.DataFrame(columns)], axis=1)


@dataclass(frozen=True)
class AnalyticEvaluator:
    """:func:`analytic_outcomes` as a batch evaluator, with optional test instrumentation.

    ``delay_s``: sleep per call (to make runs long enough to interrupt);
    ``log_dir``: write one file per call (``eval-<first patient id>-<uuid>``), so
    tests can count evaluations per batch; ``crash_once_patient`` with
    ``log_dir``: the first call whose batch holds that patient creates a marker
    file and kills its own process with ``os._exit`` (a worker dying mid-task).
    """

    is_model_result: ClassVar[bool] = False
    """Declares itself a test double (:func:`needlesim.scale.evaluator.is_test_double`)."""

    delay_s: float = 0.0
    log_dir: str | None = None
    crash_once_patient: int | None = None

    def __call__(
        self,
        patients: pd.DataFrame,
        protocol: Protocol,
        overrides: Mapping[str, NDArray[np.float64]] | None = None,
    ) -> pd.DataFrame:
        first = int(patients["patient_id"].iloc[0]) if len(patients) else -1
        if self.log_dir is not None:
            log = Path(self.log_dir)
            log.mkdir(parents=True, exist_ok=True)
            if self.crash_once_patient is not None and bool(
                (patients["patient_id"] == self.crash_once_patient).any()
            ):
                try:
                    fd = os.open(log / "crashed", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                except FileExistsError:
                    pass
                else:
                    os.close(fd)
                    os._exit(17)
            (log / f"eval-{first}-{uuid.uuid4().hex}").touch()
        if self.delay_s > 0:
            time.sleep(self.delay_s)
        return analytic_outcomes(patients, protocol, overrides)


analytic_evaluator = AnalyticEvaluator()
"""The plain test double: ``--evaluator needlesim.testing.analytic:analytic_evaluator``."""
