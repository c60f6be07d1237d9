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

import jax
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
CHUNK_PATIENTS = 104
"""About the largest number of patients solved in one vectorised call (:func:`chunk_plan`)."""
SMALL_BATCH = 32
"""Chunks up to this size are padded to a power of two (few shapes, few recompiles)."""


@cache
def variability() -> dict[str, float]:
    """``{parameter: CV}`` of the per-patient lognormal factors."""
    table = load_table("variability.yaml")
    return {name: float(entry["cv"]) for name, entry in table.items()}


def default_days(protocol: Protocol) -> FloatArray:
    """The default output days: the last session plus :data:`DEFAULT_FOLLOW_UP_DAYS`."""
    return protocol.last_session_day + np.asarray(DEFAULT_FOLLOW_UP_DAYS)


def padded_size(n: int) -> int:
    """The size a chunk of ``n`` patients is padded to (repeating a patient): a power
    of two up to :data:`SMALL_BATCH`, else an odd multiple of 8.

    Under ``vmap`` every species is a row of ``size`` patients; a row length with a
    large power of two in it (multiples of 64) maps the rows onto the same cache
    sets (measured: 1024 patients solved 45 % slower than 1040, 5056 14 % slower
    than 5000, chunks of 64 10 % slower than of 56 or 72). An odd multiple of 8
    keeps rows aligned but spread over the sets.
    """
    if n <= SMALL_BATCH:
        return 1 << max(0, (n - 1).bit_length())
    eighths = -(-n // 8)
    return 8 * (eighths + 1 - eighths % 2)


def chunked() -> bool:
    """Whether batches are solved in chunks: on the CPU backend only."""
    return jax.default_backend() == "cpu"


def chunk_plan(n: int) -> tuple[int, int]:
    """``(chunks, size)``: how a batch of ``n`` patients is solved.

    The solve is vectorised over a chunk of patients. Under ``vmap`` each
    operation of a step sweeps the whole chunk, so the chunk should fit the
    core's cache: on the standard course (one core of a 2-core EPYC, 1 MB L2),
    the CPU time per patient was 3.2 ms in chunks of 40 to 104, 3.7 ms in
    chunks of 200, 4.8 ms with 1000 patients in one call and 8 ms with 5000.
    ``n`` is split into ``chunks`` equal parts of 0.5 to 1.25 x
    :data:`CHUNK_PATIENTS`, each padded to ``size`` (:func:`padded_size`, the
    same for every part: one compiled solver); among those chunk counts the one
    with the least padding is taken. On an accelerator (:func:`chunked` false)
    the whole batch is one call: there the batch is what fills the device.
    """
    if not chunked():
        return 1, padded_size(n)
    fewest = -(-4 * n // (5 * CHUNK_PATIENTS))  # chunks of at most 1.25 x CHUNK_PATIENTS
    most = max(fewest, min(fewest + 256, 2 * n // CHUNK_PATIENTS))  # and at least half of it
    best = min(range(fewest, most + 1), key=lambda k: (k * padded_size(-(-n // k)), k))
    return best, padded_size(-(-n // best))


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

    per_patient: dict[str, FloatArray] = {}
    if individual:
        per_patient.update(individual_factors(patients["seed"].to_numpy(), variability()))
    replaced = {k: np.asarray(v, dtype=np.float64) for k, v in (overrides or {}).items()}
    thickness = np.asarray([s.thickness_um for s in skins], dtype=np.float64)
    ages = patients["age_years"].to_numpy(dtype=np.float64)
    types = patients["fitzpatrick"].to_numpy(dtype=np.float64)
    severity = str(patients["baseline_severity"].iloc[0])

    n_chunks, size = chunk_plan(n)
    per_chunk = -(-n // n_chunks)
    base = (params or default_parameters()).broadcast((size,))
    columns: dict[str, list[FloatArray]] = {}
    for first in range(0, n, per_chunk):
        rows = np.arange(first, min(first + per_chunk, n))
        pad = np.concatenate([rows, np.full(size - rows.size, rows[0])])
        values = {
            name: np.asarray(getattr(base, name)) * factor[pad]
            for name, factor in per_patient.items()
        }
        values.update({name: given[pad] for name, given in replaced.items()})
        chunk_params = base.replace(**values) if values else base
        cov = Covariates(
            jnp.asarray(thickness[pad]), jnp.asarray(ages[pad]), jnp.asarray(types[pad])
        )
        inj = SessionInjury(*(jnp.asarray(np.asarray(x)[pad]) for x in injuries))
        solved = simulate_layered_batch(chunk_params, cov, session_days, inj, saved)
        traj = Trajectory(
            days=np.asarray(solved.days),
            state=np.asarray(solved.states)[: rows.size],
            baseline=np.asarray(solved.baseline)[: rows.size],
            thickness_um=thickness[rows],
            session_days=sessions,
        )
        observed = compute_observables(traj, severity, outcome_params)
        idx = traj.at_days(out_days)
        for name in observed if wanted is None else wanted:
            columns.setdefault(name, []).append(observed[name][:, idx])
    ids = patients["patient_id"].to_numpy()
    table = {
        "patient_id": np.repeat(ids, out_days.size),
        "day": np.tile(out_days, n),
    }
    for name, parts in columns.items():
        table[name] = np.concatenate(parts).reshape(-1)
    return pd.DataFrame(table)
