"""Benchmark of the patch level: the standard course, scaling, and needlesim vs py-pde.

Prints tables (markdown):

1. the standard course of issue 4 (four sessions 30 days apart, 180 days; new
   needle channels at every session) on the reduced healing system (growth
   factor, fibroblasts with chemotaxis, collagen; realistic stiffness:
   D_c = 1e-7 cm^2/s, half-life 40 min) at 20 um, for several grid sizes:
   wall time, steps, Krylov iterations, and the time per voxel, so that a run
   can be predicted (``--target`` adds the issue's 100 x 100 x 125 grid);
2. cumulative wall time at several simulated days of the same runs: how time
   grows with simulated days (each session's transient costs most, quiet
   healing little);
3. needlesim vs py-pde (numba backend, adaptive Runge-Kutta, its fastest CPU
   option for this system) on the same equations and grid (without
   chemotaxis, whose discretisations differ), each run to the same accuracy
   against a tight needlesim reference, as a ratio measured in this run;
4. the **full healing model** (all 24 species per voxel, the real course through
   ``needlesim.course.patch.simulate_patch_course``) on ``examples/patch-small.yaml``
   (two pen sessions 30 days apart) at 100 and 50 um voxels and over 30 and 60
   days: wall time warm (a second run in the same process), steps, cost per
   voxel-step, peak resident memory of the process, and the ratio of its cost per
   voxel-step to the reduced system's (table 1, same run). ``--no-full`` skips it.

Compilation (JAX and numba) is timed separately and excluded from the rates.

    python benchmarks/bench_patch.py            # ~5 minutes on 2 cores
    python benchmarks/bench_patch.py --quick    # ~1.5 minutes
    python benchmarks/bench_patch.py --target   # + 100 x 100 x 125 (several minutes more)
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import needlesim  # noqa: F401  (float64)
from needlesim.patch import (
    OutputSpec,
    PatchGrid,
    PatchIntegrator,
    PatchModel,
    Progress,
    ReactionContext,
    Session,
    StepperOptions,
    channel_damage,
    simulate_patch,
)
from needlesim.testing.patch_problems import (
    HealingParameters,
    healing_model,
    healing_pypde,
    healing_reaction,
)

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


SESSION_DAYS = (0.0, 30.0, 60.0, 90.0)
TARGET_SHAPE = (100, 100, 125)
"""2 mm x 2 mm x 2.5 mm at 20 um: the issue's CPU target grid."""
TARGET_WALL_S = 120.0
COURSE_END_DAY = 180.0


def course_reaction(y: jax.Array, p: dict[str, Any], ctx: ReactionContext) -> jax.Array:
    """The reduced healing kinetics with one injury source per session: the source of
    session ``k`` (damage field ``aux[..., k]``) switches on just after its day ``s_k``
    and decays as ``exp(-k_w (t - s_k))`` (the source of :func:`healing_reaction`
    restarted by every session). Off at ``t = s_k`` itself, so the step that ends on a
    session day does not see the next session's source in its last stage."""
    days = jnp.asarray(SESSION_DAYS, dtype=ctx.t.dtype)  # single in the Jacobian's evaluation
    since = ctx.t - days
    weight = jnp.where(since > 0.0, jnp.exp(-p["k_w"] * jnp.maximum(since, 0.0)), 0.0)
    source = ctx.aux @ weight  # a dot over the sessions (a reduction fusion is 2x slower)
    base = healing_reaction(y, p, ctx._replace(aux=jnp.asarray(0.0)))
    return base.at[0].add(p["p_w"] * source)


def course_setup(
    shape: tuple[int, int, int], spacing_um: float = SPACING_UM
) -> tuple[PatchGrid, PatchModel, np.ndarray, dict[str, float], list[Session]]:
    """The reduced system on a ``shape`` grid (20 um voxels by default) over the standard
    course: four sessions 30 days apart (new channels each time), 180 days."""
    grid = PatchGrid.uniform(shape, spacing_um)
    damages = [injury(grid, seed=k) for k in range(len(SESSION_DAYS))]
    model, params = healing_model(damages[0], PARAMETERS, chemotaxis=True)
    model = replace(
        model,
        reaction=course_reaction,
        aux=np.stack(damages, axis=-1),
        name="healing3-course",
    )
    y0 = PARAMETERS.baseline(grid)
    sessions = [Session(day, d) for day, d in zip(SESSION_DAYS, damages, strict=True)]
    return grid, model, y0, params, sessions


