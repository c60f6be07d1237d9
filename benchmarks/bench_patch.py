"""Benchmark of the patch level: cost per simulated day, scaling, and needlesim vs py-pde.

Prints three tables (markdown):

1. seconds of wall time per simulated day on the reduced healing system
   (growth factor, fibroblasts with chemotaxis, collagen; realistic stiffness:
   D_c = 1e-7 cm^2/s, half-life 40 min) after a needle-channel injury, for
   several grid sizes: how time grows with voxels;
2. cumulative wall time at several simulated days of the same runs: how time
   grows with simulated days (the injury transient costs most, quiet healing
   little);
3. needlesim vs py-pde (numba backend, adaptive Runge-Kutta, its fastest CPU
   option for this system) on the same equations and grid (without
   chemotaxis, whose discretisations differ), each run to the same accuracy
   against a tight needlesim reference, as a ratio measured in this run.

Compilation (JAX and numba) is timed separately and excluded from the rates.

    python benchmarks/bench_patch.py            # ~10 minutes on 2 cores
    python benchmarks/bench_patch.py --quick    # ~2 minutes
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from dataclasses import replace
from typing import Any

import jax
import numpy as np

import needlesim  # noqa: F401  (float64)
from needlesim.patch import (
    OutputSpec,
    PatchGrid,
    PatchIntegrator,
    Progress,
    StepperOptions,
    channel_damage,
    simulate_patch,
)
from needlesim.patch.testproblems import HealingParameters, healing_model, healing_pypde

SPACING_UM = 20.0
PARAMETERS = HealingParameters()
OPTIONS = StepperOptions(rtol=1e-3, atol=(1e-4, 1e-4, 1e-4), dt_initial_days=1e-4)


def injury(grid: PatchGrid, seed: int = 0) -> np.ndarray:
    """Channels at a density of ~1 per 0.04 mm^2, 60 % of the box deep, 120 um wide."""
    rng = np.random.default_rng(seed)
    lx, ly, lz = grid.lengths_um
    n = max(1, round(lx * ly / 4.0e4))
    return channel_damage(
        grid, rng.uniform(0, lx, n), rng.uniform(0, ly, n), np.full(n, 0.6 * lz), [120.0]
    )


def scaling_run(n: int, days: list[float], chemotaxis: bool = True) -> dict[str, Any]:
    grid = PatchGrid.uniform((n, n, n), SPACING_UM)
    damage = injury(grid)
    model, params = healing_model(damage, PARAMETERS, chemotaxis=chemotaxis)
    y0 = PARAMETERS.baseline(grid)
    y0[2] *= 1.0 - damage
    tic = time.perf_counter()
    integrator = PatchIntegrator(grid, model, OPTIONS)
    warm = integrator.advance(integrator.initial_state(y0, 0.0), 1e-4, params, max_steps=1)
    jax.block_until_ready(warm.y)
    compile_s = time.perf_counter() - tic

    marks: dict[float, float] = {}
    start = time.perf_counter()

    def progress(info: Progress) -> None:
        for d in days:
            if d not in marks and info.t >= d:
                marks[d] = time.perf_counter() - start

    result = simulate_patch(
        grid,
        model,
        y0,
        params,
        t_end=max(days),
        outputs=OutputSpec(profile_days=tuple(days)),
        integrator=integrator,
        progress=progress,
    )
    wall = result.stats["wall_s"]
    return {
        "n": n,
        "voxels": grid.n_voxels,
        "unknowns": grid.n_voxels * 3,
        "compile_s": compile_s,
        "wall_s": wall,
        "days": max(days),
        "s_per_day": wall / max(days),
        "steps": result.stats["accepted_steps"],
        "rejected": result.stats["rejected_steps"],
        "krylov": result.stats["krylov_iterations"],
        "marks": {d: marks.get(d, wall) for d in days},
    }


def _pypde_solve(eq: Any, state: Any, t_end: float, tolerance: float) -> tuple[Any, float]:
    tic = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        final = eq.solve(
            state.copy(),
            t_range=t_end,
            dt=1e-6,
            solver="runge-kutta",
            adaptive=True,
            tolerance=tolerance,
            tracker=None,
            backend="numba",
        )
    return final, time.perf_counter() - tic


def versus_pypde(n: int, t_end: float) -> dict[str, Any]:
    grid = PatchGrid.uniform((n, n, n), SPACING_UM)
    damage = injury(grid)
    p = replace(PARAMETERS, chi=0.0)
    model, params = healing_model(damage, p, chemotaxis=False)
    y0 = p.baseline(grid)

    def ours(options: StepperOptions) -> tuple[np.ndarray, float, float, int]:
        tic = time.perf_counter()
        integrator = PatchIntegrator(grid, model, options)
        jax.block_until_ready(
            integrator.advance(integrator.initial_state(y0, 0.0), 1e-5, params, max_steps=1).y
        )
        compile_s = time.perf_counter() - tic
        result = simulate_patch(grid, model, y0, params, t_end=t_end, integrator=integrator)
        return result.y_final, result.stats["wall_s"], compile_s, result.stats["accepted_steps"]

    reference, _, _, _ = ours(
        StepperOptions(rtol=1e-9, atol=1e-11, dt_initial_days=1e-6, krylov_tol=1e-4)
    )
    change = np.abs(reference - y0).reshape(3, -1).max(axis=1)

    def error(y: np.ndarray) -> float:
        """Max error of each species relative to its largest change from baseline."""
        return float((np.abs(y - reference).reshape(3, -1).max(axis=1) / change).max())

    needlesim_runs = []
    for rtol in (1e-3, 1e-4, 1e-6):
        options = StepperOptions(rtol=rtol, atol=rtol * 0.1, dt_initial_days=1e-4)
        y_ns, wall_ns, compile_ns, steps_ns = ours(options)
        needlesim_runs.append(
            {
                "rtol": rtol,
                "s": wall_ns,
                "compile_s": compile_ns,
                "steps": steps_ns,
                "error": error(y_ns),
            }
        )

    eq, state = healing_pypde(grid, damage, p)
    _, warmup = _pypde_solve(eq, state, 1e-5, 1e-4)  # numba compilation
    pypde_runs = []
    for tolerance in (1e-3, 1e-5):
        final, wall = _pypde_solve(eq, state, t_end, tolerance)
        y_pp = np.stack([f.data for f in final])
        pypde_runs.append(
            {"tolerance": tolerance, "s": wall, "compile_s": warmup, "error": error(y_pp)}
        )
    # py-pde's explicit steps are limited by stability (dt < dx^2 / (6 D_c)), so it is
    # accurate whatever its tolerance: compare its fastest run with the fastest needlesim
    # run that is at least as accurate.
    fastest_pp = min(pypde_runs, key=lambda r: r["s"])
    as_accurate = [r for r in needlesim_runs if r["error"] <= fastest_pp["error"]]
    matched = (
        min(as_accurate, key=lambda r: r["s"])
        if as_accurate
        else min(needlesim_runs, key=lambda r: r["error"])
    )
    return {
        "n": n,
        "voxels": grid.n_voxels,
        "t_end": t_end,
        "needlesim": needlesim_runs,
        "pypde": pypde_runs,
        "matched_needlesim_rtol": matched["rtol"],
        "ratio_same_accuracy": fastest_pp["s"] / matched["s"],
        "ratio_default_tolerance": fastest_pp["s"] / needlesim_runs[0]["s"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small grids, short runs")
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    args = parser.parse_args()

    sizes = [16, 32] if args.quick else [16, 32, 48, 64]
    days = [1.0, 10.0, 30.0] if args.quick else [1.0, 10.0, 30.0, 90.0]
    vs_n, vs_t = (16, 0.1) if args.quick else (24, 0.25)

    print(f"needlesim patch benchmark ({jax.default_backend()}, {os.cpu_count()} CPUs visible)")
    runs = [scaling_run(n, days) for n in sizes]
    print("\n### Seconds per simulated day (healing system with chemotaxis, 3 species, 20 um)\n")
    print("| grid | voxels | compile s | wall s | days | s/day | steps (rej) | Krylov its |")
    print("|---|---|---|---|---|---|---|---|")
    for r in runs:
        print(
            f"| {r['n']}^3 | {r['voxels']:,} | {r['compile_s']:.1f} | {r['wall_s']:.2f} | "
            f"{r['days']:g} | {r['s_per_day']:.3f} | {r['steps']} ({r['rejected']}) | "
            f"{r['krylov']} |"
        )
    print("\n### Cumulative wall seconds at simulated day (injury at day 0)\n")
    print("| grid | " + " | ".join(f"day {d:g}" for d in days) + " |")
    print("|---|" + "---|" * len(days))
    for r in runs:
        print(f"| {r['n']}^3 | " + " | ".join(f"{r['marks'][d]:.2f}" for d in days) + " |")

    vs = versus_pypde(vs_n, vs_t)
    print(
        f"\n### needlesim vs py-pde (numba), same equations without chemotaxis, "
        f"{vs['n']}^3 grid, {vs['t_end']:g} days after injury\n"
    )
    print("| code | setting | wall s (warm) | compile s | error vs reference |")
    print("|---|---|---|---|---|")
    for r in vs["needlesim"]:
        print(
            f"| needlesim | ROS34PW2 rtol {r['rtol']:g}, {r['steps']} steps | {r['s']:.2f} | "
            f"{r['compile_s']:.1f} | {r['error']:.1e} |"
        )
    for r in vs["pypde"]:
        print(
            f"| py-pde (numba) | adaptive RK, tolerance {r['tolerance']:g} | {r['s']:.2f} | "
            f"{r['compile_s']:.1f} | {r['error']:.1e} |"
        )
    print(
        f"\npy-pde (fastest run) / needlesim at the same or better accuracy "
        f"(rtol {vs['matched_needlesim_rtol']:g}): {vs['ratio_same_accuracy']:.0f}x; "
        f"/ needlesim at its default tolerance: {vs['ratio_default_tolerance']:.0f}x"
    )
    if args.json:
        print(json.dumps({"scaling": runs, "versus_pypde": vs}, indent=2, default=str))


if __name__ == "__main__":
    main()
