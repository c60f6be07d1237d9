"""Benchmark of the layered model: one patient, a 1000-patient batch, and a NumPy/LSODA baseline.

Course: four sessions 30 days apart, then nine months (day 0 to 360), saved
daily; injury of a 1.5 mm roller on the cheek (device model values, fixed here
so that the benchmark times the healing model only).

Cases (warm: after compilation; best of a few runs for the single patient):

* ``needlesim, 1 patient``: :func:`needlesim.solve.simulate_layered`;
* ``needlesim, 1000 patients (vmap)``: :func:`simulate_layered_batch`, patients
  with their own parameters (lognormal +-20 % on five rates), ages 20-70,
  Fitzpatrick 1-6 and layer thicknesses +-10 %, in one vectorised call;
* ``needlesim, 1000 patients (cache-sized chunks on every core)``: the same
  patients as cohorts solve them (:func:`needlesim.studies.evaluate.map_chunks`:
  chunks of about 100 patients, one thread per CPU);
* ``baseline``: the same right-hand side evaluated by NumPy
  (:class:`needlesim.solve.numpy_twin.NumpyLayered`) and solved patient by
  patient with ``scipy.integrate.solve_ivp(method="LSODA")`` at the same
  tolerances, for ``--baseline-patients`` patients, extrapolated per patient.

``ratio`` is the baseline time for the same number of patients divided by the
case's time (> 1: needlesim is faster), measured in the same run. Run::

    .venv/bin/python benchmarks/bench_layered.py [--patients 1000] [--baseline-patients 20]
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np
from scipy.integrate import solve_ivp

import needlesim  # noqa: F401  (switches on float64)
from needlesim.biology import Covariates, Parameters, SessionInjury, default_parameters
from needlesim.io.cpus import solver_threads
from needlesim.solve import SolverOptions, simulate_layered, simulate_layered_batch
from needlesim.solve.numpy_twin import NumpyLayered, pack_np
from needlesim.studies.evaluate import chunk_plan, map_chunks

THICKNESS_UM = np.array([16.8, 108.35, 187.4, 749.6, 5000.0])
SESSIONS = np.array([0.0, 30.0, 60.0, 90.0])
SAVE_DAYS = np.arange(0.0, 361.0, 1.0)
INJURY = {
    "injured_fraction": [0.0332, 0.0281, 0.0178, 0.00263, 0.0],
    "bleeding_fraction": 1.0,
    "channel_density_per_cm2": 228.0,
    "surface_diameter_um": 135.0,
    "depth_um": 782.0,
}
VARIED = (
    "damage_amplification",
    "fibroblast_max_proliferation_rate",
    "collagen_maturation_rate",
    "macrophage_switch_rate",
    "myofibroblast_apoptosis_rate",
)


def course_injuries(n_sessions: int) -> SessionInjury:
    return SessionInjury(
        *(
            jnp.broadcast_to(
                jnp.asarray(INJURY[k], dtype=jnp.float64), (n_sessions, *np.shape(INJURY[k]))
            )
            for k in SessionInjury._fields
        )
    )


def cohort(n: int, seed: int = 0) -> tuple[Parameters, Covariates]:
    rng = np.random.default_rng(seed)
    base = default_parameters()
    values = np.array([float(getattr(base, k)) for k in VARIED])
    params = Parameters.from_array(
        values * np.exp(0.2 * rng.standard_normal((n, len(VARIED)))), VARIED
    )
    patients = Covariates(
        jnp.asarray(THICKNESS_UM * (1.0 + 0.1 * rng.uniform(-1, 1, (n, 5)))),
        jnp.asarray(rng.uniform(20.0, 70.0, n)),
        jnp.asarray(rng.integers(1, 7, n).astype(np.float64)),
    )
    return params, patients


def time_single(options: SolverOptions, repeats: int = 5) -> tuple[float, int]:
    params = default_parameters()
    patient = Covariates.of(THICKNESS_UM, 40.0, 3.0)
    injuries = course_injuries(len(SESSIONS))
    best, steps = np.inf, 0
    for _ in range(repeats + 1):  # the first call compiles
        t0 = time.perf_counter()
        traj = simulate_layered(params, patient, SESSIONS, injuries, SAVE_DAYS, options)
        traj.states.block_until_ready()
        best = min(best, time.perf_counter() - t0)
        steps = int(np.asarray(traj.steps).sum())
    return best, steps


def time_batch(n: int, options: SolverOptions) -> tuple[float, int]:
    params, patients = cohort(n)
    injuries = course_injuries(len(SESSIONS))
    simulate_layered_batch(
        params, patients, SESSIONS, injuries, SAVE_DAYS, options
    ).states.block_until_ready()
    t0 = time.perf_counter()
    traj = simulate_layered_batch(params, patients, SESSIONS, injuries, SAVE_DAYS, options)
    traj.states.block_until_ready()
    return time.perf_counter() - t0, int(np.asarray(traj.steps).sum(axis=-1).max())


def time_chunked(n: int, options: SolverOptions) -> tuple[float, int, int]:
    """Seconds of the batch solved as cohorts solve it; chunks and threads used."""
    params, patients = cohort(n)
    params = params.broadcast((n,))
    injuries = course_injuries(len(SESSIONS))

    def solve(rows: np.ndarray, pad: np.ndarray) -> np.ndarray:
        take = jax.tree.map(lambda x: np.asarray(x)[pad], params)
        cov = Covariates(*(np.asarray(x)[pad] for x in patients))
        traj = simulate_layered_batch(take, cov, SESSIONS, injuries, SAVE_DAYS, options)
        return np.asarray(traj.states)[: rows.size]

    map_chunks(n, solve)  # compiles the chunk shape
    t0 = time.perf_counter()
    map_chunks(n, solve)
    return time.perf_counter() - t0, chunk_plan(n)[0], solver_threads()


def lsoda_patient(params: Parameters, patient: Covariates, options: SolverOptions) -> int:
    """Solve one patient's course with NumPy + LSODA; returns the number of RHS calls."""
    twin = NumpyLayered.of(params, patient)
    injury = SessionInjury(
        *(np.asarray(INJURY[k], dtype=np.float64) for k in SessionInjury._fields)
    )
    y = pack_np(twin.rest)
    stops = [*SESSIONS[1:], SAVE_DAYS[-1]]
    nfev = 0
    for start, stop in zip(SESSIONS, stops, strict=True):
        y = twin.jump(y, injury)
        keep = SAVE_DAYS[(SAVE_DAYS >= start) & (SAVE_DAYS <= stop)]
        sol = solve_ivp(
            twin.rhs,
            (start, stop),
            y,
            method="LSODA",
            t_eval=keep,
            rtol=options.rtol,
            atol=options.atol,
        )
        if not sol.success:
            raise RuntimeError(sol.message)
        y = sol.y[:, -1]
        nfev += sol.nfev
    return nfev