def course_run(shape: tuple[int, int, int], options: StepperOptions = OPTIONS) -> dict[str, Any]:
    """Wall time of the standard course on a ``shape`` grid (compilation excluded)."""
    grid, model, y0, params, sessions = course_setup(shape)
    tic = time.perf_counter()
    integrator = PatchIntegrator(grid, model, options)
    warm = integrator.advance(integrator.initial_state(y0, 0.0), 1e-4, params, max_steps=1)
    jax.block_until_ready(warm.y)
    first = sessions[0].damage_field(grid, np.random.default_rng(0))
    jax.block_until_ready(integrator.injure(y0, first, 0.0, params))
    compile_s = time.perf_counter() - tic
    days = sorted({1.0, 30.0, 31.0, 90.0, 91.0, COURSE_END_DAY})
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
        t_end=COURSE_END_DAY,
        sessions=sessions,
        outputs=OutputSpec(profile_days=tuple(days)),
        integrator=integrator,
        progress=progress,
        profiles_in_loop=False,  # return at the six marked days, to time them
    )
    wall = result.stats["wall_s"]
    return {
        "shape": shape,
        "voxels": grid.n_voxels,
        "method": options.method,
        "preconditioner": str(np.dtype(options.preconditioner_dtype)),
        "compile_s": compile_s,
        "wall_s": wall,
        "steps": result.stats["accepted_steps"],
        "rejected": result.stats["rejected_steps"],
        "krylov": result.stats["krylov_iterations"],
        "marks": {d: marks.get(d, wall) for d in days},
    }


FULL_EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "patch-small.yaml"


FULL_TARGET = (15.0, 0.02, 2.0, False)
"""Spacing um, days, side mm, warm: the full model on 133 x 133 x 71 voxels, the standard
patch's 1.25 M (a cheek's dermis is thinner than the 2.5 mm of the standard grid)."""
STANDARD_VOXELS = 133 * 133 * 71
"""The voxels of the full-size runs: 2 mm of cheek at 15 um (the standard patch's count)."""
FULL_COURSE = (15.0, COURSE_END_DAY, 2.0, False, len(SESSION_DAYS), True, True)
"""The same patch through the standard course: four pen sessions 30 days apart, 180 days
(progress on stderr; saved 3D fields on disk, as ``needlesim simulate`` keeps them)."""


def full_model_run(
    spacing_um: float,
    days: float,
    side_mm: float | None = None,
    warm: bool = True,
    sessions: int | None = None,
    echo: bool = False,
    spill: bool = False,
) -> dict[str, Any]:
    """The full model's course of ``examples/patch-small.yaml`` over ``days`` at ``spacing_um``
    (on a patch of side ``side_mm``, default the example's; ``sessions`` of its pen, default
    the example's two, 30 days apart), run twice in this process (the second is warm; once
    if not ``warm``); peak resident memory of the process and the cumulative solver wall
    time at each simulated day reached (``marks``, from the progress reports). ``spill``:
    keep the saved 3D fields on disk, memory-mapped (as ``needlesim simulate`` does)."""
    import resource
    import tempfile

    from needlesim import load
    from needlesim.course.patch import simulate_patch_course

    config = load(FULL_EXAMPLE)
    update: dict[str, Any] = {
        "duration_days": days,
        "output_days": [d for d in config.simulation.output_days or [] if d <= days] or [days],
    }
    if side_mm is not None:
        update["sample_area_mm"] = side_mm
    config = config.model_copy(update={"simulation": config.simulation.model_copy(update=update)})
    if sessions is not None:
        protocol = config.protocol.model_copy(update={"sessions": sessions})
        config = config.model_copy(update={"protocol": protocol})
    marks: list[tuple[float, float]] = []

    def progress(info: Progress) -> None:
        marks.append((info.t, info.wall_s))
        if echo:  # long runs: a line per chunk on stderr, so a stopped run still tells
            print(f"day {info.t:.4g}: {info.wall_s:.0f} s, {info.accepted} steps", file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="needlesim-bench-") as folder:

        def course() -> Any:
            spill_dir = folder if spill else None
            return simulate_patch_course(
                config, spacing_um=spacing_um, progress=progress, spill_dir=spill_dir
            )

        cold = time.perf_counter()
        result = course()
        cold_s = time.perf_counter() - cold
        if warm:
            marks.clear()
            result = course()
    stats = result.patch.stats
    return {
        "marks": marks,
        "spacing_um": spacing_um,
        "days": days,
        "voxels": result.grid.n_voxels,
        "shape": list(result.grid.shape),
        "species": len(result.patch.species),
        "cold_s": cold_s,
        "wall_s": stats["wall_s"],
        "steps": stats["accepted_steps"],
        "rejected": stats["rejected_steps"],
        "krylov": stats["krylov_iterations"],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }


