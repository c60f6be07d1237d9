"""Running the patch level: sessions, outputs and checkpoints around the stepper.

:func:`simulate_patch` integrates from ``t0`` to ``t_end`` (days). The stops
are the output times, the session days and ``t_end``; between stops the
adaptive stepper runs in compiled chunks. At a stop the sessions of that day
are applied first (the state jumps, the step size restarts small), then the
outputs of that day are recorded: outputs are right-continuous, an output on a
session day shows the fresh injury.

Checkpoints (optional) are written atomically after every session and, between
chunks, whenever ``every_s`` wall-clock seconds have passed since the last one.
With ``resume=True`` a run whose checkpoint file exists continues from it;
the result equals that of an uninterrupted run bit for bit (same machine and
backend), because a step depends only on ``(y, t, h)``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import NDArray

from ..geometry.grid import PatchGrid
from .checkpoint import Checkpoint, restore_rng, rng_state
from .events import Session
from .model import Params, PatchModel
from .output import KINDS, SPILLED, OutputSpec, PatchResult, lateral_mean, spill, spilled_name
from .stepper import RECORD_SLOTS, STATUS_OK, PatchIntegrator, StepperOptions, StepState


class PatchIntegrationError(RuntimeError):
    """The adaptive stepper could not meet the tolerances (step below ``dt_min_days``)."""


@dataclass(frozen=True)
class Checkpointing:
    """Where and how often to checkpoint (``every_s`` wall-clock seconds).

    ``resume``: continue from ``path`` when it exists. ``mismatch``: what to do
    when it belongs to another run (its fingerprint differs): ``"error"``
    (raise) or ``"restart"`` (start from the beginning; the stale file is
    overwritten by the first checkpoint of this run).
    """

    path: Path | str
    every_s: float = 600.0
    resume: bool = True
    mismatch: Literal["error", "restart"] = "error"


class Progress(NamedTuple):
    """Passed to the progress callback after every compiled chunk of steps."""

    t: float
    t_end: float
    dt: float
    accepted: int
    rejected: int
    sessions_done: int
    wall_s: float


def _stops(
    t0: float,
    t_end: float,
    sessions: Sequence[Session],
    outputs: OutputSpec,
    profiles_in_loop: bool = True,
) -> tuple[list[float], list[float]]:
    """The days the compiled loop returns on (sessions, the outputs other than depth
    profiles, the ends) and the days that only want a depth profile, recorded inside the
    loop (``profiles_in_loop``; otherwise stops too)."""
    days = {t0, t_end}
    days.update(float(s.day) for s in sessions)
    days.update(outputs.all_days(profiles=not profiles_in_loop))
    stops = sorted(d for d in days if t0 <= d <= t_end)
    stopped = set(stops)
    profile_only = sorted(
        float(d) for d in set(outputs.profile_days) if t0 <= d <= t_end and d not in stopped
    )
    return stops, profile_only


def run_fingerprint(
    grid: PatchGrid,
    model: PatchModel,
    options: StepperOptions,
    y0: NDArray[np.float64],
    params: Params,
    t0: float,
    t_end: float,
    sessions: Sequence[Session],
    outputs: OutputSpec,
    seed: int,
    run_key: str,
    profiles_in_loop: bool = True,
) -> str:
    """A hash of everything that determines a run (to match checkpoints to runs); the
    loop's stops are part of it (a checkpoint counts them)."""
    h = hashlib.sha256()
    for part in (
        f"stops v2, profiles in loop: {profiles_in_loop}",
        grid.fingerprint(),
        model.fingerprint(),
        options.fingerprint(),
        outputs.fingerprint(),
        repr([float(s.day) for s in sessions]),
        repr((float(t0).hex(), float(t_end).hex(), seed, run_key)),
    ):
        h.update(part.encode())
        h.update(b"\0")
    for s in sessions:  # damage given as arrays is part of the run; functions draw from seed
        if not callable(s.damage):
            h.update(np.ascontiguousarray(s.damage, dtype=np.float64).tobytes())
    h.update(np.ascontiguousarray(y0, dtype=np.float64).tobytes())
    for leaf in jax.tree.leaves(params):
        h.update(np.ascontiguousarray(np.asarray(leaf)).tobytes())
    return h.hexdigest()[:32]


