"""Where a step of the full healing model goes on the patch (not a ``bench_*``: run by hand).

On ``examples/patch-small.yaml`` with one session (8,400 voxels at 50 um, 24
species), after advancing ``--after`` days from the session, times each
compiled piece of a Rosenbrock step (best of 3 x ``n`` calls, compilation
excluded) and one trial step at several sizes with its Krylov iterations, so
that the fixed cost of a step and the cost of one Krylov iteration can be read
off (a trial's time against its iteration count; each trial zero-fills its own
GMRES storage, about 10 ms here, which a chunk of steps in a run does once).
Prints markdown tables.

    python benchmarks/profile_patch_full.py                 # 0.05 days after the session
    python benchmarks/profile_patch_full.py --after 8       # quiet remodelling, steps of ~0.3 d
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp

import needlesim  # noqa: F401  (float64)
from needlesim import load
from needlesim.course.patch import RTOL, _compiled, simulate_patch_course
from needlesim.patch import StepperOptions

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "patch-small.yaml"


def best_ms(fn: Any, *args: Any, n: int = 20) -> float:
    """Best of 3 means over ``n`` calls of a compiled function (ms)."""
    jax.block_until_ready(fn(*args))
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(n):
            out = fn(*args)
        jax.block_until_ready(out)
        best = min(best, (time.perf_counter() - start) / n)
    return 1e3 * best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--after", type=float, default=0.05, help="days after the session")
    args = parser.parse_args()

    config = load(EXAMPLE)
    protocol = config.protocol.model_copy(update={"sessions": 1})
    sim = config.simulation.model_copy(update={"duration_days": 1.0, "output_days": [0, 1]})
    config = config.model_copy(update={"simulation": sim, "protocol": protocol})
    course = simulate_patch_course(config)
    # the course's compiled integrator (its default options)
    setup, integrator = _compiled(course.setup, StepperOptions(rtol=RTOL, atol=1e-6))
    system, params, aux = integrator.system, setup.params, integrator._aux
    state = integrator.initial_state(jnp.asarray(course.patch.field_at(0.0)), 0.0)
    state = integrator.advance(state, args.after, params, max_steps=10_000)
    y, t = state.y, state.t
    v = jax.random.normal(jax.random.PRNGKey(0), y.shape)
    assert system.reaction is not None
    reaction = system.reaction
    _, lin = jax.linearize(lambda u: reaction.rate(u, t, params, aux), y)
    pieces = {
        "f(y): kinetics + transport": jax.jit(lambda u: system.rhs(u, t, params, aux)),
        "kinetics R(y)": jax.jit(lambda u: reaction.rate(u, t, params, aux)),
        "linearisation + one R'(y) v": jax.jit(
            lambda u: reaction.linearize(u, t, params, aux)[1](v)
        ),
        "R'(y) v, linearisation stored": jax.jit(lin),
        "dR/dt": jax.jit(lambda u: reaction.time_derivative(u, t, params, aux)),
    }
    n = setup.grid.n_voxels
    print(
        f"patch-small, one session, {args.after} d after it: {n} voxels, "
        f"{int(state.accepted)} steps ({int(state.rejected)} rejected) and "
        f"{int(state.krylov_iterations)} Krylov iterations to get there\n"
    )
    print("| piece | ms | us per voxel |\n|---|---|---|")
    for name, fn in pieces.items():
        ms = best_ms(fn, v if name.startswith("R'") else y)
        print(f"| {name} | {ms:.3f} | {1e3 * ms / n:.3f} |")
    trial = jax.jit(lambda u, h: integrator._trial_impl(u, t, h, params, aux)[1:3])
    print("\n| trial step h (days) | error norm | Krylov its | ms | us per voxel |")
    print("|---|---|---|---|---|")
    for h in (1e-3, 0.05, 0.3, 1.0):
        err, its = trial(y, jnp.asarray(h))
        ms = best_ms(trial, y, jnp.asarray(h), n=5)
        print(f"| {h:g} | {float(err):.3g} | {int(its)} | {ms:.1f} | {1e3 * ms / n:.2f} |")


if __name__ == "__main__":
    main()
