"""The model as a batch evaluator: patient table + protocol -> observables per patient and day.

This is :data:`needlesim.scale.evaluator.BatchEvaluator` for the healing model
(``layered`` fidelity), used by studies, cohorts, sensitivity analysis and the
planner. Per patient: skin from region, sex and age; each session's expected
injury on that skin (:func:`needlesim.device.expected_injury`: analytic, no
puncture sampling); individual kinetic variability as lognormal factors
(``data/variability.yaml``) drawn from the patient's seed; then one batched
(vmap) solve and the observation models.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from functools import cache
from typing import Any

import jax.numpy as jnp
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..anatomy import SkinProfile, skin_profile
from ..biology import Covariates, Parameters, SessionInjury, default_parameters
from ..config import Observable, Protocol, Sex
from ..course import needs_dense_grid, save_days
from ..data import load_table
from ..device import expected_injury
from ..outcomes import OutcomeParameters, Trajectory, compute_observables
from ..solve import simulate_layered_batch

FloatArray = NDArray[np.float64]

DEFAULT_FOLLOW_UP_DAYS = (0.0, 30.0, 90.0, 180.0)
"""Output days after the last session when none are asked for."""
SMALL_BATCH = 64
"""Batches up to this size are padded to a power of two (few shapes, few recompiles)."""


@cache
def variability() -> dict[str, float]:
    """``{parameter: CV}`` of the per-patient lognormal factors."""
    table = load_table("variability.yaml")
    return {name: float(entry["cv"]) for name, entry in table.items()}


def default_days(protocol: Protocol) -> FloatArray:
    """The default output days: the last session plus :data:`DEFAULT_FOLLOW_UP_DAYS`."""
    return protocol.last_session_day + np.asarray(DEFAULT_FOLLOW_UP_DAYS)


def padded_size(n: int) -> int:
    """The batch size ``n`` is padded to: a power of two up to :data:`SMALL_BATCH`, else
    an odd multiple of 8.

    Under ``vmap`` every species is a row of ``size`` patients; a row length with a
    large power of two in it (1024, 4096, multiples of 64) maps the rows onto the
    same cache sets, and the solve runs 15-40 % slower. An odd multiple of 8 keeps
    rows aligned but spread over the sets (5000 = 8 x 625 is not padded at all).
    """
    if n <= SMALL_BATCH:
        return 1 << max(0, (n - 1).bit_length())
    eighths = -(-n // 8)
    return 8 * (eighths + 1 - eighths % 2)


def individual_factors(seeds: Sequence[int], spread: Mapping[str, float]) -> dict[str, FloatArray]:
    """Lognormal factors (mean 1, given CV) per patient, reproducible from each seed."""
    names = sorted(spread)
    draws = np.array([np.random.default_rng(int(s)).standard_normal(len(names)) for s in seeds])
    out: dict[str, FloatArray] = {}
    for j, name in enumerate(names):
        sigma = np.sqrt(np.log1p(spread[name] ** 2))
        out[name] = np.exp(sigma * draws[:, j] - 0.5 * sigma**2)
    return out


def _skins(patients: pd.DataFrame) -> list[SkinProfile]:
    """Each patient's skin, from region, sex and age."""
    return [
        skin_profile(r.region, Sex.female if r.female else Sex.male, r.age_years)
        for r in patients.itertuples(index=False)
    ]


def _injuries(skins: list[SkinProfile], protocol: Protocol) -> tuple[FloatArray, SessionInjury]:
    """Session days and per-patient injuries ``[patients, sessions, ...]``."""
    schedule = protocol.schedule()
    if not schedule:
        n = len(skins)
        none = SessionInjury.none(1)
        return np.zeros(1), SessionInjury(*(jnp.broadcast_to(x, (n, *x.shape)) for x in none))
    # sessions with the same device give the same dose: one computation per distinct device
    devices: list[Any] = []
    which = []
    for s in schedule:
        match = next((i for i, d in enumerate(devices) if d == s.device), None)
        if match is None:
            devices.append(s.device)
            match = len(devices) - 1
        which.append(match)
    per_patient = []
    for skin in skins:
        distinct = [expected_injury(device, skin) for device in devices]
        doses = [distinct[i] for i in which]
        per_patient.append(
            (
                [d.injured_fraction for d in doses],
                [d.bleeding_fraction for d in doses],
                [d.channel_density_per_mm2 * 100.0 for d in doses],
                [d.surface_diameter_um for d in doses],
                [d.penetration_depth_um for d in doses],
            )
        )
    arrays = [np.asarray([p[k] for p in per_patient], dtype=np.float64) for k in range(5)]
    return np.array([s.day for s in schedule], dtype=float), SessionInjury(*arrays)


