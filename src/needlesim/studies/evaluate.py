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

from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

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
from ..io.cpus import solver_threads
from ..outcomes import OutcomeParameters, Trajectory, compute_observables
from ..solve import SolverOptions, simulate_layered_batch

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
T = TypeVar("T")

DEFAULT_FOLLOW_UP_DAYS = (0.0, 30.0, 90.0, 180.0)
"""Output days after the last session when none are asked for."""
CHUNK_PATIENTS = 104
"""About the largest number of patients solved in one vectorised call (:func:`chunk_plan`)."""
SMALL_BATCH = 32
"""Chunks up to this size are padded to a power of two (few shapes, few recompiles)."""
SAVE_QUANTUM = 64
"""Save lists of a batch of different courses are padded to a multiple of this."""
SESSION_QUANTUM = 8
"""Sessions of a batch of different courses are padded (inertly) to a multiple of this, so
that batches of 1 to 8 sessions share one compiled solve."""


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


def map_chunks(n: int, solve: Callable[[IntArray, IntArray], T]) -> list[T]:
    """``solve(rows, padded_rows)`` of every chunk of :func:`chunk_plan` (``padded_rows``
    repeats the first patient up to the chunk size), in order, the chunks solved
    concurrently on :func:`~needlesim.io.cpus.solver_threads` threads (a compiled solve
    releases the GIL). The chunks depend on ``n`` only, so the numbers do not depend on
    the thread count.

    Measured (``benchmarks/bench_layered.py``, 1000 patients, 2-core Xeon): one
    vectorised call 9.43 s; 14 chunks of 72 on 2 threads 3.76 s.
    """
    n_chunks, size = chunk_plan(n)
    per_chunk = -(-n // n_chunks)
    blocks = []
    for first in range(0, n, per_chunk):
        rows = np.arange(first, min(first + per_chunk, n))
        blocks.append((rows, np.concatenate([rows, np.full(size - rows.size, rows[0])])))
    with ThreadPoolExecutor(max_workers=min(len(blocks), solver_threads())) as pool:
        return list(pool.map(lambda block: solve(*block), blocks))


def individual_factors(seeds: Sequence[int], spread: Mapping[str, float]) -> dict[str, FloatArray]:
    """Lognormal factors (mean 1, given CV) per patient, reproducible from each seed."""
    names = sorted(spread)
    draws = np.array([np.random.default_rng(int(s)).standard_normal(len(names)) for s in seeds])
    out: dict[str, FloatArray] = {}
    for j, name in enumerate(names):
        sigma = np.sqrt(np.log1p(spread[name] ** 2))
        out[name] = np.exp(sigma * draws[:, j] - 0.5 * sigma**2)
    return out


def patient_skins(patients: pd.DataFrame) -> list[SkinProfile]:
    """Each patient's skin, from region, sex and age (patients alike share one object)."""
    made: dict[tuple[Any, ...], SkinProfile] = {}
    out = []
    for r in patients.itertuples(index=False):
        key = (r.region, bool(r.female), float(r.age_years))
        if key not in made:
            made[key] = skin_profile(r.region, Sex.female if r.female else Sex.male, r.age_years)
        out.append(made[key])
    return out


def patient_injuries(
    skins: list[SkinProfile], protocol: Protocol
) -> tuple[FloatArray, SessionInjury]:
    """Session days and per-patient injuries ``[patients, sessions, ...]`` (one computation
    per distinct skin and device)."""
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
    per_skin: dict[int, tuple[list[Any], ...]] = {}
    per_patient = []
    for skin in skins:
        if id(skin) not in per_skin:
            distinct = [expected_injury(device, skin) for device in devices]
            doses = [distinct[i] for i in which]
            per_skin[id(skin)] = (
                [d.injured_fraction for d in doses],
                [d.bleeding_fraction for d in doses],
                [d.channel_density_per_mm2 * 100.0 for d in doses],
                [d.surface_diameter_um for d in doses],
                [d.penetration_depth_um for d in doses],
            )
        per_patient.append(per_skin[id(skin)])
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


@dataclass(frozen=True)
class _Cohort:
    """What every course of a batch shares: the patients' skins, covariates and
    per-patient parameter values (individual factors or overrides), as NumPy rows."""

    skins: list[SkinProfile]
    thickness_um: FloatArray
    ages: FloatArray
    types: FloatArray
    values: dict[str, FloatArray]
    base: Parameters
    severity: str

    @classmethod
    def of(
        cls,
        patients: pd.DataFrame,
        overrides: Mapping[str, FloatArray] | None,
        params: Parameters | None,
        individual: bool,
    ) -> _Cohort:
        skins = patient_skins(patients)
        base = params or default_parameters()
        values: dict[str, FloatArray] = {}
        if individual:
            factors = individual_factors(patients["seed"].to_numpy(), variability())
            values.update({k: np.asarray(getattr(base, k)) * f for k, f in factors.items()})
        values.update({k: np.asarray(v, dtype=np.float64) for k, v in (overrides or {}).items()})
        return cls(
            skins=skins,
            thickness_um=np.asarray([s.thickness_um for s in skins], dtype=np.float64),
            ages=patients["age_years"].to_numpy(dtype=np.float64),
            types=patients["fitzpatrick"].to_numpy(dtype=np.float64),
            values=values,
            base=base,
            severity=str(patients["baseline_severity"].iloc[0]),
        )

    def rows(self, idx: NDArray[np.intp]) -> tuple[Parameters, Covariates]:
        """Parameters and covariates of the patients ``idx`` (rows of a solve)."""
        size = idx.size
        base = self.base.broadcast((size,))
        values = {k: v[idx] for k, v in self.values.items()}
        params = base.replace(**values) if values else base
        cov = Covariates(
            jnp.asarray(self.thickness_um[idx]), jnp.asarray(self.ages[idx]),
            jnp.asarray(self.types[idx]),
        )  # fmt: skip
        return params, cov


def _table(
    patients: pd.DataFrame, out_days: FloatArray, columns: Mapping[str, FloatArray]
) -> pd.DataFrame:
    """The evaluator's long table from ``columns[name][patient, day]``."""
    ids = patients["patient_id"].to_numpy()
    table = {"patient_id": np.repeat(ids, out_days.size), "day": np.tile(out_days, len(ids))}
    table.update({name: np.asarray(v).reshape(-1) for name, v in columns.items()})
    return pd.DataFrame(table)


def _observe(
    traj: Trajectory,
    severity: str,
    out_days: FloatArray,
    wanted: list[str] | None,
    outcome_params: OutcomeParameters | None,
) -> dict[str, FloatArray]:
    """``{name: [patient, out day]}`` of the observables ``wanted`` (None: all)."""
    observed = compute_observables(traj, severity, outcome_params)
    idx = traj.at_days(out_days)
    return {name: observed[name][:, idx] for name in (observed if wanted is None else wanted)}


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
    cohort = _Cohort.of(patients, overrides, params, individual)
    session_days, injuries = patient_injuries(cohort.skins, protocol)
    end = float(max(out_days.max(), session_days.max()))
    sessions = session_days if protocol.session_count else np.zeros(0)
    saved = save_days(out_days, sessions, end, dense=needs_dense_grid(wanted))

    def solve(rows: IntArray, pad: IntArray) -> dict[str, FloatArray]:
        chunk_params, cov = cohort.rows(pad)
        inj = SessionInjury(*(jnp.asarray(np.asarray(x)[pad]) for x in injuries))
        solved = simulate_layered_batch(chunk_params, cov, session_days, inj, saved)
        traj = Trajectory(
            days=np.asarray(solved.days),
            state=np.asarray(solved.states)[: rows.size],
            baseline=np.asarray(solved.baseline)[: rows.size],
            thickness_um=cohort.thickness_um[rows],
            session_days=sessions,
        )
        return _observe(traj, cohort.severity, out_days, wanted, outcome_params)

    columns: dict[str, list[FloatArray]] = {}
    for part in map_chunks(n, solve):
        for name, v in part.items():
            columns.setdefault(name, []).append(v)
    return _table(patients, out_days, {k: np.concatenate(v) for k, v in columns.items()})


@dataclass(frozen=True)
class _Course:
    """One protocol of :func:`evaluate_courses`: its sessions, injuries and days."""

    session_days: FloatArray
    injuries: SessionInjury
    sessions: FloatArray
    out_days: FloatArray
    saved: FloatArray

    @classmethod
    def of(cls, protocol: Protocol, skins: list[SkinProfile], dense: bool) -> _Course:
        out_days = default_days(protocol)
        session_days, injuries = patient_injuries(skins, protocol)
        end = float(max(out_days.max(), session_days.max()))
        sessions = session_days if protocol.session_count else np.zeros(0)
        saved = save_days(out_days, sessions, end, dense=dense)
        return cls(session_days, injuries, sessions, out_days, saved)

    def padded(self, n_sessions: int, n_saves: int) -> tuple[FloatArray, SessionInjury, FloatArray]:
        """Sessions, injuries ``[patients, n_sessions, ...]`` and saves ``[n_saves]`` padded
        inertly: extra sessions *before* the first, on its day and with no injury (segments
        of zero length; the state stays at rest), extra save days repeating the last one.
        Padding in front aligns the last segment, the long follow-up, of courses with
        different numbers of sessions: under ``vmap`` a segment costs the most steps any
        row takes in it."""
        extra = n_sessions - self.session_days.size
        days = np.concatenate([np.full(extra, self.session_days[0]), self.session_days])
        injuries = SessionInjury(
            *(
                np.pad(np.asarray(x), [(0, 0), (extra, 0)] + [(0, 0)] * (np.ndim(x) - 2))
                for x in self.injuries
            )
        )
        saves = np.concatenate([self.saved, np.full(n_saves - self.saved.size, self.saved[-1])])
        return days, injuries, saves


def evaluate_courses(
    patients: pd.DataFrame,
    protocols: Sequence[Protocol],
    overrides: Mapping[str, FloatArray] | None = None,
    *,
    params: Parameters | None = None,
    outcome_params: OutcomeParameters | None = None,
    individual: bool = True,
    expected: bool = False,
    observables: Collection[str] | None = None,
    options: SolverOptions | None = None,
) -> list[pd.DataFrame]:
    """``[evaluate_batch(patients, p, overrides, ...) for p in protocols]`` at each course's
    default days, with the courses solved together.

    ``options``: the layered solver's settings (default :class:`SolverOptions`); a
    looser tolerance for ranking many courses, as the planner's screen does
    (:data:`needlesim.planning.search.SCREEN_OPTIONS`).

    ``expected``: each patient's outcomes are their expectation over the dominant
    individual factor (:func:`expected_patient_nodes`), the other factors at their
    mean: the *expected patient* of each profile, at two solves per patient and
    course (``individual`` is then ignored).

    Each row of a solve is one patient under one course, with the course's own
    sessions and save days (:func:`needlesim.solve.simulate_layered_batch` with
    per-row saves). Courses are padded inertly to the most sessions and save
    days of the batch (:meth:`_Course.padded`), and a chunk holds whole courses
    (about :data:`CHUNK_PATIENTS` rows; courses of as many sessions and as long
    together; chunks in parallel threads): many short calls of the per-course
    path become a few long ones, which is what a planner's search over ~100
    candidate courses needs.
    """
    wanted = _check_observables(observables)
    n = len(patients)
    if n == 0 or not protocols:
        return [
            evaluate_batch(patients, p, overrides, params=params, outcome_params=outcome_params,
                           individual=individual, observables=observables)
            for p in protocols
        ]  # fmt: skip
    if expected:
        return _expected_courses(
            patients, protocols, overrides, params, outcome_params, wanted, options
        )
    cohort = _Cohort.of(patients, overrides, params, individual)
    courses = [_Course.of(p, cohort.skins, needs_dense_grid(wanted)) for p in protocols]
    n_sessions = _round_up(max(c.session_days.size for c in courses), SESSION_QUANTUM)
    n_saves = _round_up(max(c.saved.size for c in courses), SAVE_QUANTUM)
    # similar courses together: a chunk costs what its longest course costs
    order = sorted(
        range(len(courses)),
        key=lambda j: (courses[j].session_days.size, courses[j].out_days[-1]),
    )
    groups = _course_chunks(order, n)
    size = padded_size(max(len(g) for g in groups) * n)
    with ThreadPoolExecutor(max_workers=min(len(groups), solver_threads())) as pool:
        parts = pool.map(
            lambda members: _solve_courses(
                members,
                courses,
                cohort,
                (n_sessions, n_saves, size),
                wanted,
                outcome_params,
                options or SolverOptions(),
            ),
            groups,
        )
        tables = {j: t for part in parts for j, t in part.items()}
    return [_table(patients, courses[j].out_days, tables[j]) for j in range(len(courses))]


def expected_patient_nodes() -> tuple[str, FloatArray]:
    """The dominant individual factor (the largest CV of ``data/variability.yaml``:
    ``wound_response_capacity``, CV 0.4; the others move the outcomes little, see
    there) and its two Gauss-Hermite nodes ``exp(+-s - s^2/2)``, ``s^2 = ln(1 + CV^2)``,
    equal weights: exact for the expectation of any cubic in ``ln`` of the factor.

    On the acne-scar grid (type V, pen courses) the expected patient's Goodman-Baron
    score change is within 2 points of the mean of 32 virtual patients, where the
    typical patient (every factor at 1) is up to 11 points off (it saturates sooner).
    """
    spread = variability()
    name = max(spread, key=lambda k: spread[k])
    s = float(np.sqrt(np.log1p(spread[name] ** 2)))
    return name, np.exp(np.array([-s, s]) - 0.5 * s * s)


def _expected_courses(
    patients: pd.DataFrame,
    protocols: Sequence[Protocol],
    overrides: Mapping[str, FloatArray] | None,
    params: Parameters | None,
    outcome_params: OutcomeParameters | None,
    wanted: list[str] | None,
    options: SolverOptions | None,
) -> list[pd.DataFrame]:
    """:func:`evaluate_courses` with ``expected=True``: every patient at both nodes of
    :func:`expected_patient_nodes`, then the mean over the nodes."""
    name, nodes = expected_patient_nodes()
    k = nodes.size
    doubled = patients.iloc[np.repeat(np.arange(len(patients)), k)].reset_index(drop=True)
    base = float(np.asarray(getattr(params or default_parameters(), name)))
    given = {
        key: np.repeat(np.asarray(v, dtype=np.float64), k) for key, v in (overrides or {}).items()
    }
    at_nodes = {**given, name: base * np.tile(nodes, len(patients))}
    tables = evaluate_courses(
        doubled, protocols, at_nodes, params=params, outcome_params=outcome_params,
        individual=False, observables=wanted, options=options,
    )  # fmt: skip
    out = []
    for table in tables:  # rows: patient-major, each patient k times, then its days
        days = table["day"].to_numpy()[: table.shape[0] // len(doubled)]
        columns = {
            c: table[c].to_numpy(dtype=np.float64).reshape(len(patients), k, days.size).mean(1)
            for c in table.columns
            if c not in ("patient_id", "day")
        }
        out.append(_table(patients, days, columns))
    return out


def _round_up(x: int, quantum: int) -> int:
    return -(-x // quantum) * quantum


def _course_chunks(order: list[int], n: int) -> list[list[int]]:
    """Courses (in ``order``) grouped into chunks of whole courses: about
    :data:`CHUNK_PATIENTS` rows each on the CPU and at least one chunk per CPU when
    there are enough courses (the chunks are solved in parallel threads; the solve
    releases the GIL), as equal as possible; one chunk on an accelerator."""
    if not chunked():
        return [order]
    cpus = solver_threads()
    k = _round_up(max(-(-len(order) * n // CHUNK_PATIENTS), 1), cpus)  # whole rounds of threads
    per_chunk = -(-len(order) // min(k, len(order)))
    return [order[i : i + per_chunk] for i in range(0, len(order), per_chunk)]


def _solve_courses(
    members: list[int],
    courses: list[_Course],
    cohort: _Cohort,
    shape: tuple[int, int, int],
    wanted: list[str] | None,
    outcome_params: OutcomeParameters | None,
    options: SolverOptions,
) -> dict[int, dict[str, FloatArray]]:
    """One chunk of :func:`evaluate_courses`: ``{course: {observable: [patient, day]}}``;
    ``shape``: the padded sessions, save days and rows of every chunk."""
    n_sessions, n_saves, size = shape
    n = cohort.ages.size
    tables: dict[int, dict[str, FloatArray]] = {}
    padded = [courses[j].padded(n_sessions, n_saves) for j in members]
    rows = np.tile(np.arange(n), len(members))
    pad = np.concatenate([rows, np.zeros(size - rows.size, dtype=int)])
    which = np.concatenate([np.arange(len(members)).repeat(n), np.zeros(size - rows.size, int)])
    chunk_params, cov = cohort.rows(pad)
    days = np.stack([padded[k][0] for k in which])
    inj = SessionInjury(
        *(jnp.asarray(np.stack([padded[k][1][f][r] for k, r in zip(which, pad, strict=True)]))
          for f in range(len(SessionInjury._fields)))
    )  # fmt: skip
    saves = np.stack([padded[k][2] for k in which])
    solved = simulate_layered_batch(chunk_params, cov, days, inj, saves, options)
    states = np.asarray(solved.states)
    rest = np.asarray(solved.baseline)
    for k, j in enumerate(members):
        course = courses[j]
        mine = slice(k * n, (k + 1) * n)
        traj = Trajectory(
            days=course.saved,
            state=states[mine, : course.saved.size],
            baseline=rest[mine],
            thickness_um=cohort.thickness_um,
            session_days=course.sessions,
        )
        tables[j] = _observe(traj, cohort.severity, course.out_days, wanted, outcome_params)
    return tables


evaluate_batch.courses = evaluate_courses  # type: ignore[attr-defined]
"""The many-courses form of the evaluator (:func:`needlesim.scale.evaluate_protocols`)."""