def full_model_step_memory(spacing_um: float) -> dict[str, Any]:
    """Bytes per voxel that XLA's buffer assignment gives the full model's compiled chunk
    of steps on ``examples/patch-small.yaml`` at ``spacing_um`` (nothing is run)."""
    from needlesim import load
    from needlesim.course.patch import patch_integrator

    setup, integrator = patch_integrator(load(FULL_EXAMPLE), spacing_um=spacing_um)
    state = integrator.initial_state(setup.y0, 0.0)
    memory = integrator.compiled_memory(state, setup.params)
    n = setup.grid.n_voxels
    return {"spacing_um": spacing_um, "voxels": n} | {k: v / n for k, v in memory.items()}


def isolated(fn: Any, *args: Any) -> Any:
    """``fn(*args)`` in a fresh Python process (spawned), so that runs do not share JAX
    caches, allocator state or memory with each other or with this process."""
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        return pool.submit(fn, *args).result()


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


def _print_big_run(title: str, r: dict[str, Any]) -> None:
    """A heading and one table row: solver time, steps, cost per step and voxel-step, memory."""
    attempts = r["steps"] + r["rejected"]
    print(f"\n### {title}\n")
    print("| solver s | steps (rej) | Krylov its | s per step | us per voxel-step | peak RSS MB |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {r['wall_s']:.1f} | {r['steps']} ({r['rejected']}) | {r['krylov']} | "
        f"{r['wall_s'] / attempts:.1f} | {1e6 * r['wall_s'] / r['voxels'] / attempts:.2f} | "
        f"{r['peak_rss_mb']:.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small grids, short runs")
    parser.add_argument("--target", action="store_true", help="also the 100 x 100 x 125 grid")
    parser.add_argument("--no-pypde", action="store_true", help="skip the py-pde comparison")
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    parser.add_argument("--no-full", action="store_true", help="skip the full healing model")
    parser.add_argument(
        "--full-target",
        action="store_true",
        help="also the full model on the standard patch's 1.26 M voxels, first 0.02 days "
        "(about 3 minutes and 8 GB)",
    )
    parser.add_argument(
        "--full-course",
        action="store_true",
        help="also the full model's whole standard course (4 sessions, 180 days) on the "
        "standard patch's 1.26 M voxels (hours on 2 cores)",
    )
    args = parser.parse_args()

    shapes = [(24, 24, 30), (32, 32, 40)]
    if not args.quick:
        shapes += [(48, 48, 60), (64, 64, 80)]
    if args.target:
        shapes.append(TARGET_SHAPE)
    vs_n, vs_t = (16, 0.1) if args.quick else (24, 0.25)

    print(f"needlesim patch benchmark ({jax.default_backend()}, {os.cpu_count()} CPUs visible)")
    # by module name, so that the spawned process can import it (also under run_all.py)
    import bench_patch

    runs = [isolated(bench_patch.course_run, shape) for shape in shapes]
    print(
        "\n### Standard course (4 sessions, 30 days apart, 180 days), healing system with "
        "chemotaxis, 3 species, 20 um\n"
    )
    print(
        "| grid | voxels | compile s | wall s | steps (rej) | Krylov its | "
        "us per voxel | us per voxel-step |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in runs:
        nx, ny, nz = r["shape"]
        attempts = r["steps"] + r["rejected"]
        print(
            f"| {nx}x{ny}x{nz} | {r['voxels']:,} | {r['compile_s']:.1f} | {r['wall_s']:.1f} | "
            f"{r['steps']} ({r['rejected']}) | {r['krylov']} | "
            f"{1e6 * r['wall_s'] / r['voxels']:.0f} | "
            f"{1e6 * r['wall_s'] / r['voxels'] / attempts:.2f} |"
        )
    target = [r for r in runs if tuple(r["shape"]) == TARGET_SHAPE]
    if target:
        wall = target[0]["wall_s"]
        verdict = "met" if wall < TARGET_WALL_S else "NOT met"
        print(
            f"\nIssue target, the standard course on {TARGET_SHAPE[0]}x{TARGET_SHAPE[1]}x"
            f"{TARGET_SHAPE[2]} voxels in under {TARGET_WALL_S:.0f} s: {wall:.1f} s ({verdict})"
        )
    days = sorted(runs[0]["marks"])
    print("\n### Cumulative wall seconds at simulated day (sessions on days 0, 30, 60, 90)\n")
    print("| grid | " + " | ".join(f"day {d:g}" for d in days) + " |")
    print("|---|" + "---|" * len(days))
    for r in runs:
        nx, ny, nz = r["shape"]
        print(f"| {nx}x{ny}x{nz} | " + " | ".join(f"{r['marks'][d]:.1f}" for d in days) + " |")

    vs = None if args.no_pypde else versus_pypde(vs_n, vs_t)
    if vs is not None:
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
    full = [] if args.no_full else [
        isolated(bench_patch.full_model_run, um, d)
        for um, d in ((100.0, 30.0), (100.0, 60.0), (50.0, 60.0))
    ]  # fmt: skip
    if full:
        reduced = min(
            r["wall_s"] / r["voxels"] / (r["steps"] + r["rejected"]) for r in runs
        )  # the reduced system's best cost per voxel-step in this run
        print(
            "\n### Full healing model (24 species per voxel), examples/patch-small.yaml "
            "(2 pen sessions 30 days apart)\n"
        )
        print(
            "| voxels (um) | days | first run s | warm s | steps (rej) | us per voxel-step | "
            "x reduced system | peak RSS MB |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for r in full:
            attempts = r["steps"] + r["rejected"]
            per = r["wall_s"] / r["voxels"] / attempts
            print(
                f"| {r['voxels']:,} ({r['spacing_um']:g}) | {r['days']:g} | {r['cold_s']:.1f} | "
                f"{r['wall_s']:.1f} | {r['steps']} ({r['rejected']}) | {1e6 * per:.2f} | "
                f"{per / reduced:.1f} | {r['peak_rss_mb']:.0f} |"
            )
    memory = [] if args.no_full else [
        isolated(bench_patch.full_model_step_memory, um) for um in (50.0, 25.0)
    ]  # fmt: skip
    if memory:
        print(
            "\n### The full model's compiled chunk of steps: memory by XLA's buffer assignment "
            "(bytes per voxel; the state is 24 doubles, 192 B)\n"
        )
        print("| voxels (um) | temporaries | x state | arguments | output | standard patch GB |")
        print("|---|---|---|---|---|---|")
        for m in memory:
            per_voxel = m["temp"] + m["arguments"] + m["output"]
            print(
                f"| {m['voxels']:,} ({m['spacing_um']:g}) | {m['temp']:.0f} | "
                f"{m['temp'] / 192:.1f} | {m['arguments']:.0f} | {m['output']:.0f} | "
                f"{per_voxel * STANDARD_VOXELS / 1e9:.2f} |"
            )
    big = isolated(bench_patch.full_model_run, *FULL_TARGET) if args.full_target else None
    if big is not None:
        nx, ny, nz = big["shape"]
        _print_big_run(
            f"Full model at the standard patch's size: {nx}x{ny}x{nz} = {big['voxels']:,} "
            f"voxels ({FULL_TARGET[2]:g} mm at {FULL_TARGET[0]:g} um, cheek), the first "
            f"{FULL_TARGET[1]:g} days after the first session, one run",
            big,
        )
        verdict = "met" if big["peak_rss_mb"] < 8192 else "NOT met"
        print(
            f"\nIssue 14's memory target, under 8 GB: {big['peak_rss_mb'] / 1024:.2f} GiB peak "
            f"({verdict}) for the step itself; a whole course also holds its saved 3D fields "
            f"(192 B per voxel and saved day)"
        )
    whole = isolated(bench_patch.full_model_run, *FULL_COURSE) if args.full_course else None
    if whole is not None:
        nx, ny, nz = whole["shape"]
        _print_big_run(
            f"Full model, the whole standard course (4 sessions 30 days apart, "
            f"{COURSE_END_DAY:g} days) on {nx}x{ny}x{nz} = {whole['voxels']:,} voxels, one run",
            whole,
        )
        days_shown = (1, 30, 31, 60, 90, 120, 180)
        print("\n| simulated day | " + " | ".join(f"{d:g}" for d in days_shown) + " |")
        print("|---|" + "---|" * len(days_shown))
        at = [next((w for t, w in whole["marks"] if t >= d), whole["wall_s"]) for d in days_shown]
        print("| cumulative solver s | " + " | ".join(f"{w:.0f}" for w in at) + " |")
        for what, value, limit in (
            ("under 10 minutes", whole["wall_s"], 600.0),
            ("under 8 GB", whole["peak_rss_mb"], 8192.0),
        ):
            print(f"Issue 14's target, {what}: {'met' if value < limit else 'NOT met'}")
    if args.json:
        out = {
            "course": runs,
            "versus_pypde": vs,
            "full_model": full,
            "full_target": big,
            "full_course": whole,
        }
        print(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