def time_baseline(n: int, options: SolverOptions) -> tuple[float, int]:
    """Mean seconds and RHS calls per patient of the NumPy + LSODA baseline."""
    params, patients = cohort(n, seed=1)
    params = params.broadcast((n,))
    nfev = 0
    t0 = time.perf_counter()
    for i in range(n):
        p_i = jax.tree.map(lambda x, i=i: x[i], params)
        cov_i = Covariates(*(np.asarray(x)[i] for x in patients))
        nfev += lsoda_patient(p_i, cov_i, options)
    return (time.perf_counter() - t0) / n, nfev // n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--baseline-patients", type=int, default=20)
    args = parser.parse_args()
    options = SolverOptions()

    per_patient, nfev = time_baseline(args.baseline_patients, options)
    single, steps = time_single(options)
    batch, batch_steps = time_batch(args.patients, options)
    chunked, n_chunks, threads = time_chunked(args.patients, options)

    rows = [
        ("needlesim, 1 patient", single, per_patient / single, f"{steps} steps"),
        (
            f"needlesim, {args.patients} patients (vmap)",
            batch,
            per_patient * args.patients / batch,
            f"<= {batch_steps} steps",
        ),
        (
            f"needlesim, {args.patients} patients (chunks on every core)",
            chunked,
            per_patient * args.patients / chunked,
            f"{n_chunks} chunks, {threads} threads",
        ),
        (
            f"baseline NumPy + LSODA, per patient (mean of {args.baseline_patients})",
            per_patient,
            1.0,
            f"{nfev} RHS calls",
        ),
        (
            f"baseline extrapolated to {args.patients} patients",
            per_patient * args.patients,
            1.0,
            "",
        ),
    ]
    print(
        f"course: sessions {SESSIONS.tolist()} days, to day {SAVE_DAYS[-1]:.0f}; "
        f"rtol {options.rtol}, atol {options.atol}, method {options.method}"
    )
    width = max(len(r[0]) for r in rows)
    print(f"{'case':<{width}}  {'seconds':>10}  {'ratio':>8}  notes")
    for name, seconds, ratio, note in rows:
        print(f"{name:<{width}}  {seconds:>10.3f}  {ratio:>8.1f}  {note}")


if __name__ == "__main__":
    main()
