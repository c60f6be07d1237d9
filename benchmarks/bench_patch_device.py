"""Benchmark of the patch level on the current JAX device: memory bandwidth and peak memory.

For the GPU targets of issue 4 (an NVIDIA H200 when one is available; runs on
the CPU too, on a smaller grid, so the script is tested everywhere):

1. the device's copy bandwidth, measured in this run (``y + 1`` over a large
   float64 array: one read and one write per element);
2. the fused reaction-transport evaluation ``f(y)`` of the benchmark's reduced
   healing system (kinetics, diffusion, MUSCL chemotaxis in one compiled
   call) and one product with the stage matrix ``W v`` (what every Krylov
   iteration applies): time, the minimal memory traffic (state and inputs read
   once, result written once) and the achieved bandwidth as a fraction of the
   copy bandwidth (the issue asks for at least 50 %);
3. optionally (``--course``) the standard course of ``bench_patch.py`` on the
   grid: wall time (the issue: under 60 s at 10 um, 200 x 200 x 250, on an
   H200) and the peak device memory (under 8 GB), where the backend reports it.

    python benchmarks/bench_patch_device.py                    # 48 x 48 x 60 on CPU
    python benchmarks/bench_patch_device.py --shape 200 200 250 --spacing 10 --course
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import needlesim  # noqa: F401  (float64)
from bench_patch import OPTIONS, SESSION_DAYS, course_setup
from needlesim.patch import PatchIntegrator, simulate_patch


def best_seconds(fn: Callable[..., Any], *args: Any, repeats: int = 10) -> float:
    """The fastest of ``repeats`` calls (after one warm-up call that compiles)."""
    jax.block_until_ready(fn(*args))
    best = float("inf")
    for _ in range(repeats):
        tic = time.perf_counter()
        jax.block_until_ready(fn(*args))
        best = min(best, time.perf_counter() - tic)
    return best


def copy_bandwidth(n_bytes: int) -> float:
    """Bytes per second of ``y + 1`` over a float64 array of ``n_bytes`` (read + write)."""
    y = jnp.zeros(n_bytes // 8, dtype=jnp.float64)
    seconds = best_seconds(jax.jit(lambda a: a + 1.0), y)
    return 2.0 * y.nbytes / seconds


def peak_memory_bytes() -> int | None:
    """The backend's peak bytes in use on device 0, or ``None`` where not reported."""
    stats = jax.devices()[0].memory_stats() or {}
    peak = stats.get("peak_bytes_in_use")
    return None if peak is None else int(peak)


def measure(shape: tuple[int, int, int], spacing_um: float, course: bool) -> dict[str, Any]:
    grid, model, y0, params, sessions = course_setup(shape, spacing_um)
    integrator = PatchIntegrator(grid, model, OPTIONS)
    system = integrator.system
    aux = integrator._aux
    y = integrator.injure(y0, sessions[0].damage_field(grid, np.random.default_rng(0)), 0.0, params)
    state = integrator.advance(integrator.initial_state(y, 0.0), 0.05, params, max_steps=200)
    y, t = state.y, state.t
    state_bytes = int(y.nbytes)
    aux_bytes = sum(int(np.asarray(a).nbytes) for a in jax.tree.leaves(aux))

    rhs = jax.jit(lambda u: system.rhs(u, t, params, aux))
    rhs_s = best_seconds(rhs, y)
    lin_k = system.chemotaxis.frozen_upwind(y) if system.chemotaxis is not None else None
    assert system.reaction is not None
    _, lin_r = system.reaction.linearize(y, t, params, aux)

    def w_product(v: jax.Array) -> jax.Array:
        transport = system._transport(v, lin_k, affine=False)
        jv = lin_r(v) if transport is None else transport + lin_r(v)
        return v - 0.1 * jv

    v = jnp.asarray(np.random.default_rng(1).normal(size=y.shape))
    w_s = best_seconds(jax.jit(w_product), v)
    copy = copy_bandwidth(max(state_bytes, 256 * 2**20))
    out: dict[str, Any] = {
        "backend": jax.default_backend(),
        "device": str(jax.devices()[0]),
        "shape": shape,
        "spacing_um": spacing_um,
        "voxels": grid.n_voxels,
        "copy_gb_s": copy / 1e9,
        "rhs_ms": 1e3 * rhs_s,
        "rhs_gb_s": (2 * state_bytes + aux_bytes) / rhs_s / 1e9,
        "w_ms": 1e3 * w_s,
        "w_gb_s": 2 * state_bytes / w_s / 1e9,
    }
    if course:
        tic = time.perf_counter()
        result = simulate_patch(
            grid, model, y0, params, t_end=180.0, sessions=sessions, integrator=integrator
        )
        out["course_wall_s"] = time.perf_counter() - tic
        out["course_steps"] = result.stats["accepted_steps"]
        out["course_krylov"] = result.stats["krylov_iterations"]
    out["peak_memory_gb"] = None if (p := peak_memory_bytes()) is None else p / 1e9
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shape", type=int, nargs=3, default=None, help="nx ny nz")
    parser.add_argument("--spacing", type=float, default=20.0, help="voxel size, um")
    parser.add_argument("--course", action="store_true", help="also run the standard course")
    args = parser.parse_args()
    on_gpu = jax.default_backend() == "gpu"
    shape = tuple(args.shape) if args.shape else ((200, 200, 250) if on_gpu else (48, 48, 60))
    r = measure(shape, args.spacing, args.course)  # type: ignore[arg-type]
    nx, ny, nz = r["shape"]
    print(f"needlesim patch device benchmark: {r['device']} ({r['backend']})")
    print(f"\ngrid {nx}x{ny}x{nz} at {r['spacing_um']:g} um ({r['voxels']:,} voxels), float64\n")
    print("| kernel | time ms | GB/s (minimal traffic) | fraction of copy bandwidth |")
    print("|---|---|---|---|")
    print(f"| copy (`y + 1`) | - | {r['copy_gb_s']:.1f} | 1.00 |")
    for name, key in (("f(y): kinetics + diffusion + chemotaxis", "rhs"), ("W v", "w")):
        print(
            f"| {name} | {r[key + '_ms']:.2f} | {r[key + '_gb_s']:.1f} | "
            f"{r[key + '_gb_s'] / r['copy_gb_s']:.2f} |"
        )
    if "course_wall_s" in r:
        print(
            f"\nstandard course ({len(SESSION_DAYS)} sessions, 180 days): "
            f"{r['course_wall_s']:.1f} s, {r['course_steps']} steps, "
            f"{r['course_krylov']} Krylov iterations"
        )
    peak = r["peak_memory_gb"]
    shown = "not reported by this backend" if peak is None else f"{peak:.2f} GB"
    print(f"peak device memory: {shown}")


if __name__ == "__main__":
    main()