def _check_observables(observables: Collection[str] | None) -> list[str] | None:
    """The requested observable names in contract order (``None``: all); unknown ones raise."""
    if observables is None:
        return None
    known = [o.value for o in Observable]
    unknown = sorted(set(observables) - set(known))
    if unknown:
        raise ValueError(f"unknown observables {unknown}; known: {', '.join(known)}")
    return [name for name in known if name in set(observables)]


def evaluate_batch(
    patients: pd.DataFrame,
    protocol: Protocol,
    overrides: Mapping[str, FloatArray] | None = None,
    *,
    days: Sequence[float] | None = None,
    params: Parameters | None = None,
    outcome_params: OutcomeParameters | None = None,
    individual: bool = True,
    observables: Collection[str] | None = None,
) -> pd.DataFrame:
    """Observables of every patient at ``days`` (default :func:`default_days`).

    ``overrides``: per-patient values of registry parameters (Sobol); they
    replace the parameter, individual factors included. ``individual=False``
    switches the per-patient variability off (a typical patient per profile).
    ``observables``: the columns wanted (default: every observable). Without any
    of :data:`needlesim.course.GRID_OBSERVABLES` the dense early save grid is
    skipped (fewer saved states; the other observables are unchanged).
    """
    wanted = _check_observables(observables)
    n = len(patients)
    if n == 0:
        return pd.DataFrame(columns=["patient_id", "day", *(wanted or [])])
    out_days = np.sort(np.asarray(default_days(protocol) if days is None else days, dtype=float))
    skins = _skins(patients)
    session_days, injuries = _injuries(skins, protocol)
    end = float(max(out_days.max(), session_days.max()))
    sessions = session_days if protocol.session_count else np.zeros(0)
    saved = save_days(out_days, sessions, end, dense=needs_dense_grid(wanted))
    size = padded_size(n)
    pad = np.concatenate([np.arange(n), np.zeros(size - n, dtype=int)])

    base = (params or default_parameters()).broadcast((size,))
    values: dict[str, FloatArray] = {}
    if individual:
        factors = individual_factors(patients["seed"].to_numpy(), variability())
        for name, factor in factors.items():
            values[name] = np.asarray(getattr(base, name)) * factor[pad]
    for name, given in (overrides or {}).items():
        values[name] = np.asarray(given, dtype=np.float64)[pad]
    batch_params = base.replace(**values) if values else base

    thickness = np.asarray([s.thickness_um for s in skins], dtype=np.float64)
    cov = Covariates(
        jnp.asarray(thickness[pad]),
        jnp.asarray(patients["age_years"].to_numpy(dtype=np.float64)[pad]),
        jnp.asarray(patients["fitzpatrick"].to_numpy(dtype=np.float64)[pad]),
    )
    inj = SessionInjury(*(jnp.asarray(np.asarray(x)[pad]) for x in injuries))
    solved = simulate_layered_batch(batch_params, cov, session_days, inj, saved)
    traj = Trajectory(
        days=np.asarray(solved.days),
        state=np.asarray(solved.states)[:n],
        baseline=np.asarray(solved.baseline)[:n],
        thickness_um=thickness,
        session_days=session_days if protocol.session_count else np.zeros(0),
    )
    severity = str(patients["baseline_severity"].iloc[0])
    observed = compute_observables(traj, severity, outcome_params)
    idx = traj.at_days(out_days)
    ids = patients["patient_id"].to_numpy()
    table = {
        "patient_id": np.repeat(ids, out_days.size),
        "day": np.tile(out_days, n),
    }
    for name in observed if wanted is None else wanted:
        table[name] = observed[name][:, idx].reshape(-1)
    return pd.DataFrame(table)