def simulate_patch(
    grid: PatchGrid,
    model: PatchModel,
    y0: NDArray[np.float64] | jax.Array,
    params: Params = None,
    *,
    t_end: float,
    t0: float = 0.0,
    sessions: Sequence[Session] = (),
    outputs: OutputSpec | None = None,
    options: StepperOptions | None = None,
    seed: int = 0,
    checkpoint: Checkpointing | None = None,
    progress: Callable[[Progress], None] | None = None,
    integrator: PatchIntegrator | None = None,
    run_key: str = "",
    profiles_in_loop: bool = True,
    chunk_wall_s: float = 60.0,
    spill_dir: str | Path | None = None,
) -> PatchResult:
    """Integrate ``model`` on ``grid`` from ``y0`` (``(S, nx, ny, nz)``) at ``t0`` to ``t_end``.

    ``sessions`` are applied at their days with the model's injury function;
    their damage functions draw from one generator seeded with ``seed`` (its
    state is checkpointed). Pass a prebuilt ``integrator`` to reuse its
    compiled code (it must have been built for this grid, model and options).
    ``run_key`` distinguishes runs that the fingerprint cannot (for example two
    reaction functions with the same name). ``profiles_in_loop``: record the depth
    profiles of days that want nothing else inside the compiled loop (default; the
    same numbers as returning to Python at each of them, in far fewer calls).
    ``chunk_wall_s``: a compiled chunk takes at most ``options.steps_per_chunk`` step
    attempts and, once a step's cost is known, about this many seconds, so that
    ``progress`` is called at least that often on large grids (the steps, and so the
    numbers, do not depend on the chunking). ``spill_dir``: write each saved 3D field there
    as it is made and keep it memory-mapped (:func:`~.output.spill`; the same numbers, not
    held in memory while the run goes on); a disk folder, not a RAM-backed one. With a
    ``checkpoint`` too, the fields are kept there as files the checkpoint refers to
    instead of copying them (:mod:`~.checkpoint`; remove both with
    :func:`~.checkpoint.discard`), and a resumed run needs the same ``spill_dir``.
    """
    if not t_end > t0:
        raise ValueError(f"t_end ({t_end}) must be after t0 ({t0})")
    outputs = outputs or OutputSpec()
    if integrator is None:
        integrator = PatchIntegrator(grid, model, options)
    elif integrator.grid is not grid or integrator.model is not model:
        raise ValueError("the integrator was built for another grid or model")
    options = integrator.options
    if sessions and model.injury is None:
        raise ValueError("sessions need a model with an injury function")
    sessions = sorted(sessions, key=lambda s: s.day)
    outside = [s.day for s in sessions if not t0 <= s.day <= t_end]
    if outside:
        raise ValueError(f"session days {outside} lie outside the run [{t0}, {t_end}]")
    y0_host = np.asarray(y0, dtype=np.float64)
    stops, profile_only = _stops(t0, t_end, sessions, outputs, profiles_in_loop)
    fingerprint = run_fingerprint(
        grid,
        model,
        options,
        y0_host,
        params,
        t0,
        t_end,
        sessions,
        outputs,
        seed,
        run_key,
        profiles_in_loop,
    )
    depth_idx = np.asarray([grid.depth_index(d) for d in outputs.slice_depths_um], dtype=int)
    unknown = [s for s in outputs.selected_species if s not in model.species]
    if unknown:
        raise ValueError(f"selected_species {unknown} are not species of the model")
    selected_idx = np.asarray([model.species.index(s) for s in outputs.selected_species], int)

    ckpt_path = Path(checkpoint.path) if checkpoint is not None else None
    # a checkpointed run keeps its spilled fields as named files the checkpoint refers to
    named = spill_dir is not None and ckpt_path is not None

    def keep(kind: str, array: NDArray[np.float64] | jax.Array) -> NDArray[np.float64]:
        """An output as the result holds it: on disk, memory-mapped, if it is spilled."""
        if spill_dir is not None and kind in SPILLED:
            name = spilled_name(kind, len(data[kind])) if named else None
            return spill(array, spill_dir, name)
        return np.asarray(array)

    data: dict[str, list[NDArray[np.float64]]] = {k: [] for k in KINDS}
    times: dict[str, list[float]] = {k: [] for k in KINDS}
    rng = np.random.default_rng(seed)
    state = integrator.initial_state(y0_host, t0)
    next_stop = 0
    sessions_done = 0
    wall_before = 0.0
    resumed_from: float | None = None

    ck: Checkpoint | None
    if (
        checkpoint is not None
        and checkpoint.resume
        and ckpt_path is not None
        and ckpt_path.exists()
    ):
        ck = Checkpoint.load(ckpt_path)
        problem = _unusable(ck, fingerprint, spill_dir)
        if problem is not None and checkpoint.mismatch == "error":
            raise ValueError(f"checkpoint {ckpt_path} {problem}; delete it or pass resume=False")
        if problem is not None:
            ck = None
    else:
        ck = None
    if ck is not None:
        state = StepState(
            y=jnp.asarray(ck.y),
            t=jnp.asarray(ck.t, jnp.float64),
            dt=jnp.asarray(ck.dt, jnp.float64),
            accepted=jnp.asarray(ck.accepted, jnp.int64),
            rejected=jnp.asarray(ck.rejected, jnp.int64),
            status=jnp.asarray(STATUS_OK, jnp.int32),
            krylov_iterations=jnp.asarray(ck.krylov_iterations, jnp.int64),
        )
        next_stop, sessions_done = ck.next_stop, ck.sessions_done
        rng = restore_rng(ck.rng_state)
        kept = ck.spilled_files(spill_dir) if spill_dir is not None else {}
        for k in KINDS:  # in order, so that keep() names each file by its index
            for file in kept.get(k, []):
                data[k].append(np.load(file, mmap_mode="r"))
            for a in ck.outputs.get(k, []):
                data[k].append(keep(k, a))
        ck.outputs = {}  # spilled ones are on disk now
        times = {k: list(ck.output_times.get(k, [])) for k in KINDS}
        wall_before = ck.wall_s
        resumed_from = ck.t

    start = time.perf_counter()
    last_save = start
    chunks = 0
    max_steps = options.steps_per_chunk

    def save() -> None:
        nonlocal last_save
        if ckpt_path is None:
            return
        Checkpoint(
            fingerprint=fingerprint,
            y=np.asarray(state.y),
            t=float(state.t),
            dt=float(state.dt),
            accepted=int(state.accepted),
            rejected=int(state.rejected),
            krylov_iterations=int(state.krylov_iterations),
            next_stop=next_stop,
            sessions_done=sessions_done,
            rng_state=rng_state(rng),
            outputs={k: v for k, v in data.items() if not (named and k in SPILLED)},
            output_times=times,
            wall_s=wall_before + time.perf_counter() - start,
            spilled={k: len(data[k]) for k in SPILLED} if named else {},
        ).save(ckpt_path)
        last_save = time.perf_counter()

    profile_fn = jax.jit(lateral_mean)
    slice_fn = jax.jit(lambda y: jnp.moveaxis(y[..., jnp.asarray(depth_idx)], -1, 0))
    selected_fn = jax.jit(lambda y: y[jnp.asarray(selected_idx)])

    while next_stop < len(stops):
        t_stop = stops[next_stop]
        while float(state.t) < t_stop:
            t_now = float(state.t)
            # the next days of this stretch (a call returns when its slots are full)
            pending = [d for d in profile_only if t_now < d < t_stop][:RECORD_SLOTS]
            tic, attempts = time.perf_counter(), int(state.accepted) + int(state.rejected)
            state, profiles = integrator.advance_recording(
                state, t_stop, params, pending, max_steps
            )
            done = int(state.accepted) + int(state.rejected) - attempts
            if done > 0:  # bound the next chunk's wall time (the steps do not depend on it)
                per_step = (time.perf_counter() - tic) / done
                max_steps = int(min(options.steps_per_chunk, max(1, chunk_wall_s // per_step)))
            data["profile"].extend(np.asarray(p) for p in profiles)
            times["profile"].extend(pending[: len(profiles)])
            chunks += 1
            if int(state.status) != STATUS_OK:
                raise PatchIntegrationError(
                    f"step size fell below dt_min_days={options.dt_min_days} at t={float(state.t)}"
                    " days: the tolerances cannot be met (check the kinetics for blow-up or NaN)"
                )
            if progress is not None:
                progress(
                    Progress(
                        float(state.t),
                        t_end,
                        float(state.dt),
                        int(state.accepted),
                        int(state.rejected),
                        sessions_done,
                        wall_before + time.perf_counter() - start,
                    )
                )
            if checkpoint is not None and time.perf_counter() - last_save >= checkpoint.every_s:
                save()
        session_today = False
        while sessions_done < len(sessions) and sessions[sessions_done].day <= t_stop:
            session = sessions[sessions_done]
            damage = session.damage_field(grid, rng)
            y = integrator.injure(state.y, damage, t_stop, params)
            state = state._replace(y=y, dt=jnp.asarray(options.dt_after_session_days, jnp.float64))
            sessions_done += 1
            session_today = True
        _record(state.y, t_stop, outputs, data, times, profile_fn, slice_fn, selected_fn, keep)
        next_stop += 1
        if session_today:
            save()

    wall = time.perf_counter() - start
    stats: dict[str, Any] = {
        "accepted_steps": int(state.accepted),
        "rejected_steps": int(state.rejected),
        "krylov_iterations": int(state.krylov_iterations),
        "chunks": chunks,
        "sessions": sessions_done,
        "wall_s": wall_before + wall,
        "wall_s_this_call": wall,
        "resumed_from_day": resumed_from if resumed_from is not None else -1.0,
        "seed": int(seed),
        "run_fingerprint": fingerprint,
        "method": options.method,
    }
    return PatchResult(
        grid=grid,
        species=model.species,
        units=model.species_units,
        times=times,
        data=data,
        slice_depths_um=outputs.slice_depths_um,
        y_final=np.asarray(state.y),
        t_final=float(state.t),
        stats=stats,
        selected_species=outputs.selected_species,
    )


def _unusable(ck: Checkpoint, fingerprint: str, spill_dir: str | Path | None) -> str | None:
    """Why checkpoint ``ck`` cannot continue this run (``None`` if it can)."""
    if ck.fingerprint != fingerprint:
        return "belongs to another run (fingerprint mismatch)"
    if ck.spilled and spill_dir is None:
        return "keeps its saved fields in a spill folder and this run has none"
    if spill_dir is not None:
        files = [f for kind in ck.spilled_files(spill_dir).values() for f in kind]
        missing = [f for f in files if not f.is_file()]
        if missing:
            return f"refers to saved fields missing from {spill_dir} ({missing[0].name})"
    return None


def _record(
    y: jax.Array,
    t: float,
    outputs: OutputSpec,
    data: dict[str, list[NDArray[np.float64]]],
    times: dict[str, list[float]],
    profile_fn: Callable[[jax.Array], jax.Array],
    slice_fn: Callable[[jax.Array], jax.Array],
    selected_fn: Callable[[jax.Array], jax.Array],
    keep: Callable[[str, jax.Array], NDArray[np.float64]],
) -> None:
    def due(days: tuple[float, ...]) -> bool:
        return any(d == t for d in days)

    for kind, days, value in (
        ("field", outputs.field_days, lambda: y),
        ("profile", outputs.profile_days, lambda: profile_fn(y)),
        ("slice", outputs.slice_days, lambda: slice_fn(y)),
        ("selected", outputs.selected_days, lambda: selected_fn(y)),
    ):
        if due(days):
            data[kind].append(keep(kind, value()))
            times[kind].append(t)
