"""The ``layered`` fidelity level: one well-mixed compartment per skin layer.

State ``y[layer, species]`` (5 x N_SPECIES, :mod:`needlesim.biology.state`);
right-hand side = reaction kinetics of each compartment
(:func:`needlesim.biology.reaction_rates`) + exchange of mediators between
neighbouring layers (:mod:`needlesim.geometry.exchange`). Only the live entries
(:data:`~needlesim.biology.PRESENCE`) are integrated; the others are 0.

Sessions are discrete events. With sessions ``s_0 <= ... <= s_{n-1}`` and the
last save day ``t_end``, the course is integrated segment by segment,
``[s_k, s_{k+1}]`` (the last one to ``t_end``), each starting from the state
jumped by the session's injury (:func:`needlesim.biology.apply_injury`), so the
solver steps exactly onto every session time. Before ``s_0`` the skin is at its
rest state. Saved states are right-continuous: on a session day the state just
after the session is reported. Sessions after ``t_end`` are ignored.

Saving: when the session days are shared by every patient (always for one
patient, and for a batch given ``session_days[n]``), the save days are split by
segment on the host (:class:`SegmentSaves`) and each segment's solve saves only
its own days. Under ``vmap`` every save is an iteration of diffrax's inner save
loop for the whole batch, so this matters for the dense early grids of
:func:`needlesim.course.save_days`. Per-patient session days
(``session_days[b, n]``) fall back to every segment saving every day clipped to
the segment. Both give the same steps and states.

Integrator: the system is stiff (mediators turn over in hours, exchange
between thin layers runs at up to ~100/day, collagen turns over in years) but
its stiff part is linear: exchange and constant first-order losses. The
default integrates that part implicitly and the reactions explicitly with an
additive Runge-Kutta pair of order 5 (IMEX, a diffrax solver:
:class:`~needlesim.solve.imex.LinearImplicitARK5`), adaptive steps from a
diffrax ``PIDController``; ``SolverOptions(method="kvaerno5")`` is the fully
implicit alternative (diffrax ``Kvaerno5``). Tolerances are documented on
:class:`SolverOptions`.

Batched over patients with ``jax.vmap`` (each patient its own parameters,
skin, sessions and injuries); each shape is compiled once by ``jax.jit``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from numpy.typing import ArrayLike

from ..biology import (
    LAYERS,
    N_LAYERS,
    SPECIES_NAMES,
    SPECIES_UNITS,
    Compartments,
    Covariates,
    Parameters,
    SessionInjury,
    apply_injury,
    baseline_state,
    compartments,
    index,
    linear_loss_rates,
    reaction_rates,
)
from ..geometry.exchange import exchange_rates
from . import export_cache
from .errors import SolveError
from .packing import pack, unpack

if TYPE_CHECKING:
    import diffrax as dfx


@dataclass(frozen=True)
class SolverOptions:
    """Integrator settings (hashable: a static argument of the compiled solver).

    ``method``:

    * ``"ark5"`` (default): IMEX. The stiff linear part, exchange between
      layers and the constant linear losses
      (:func:`needlesim.biology.linear_loss_rates`), is integrated by the
      L-stable ESDIRK half of the additive pair ARK5(4)8L[2]SA, the rest by its
      explicit half (:class:`~needlesim.solve.imex.LinearImplicitARK5`); the
      implicit stages are tridiagonal solves over layers
      (:class:`~needlesim.solve._tridiagonal.LayerTridiagonal`).
    * ``"kvaerno5"``: diffrax ``Kvaerno5`` on the whole right-hand side (dense
      Jacobian and LU every step): the fully implicit reference, several times
      slower, more robust if the reactions are made very stiff.

    Tolerances: ``rtol = 1e-5``, ``atol = 1e-8`` (states are O(1) or wound
    indices visible from ~1e-2) with an integral step-size controller
    (``pcoeff = 0``, ``icoeff = 1``). Against a ``rtol = 1e-9`` reference, a
    four-session course plus nine months stays within 3e-4 of each species'
    range. ``dtmax`` caps the step (days): the explicit half of ``ark5`` is
    stable for ``h |lambda| < 3.8`` on the negative real axis and the non-stiff
    rates stay below ~3/day, whereas near rest, where the error estimate is
    tiny, the controller would otherwise grow the step until round-off is
    amplified (use ``None`` with ``kvaerno5``). ``max_steps`` bounds the steps
    of one segment (between sessions); :func:`step_budget` raises it for
    segments longer than ``max_steps / 2`` steps of ``dtmax``. ``throw``: raise
    inside the solve on failure (diffrax's behaviour, for direct calls of
    :data:`simulate_many`); :func:`simulate_layered` and
    :func:`simulate_layered_batch` solve with ``throw=False``, check every
    segment and retry failed patients with :func:`fallback_options` before
    raising :class:`~needlesim.solve.errors.SolveError`.

    ``adjoint``: how derivatives through the solve are taken: ``"checkpoint"``
    (diffrax ``RecursiveCheckpointAdjoint``, reverse mode, ``jax.grad``) or
    ``"forward"`` (diffrax ``ForwardMode``, for ``jax.jvp``/``jax.jacfwd``:
    cheaper for a few parameters and many outputs).
    """

    rtol: float = 1e-5
    atol: float = 1e-8
    method: str = "ark5"
    pcoeff: float = 0.0
    icoeff: float = 1.0
    dtmax: float | None = 1.0
    max_steps: int = 8192
    adjoint: str = "checkpoint"
    throw: bool = True


STEPS_PER_DTMAX = 2
"""Step budget per ``dtmax`` of segment length (room for a rejected step each)."""


def step_budget(options: SolverOptions, session_days: np.ndarray, t_end: float | np.ndarray) -> int:
    """``max_steps`` for a course: at least ``STEPS_PER_DTMAX`` steps per ``dtmax`` of the
    longest segment, rounded up to a power of two (few recompiles); never below
    ``options.max_steps`` (so ordinary courses keep their compiled solve). ``t_end``: one
    end, or one per row of ``session_days[b, n]``."""
    if options.dtmax is None:
        return options.max_steps
    end = np.asarray(t_end, dtype=np.float64)[..., None]
    start = np.minimum(np.asarray(session_days, dtype=np.float64), end)
    stop = np.concatenate([start[..., 1:], np.broadcast_to(end, (*start.shape[:-1], 1))], axis=-1)
    longest = float(np.max(stop - start, initial=0.0))
    needed = int(np.ceil(STEPS_PER_DTMAX * longest / options.dtmax))
    if needed <= options.max_steps:
        return options.max_steps
    return 1 << (needed - 1).bit_length()


FALLBACK_DTMAX = 0.25
"""Step cap (days) of the fallback solve."""
FALLBACK_STEPS_FACTOR = 4
"""The fallback's step budget over the default ``max_steps`` (at least)."""


def fallback_options(options: SolverOptions) -> SolverOptions:
    """The retry of a failed solve: fully implicit Kvaerno5 (dense Jacobian, robust to stiff
    reactions), steps capped at :data:`FALLBACK_DTMAX`, four times the step budget."""
    dtmax = FALLBACK_DTMAX if options.dtmax is None else min(options.dtmax, FALLBACK_DTMAX)
    steps = FALLBACK_STEPS_FACTOR * max(options.max_steps, SolverOptions.max_steps)
    return replace(options, method="kvaerno5", dtmax=dtmax, max_steps=steps, throw=False)


def layered_rhs(y: Array, p: Parameters, c: Compartments, thickness_um: Array) -> Array:
    """``dy/dt`` of the layered model: reactions + exchange, ``y[..., 5, N_SPECIES]``."""
    return reaction_rates(y, p, c) + exchange_rates(
        y, thickness_um, p.mediator_diffusivity_um2_per_day
    )


def _vector_field(t: Any, yp: Array, args: Any) -> Array:
    p, c, h, _ = args
    return pack(layered_rhs(unpack(yp), p, c, h))


def _explicit_field(t: Any, yp: Array, args: Any) -> Array:
    """Non-stiff part: ``reaction_rates + lambda y``."""
    p, c, _, lam = args
    y = unpack(yp)
    return pack(reaction_rates(y, p, c) + lam * y)


def _implicit_field(t: Any, yp: Array, args: Any) -> Array:
    """Stiff linear part: ``-lambda y + exchange(y)``."""
    p, _, h, lam = args
    y = unpack(yp)
    return pack(exchange_rates(y, h, p.mediator_diffusivity_um2_per_day) - lam * y)


def _adjoint(options: SolverOptions) -> dfx.AbstractAdjoint:
    import diffrax as dfx  # imported on first solve: a cached export never needs it

    if options.adjoint == "checkpoint":
        return dfx.RecursiveCheckpointAdjoint()
    if options.adjoint == "forward":
        return dfx.ForwardMode()
    raise ValueError(f"unknown adjoint {options.adjoint!r}; use 'checkpoint' or 'forward'")


def _terms_and_solver(options: SolverOptions) -> tuple[Any, Any]:
    import diffrax as dfx

    from ._tridiagonal import LayerTridiagonal
    from .imex import LinearImplicitARK5

    if options.method == "kvaerno5":
        return dfx.ODETerm(_vector_field), dfx.Kvaerno5()
    if options.method == "ark5":
        terms: dfx.MultiTerm[Any] = dfx.MultiTerm(
            dfx.ODETerm(_explicit_field), dfx.ODETerm(_implicit_field)
        )
        return terms, LinearImplicitARK5(LayerTridiagonal())
    raise ValueError(f"unknown method {options.method!r}; use 'ark5' or 'kvaerno5'")


_Segment = tuple[Array, Array, SessionInjury, Array, Array]


def _run_segments(
    p: Parameters,
    cov: Covariates,
    session_days: Array,
    injuries: SessionInjury,
    seg_ts: Array,
    t_end: Array,
    options: SolverOptions,
) -> tuple[Array, Array, Array, Array]:
    """Integrate one patient's course segment by segment (see the module docstring).

    ``seg_ts[segment, column]``: the days each segment saves (clipped to the
    segment). Returns the packed saves ``[segment, column, N_LIVE]``, the rest
    state ``[5, N_SPECIES]``, the steps per segment and whether each segment
    succeeded (solver success and finite saves).
    """
    import diffrax as dfx

    c = compartments(p, cov)
    y_rest = baseline_state(p, cov)
    args = (p, c, cov.thickness_um, linear_loss_rates(p, c))
    t0 = jnp.minimum(session_days, t_end)
    t1 = jnp.concatenate([t0[1:], t_end[None]])
    applies = (session_days <= t_end).astype(seg_ts.dtype)
    term, solver = _terms_and_solver(options)
    adjoint = _adjoint(options)
    controller = dfx.PIDController(
        rtol=options.rtol,
        atol=options.atol,
        pcoeff=options.pcoeff,
        icoeff=options.icoeff,
        dtmax=options.dtmax,
    )

    def segment(yp: Array, xs: _Segment) -> tuple[Array, Any]:
        start, stop, injury, weight, ts = xs
        injury = SessionInjury(*(x * weight for x in injury))
        y0 = apply_injury(unpack(yp), injury, p)
        sol = dfx.diffeqsolve(
            term,
            solver,
            start,
            stop,
            None,
            pack(y0),
            args=args,
            saveat=dfx.SaveAt(ts=jnp.clip(ts, start, stop), t1=True),
            stepsize_controller=controller,
            max_steps=options.max_steps,
            adjoint=adjoint,
            throw=options.throw,
        )
        ys = sol.ys
        assert ys is not None
        ok = (sol.result == dfx.RESULTS.successful) & jnp.all(jnp.isfinite(ys))
        return ys[-1], (ys[:-1], sol.stats["num_steps"], ok)

    _, (ys, steps, ok) = jax.lax.scan(segment, pack(y_rest), (t0, t1, injuries, applies, seg_ts))
    return ys, y_rest, steps, ok


def _simulate_checked(
    p: Parameters,
    cov: Covariates,
    session_days: Array,
    injuries: SessionInjury,
    save_days: Array,
    options: SolverOptions,
) -> tuple[Array, Array, Array, Array]:
    """One patient: (states[n_save, 5, N_SPECIES], baseline[5, N_SPECIES], steps[n_sessions],
    ok[n_sessions]).

    Every segment saves at every save day clipped to it (session days may differ
    between patients under ``vmap``); see :func:`_simulate_segments` for the
    cheaper path when the sessions are shared.
    """
    order = jnp.argsort(save_days)
    save_days = save_days[order]
    seg_ts = jnp.broadcast_to(save_days, (session_days.shape[0], save_days.shape[0]))
    ys, y_rest, steps, ok = _run_segments(
        p, cov, session_days, injuries, seg_ts, jnp.max(save_days), options
    )
    k = jnp.sum(session_days[None, :] <= save_days[:, None], axis=1) - 1
    chosen = ys[jnp.maximum(k, 0), jnp.arange(save_days.shape[0])]
    chosen = jnp.where((k >= 0)[:, None], chosen, pack(y_rest)[None, :])
    unsorted = jnp.zeros_like(chosen).at[order].set(chosen)
    return unpack(unsorted), y_rest, steps, ok


def _simulate(
    p: Parameters,
    cov: Covariates,
    session_days: Array,
    injuries: SessionInjury,
    save_days: Array,
    options: SolverOptions,
) -> tuple[Array, Array, Array]:
    """:func:`_simulate_checked` without the success flags."""
    return _simulate_checked(p, cov, session_days, injuries, save_days, options)[:3]


_simulate_one = jax.jit(_simulate_checked, static_argnames=("options",))
_simulate_checked_many = jax.jit(
    jax.vmap(_simulate_checked, in_axes=(0, 0, 0, 0, None, None)), static_argnames=("options",)
)
simulate_many = jax.jit(
    jax.vmap(_simulate, in_axes=(0, 0, 0, 0, None, None)), static_argnames=("options",)
)
"""The compiled solve of a batch: ``(params, covariates, session_days, injuries)`` with a
leading patient axis, ``save_days`` and ``options`` shared; returns the saved states,
the rest states and the step counts per patient (what :func:`simulate_layered_batch` and the
calibration's differentiable model call)."""

SEGMENT_SAVE_QUANTUM = 16
"""Per-segment save lists are padded to a multiple of this (limits recompiles)."""


@dataclass(frozen=True)
class SegmentSaves:
    """Save days split by segment, for session days shared by every patient.

    ``ts[segment, column]``: the save days of each segment (from one session to
    the next, the last one to ``t_end``), ascending, padded with the segment's
    end; ``segment[i]``, ``column[i]``: where save day ``i`` (in the order given)
    is in ``ts``, ``segment = -1`` for days before the first session (rest state).
    """

    ts: np.ndarray
    segment: np.ndarray
    column: np.ndarray
    t_end: float

    @classmethod
    def of(cls, session_days: np.ndarray, save_days: np.ndarray) -> SegmentSaves:
        save = np.asarray(save_days, dtype=np.float64)
        sessions = np.asarray(session_days, dtype=np.float64)
        t_end = float(save.max())
        t0 = np.minimum(sessions, t_end)
        t1 = np.append(t0[1:], t_end)
        segment = np.searchsorted(sessions, save, side="right") - 1
        column = np.zeros(save.size, dtype=np.int64)
        rows: list[np.ndarray] = []
        for k in range(sessions.size):
            mine = np.flatnonzero(segment == k)
            mine = mine[np.argsort(save[mine], kind="stable")]
            column[mine] = np.arange(mine.size)
            rows.append(save[mine])
        width = max(1, max(r.size for r in rows))
        width = -(-width // SEGMENT_SAVE_QUANTUM) * SEGMENT_SAVE_QUANTUM
        ts = np.stack(
            [np.concatenate([r, np.full(width - r.size, t1[k])]) for k, r in enumerate(rows)]
        )
        return cls(ts=ts, segment=segment, column=column, t_end=t_end)

    @staticmethod
    def rows(session_days: np.ndarray, save_days: np.ndarray) -> RowSaves:
        """Per-row sessions ``[b, n]`` and save days ``[b, m]``: each row's
        :meth:`of`, padded to common widths (see :class:`RowSaves`)."""
        sessions = np.asarray(session_days, dtype=np.float64)
        save = np.asarray(save_days, dtype=np.float64)
        distinct: dict[bytes, SegmentSaves] = {}
        per_row = []
        for s_row, d_row in zip(sessions, save, strict=True):
            key = s_row.tobytes() + d_row.tobytes()
            if key not in distinct:
                distinct[key] = SegmentSaves.of(s_row, d_row)
            per_row.append(distinct[key])
        width = max(r.ts.shape[1] for r in per_row)
        ts = np.stack([np.pad(r.ts, ((0, 0), (0, width - r.ts.shape[1])), mode="edge")
                       for r in per_row])  # fmt: skip
        return RowSaves(
            ts=ts,
            segment=np.stack([r.segment for r in per_row]),
            column=np.stack([r.column for r in per_row]),
            t_end=np.array([r.t_end for r in per_row]),
        )


@dataclass(frozen=True)
class RowSaves:
    """:class:`SegmentSaves` of rows with their own sessions and save days (a batch of
    different courses): ``ts[b, segment, column]`` (each row's segments padded by repeating
    their end), ``segment[b, m]``, ``column[b, m]``, ``t_end[b]``."""

    ts: np.ndarray
    segment: np.ndarray
    column: np.ndarray
    t_end: np.ndarray


def _simulate_segments(
    p: Parameters,
    cov: Covariates,
    session_days: Array,
    injuries: SessionInjury,
    seg_ts: Array,
    t_end: Array,
    options: SolverOptions,
) -> tuple[Array, Array, Array, Array]:
    """One patient, sessions shared: (packed saves ``[segment, column, N_LIVE]``, rest, steps,
    ok).

    The same integration as :func:`_simulate` (same segments, steps and dense
    output), but each segment saves only its own days (``seg_ts``, from
    :class:`SegmentSaves`) instead of every save day clipped to the segment.
    """
    return _run_segments(p, cov, session_days, injuries, seg_ts, t_end, options)


_simulate_segments_one = jax.jit(_simulate_segments, static_argnames=("options",))
_simulate_segments_many = jax.jit(
    jax.vmap(_simulate_segments, in_axes=(0, 0, None, 0, None, None, None)),
    static_argnames=("options",),
)


def _segments_one(
    args: tuple[Any, ...], options: SolverOptions, use_cache: bool
) -> tuple[Array, Array, Array, Array]:
    """:func:`_simulate_segments` of one patient: from the export cache when allowed and
    it works, else the plain jitted call (the same program)."""
    if use_cache:
        solve = functools.partial(_simulate_segments, options=options)
        out = export_cache.cached_call("layered_segments", solve, args, options)
        if out is not None:
            return tuple(out)
    return _simulate_segments_one(*args, options)


def _segments_many(
    args: tuple[Any, ...], options: SolverOptions, use_cache: bool
) -> tuple[Array, Array, Array, Array]:
    """:func:`_simulate_segments` vmapped over patients (sessions shared), as
    :func:`_segments_one`."""
    if use_cache:
        solve = jax.vmap(
            functools.partial(_simulate_segments, options=options),
            in_axes=(0, 0, None, 0, None, None),
        )
        out = export_cache.cached_call("layered_segments_batch", solve, args, options)
        if out is not None:
            return tuple(out)
    return _simulate_segments_many(*args, options)


def _segments_rows(
    args: tuple[Any, ...], options: SolverOptions, use_cache: bool
) -> tuple[Array, Array, Array, Array]:
    """:func:`_simulate_segments` vmapped over rows that each have their own sessions and
    saves (a batch of different courses), as :func:`_segments_one`."""
    solve = jax.vmap(functools.partial(_simulate_segments, options=options))
    if use_cache:
        out = export_cache.cached_call("layered_segments_rows", solve, args, options)
        if out is not None:
            return tuple(out)
    return _simulate_segments_rows(*args, options)


_simulate_segments_rows = jax.jit(jax.vmap(_simulate_segments, in_axes=(0,) * 6 + (None,)),
                                  static_argnames=("options",))  # fmt: skip


@jax.jit
def _select_saves(ys: Array, rest: Array, segment: Array, column: Array) -> Array:
    """States ``[..., n_save, 5, N_SPECIES]`` from the per-segment saves ``ys``."""
    chosen = ys[..., jnp.maximum(segment, 0), column, :]
    rest_p = pack(rest)[..., None, :]
    return unpack(jnp.where((segment >= 0)[:, None], chosen, rest_p))


@dataclass(frozen=True, eq=False)
class Trajectory:
    """States of the layered model at the save days.

    ``states[..., time, layer, species]`` (leading axes: patients, for a batch),
    ``baseline[..., layer, species]`` the rest state of each patient,
    ``days`` the save days (from the first session's calendar: the same days as
    given), ``steps[..., segment]`` the solver steps (accepted and rejected) per segment.
    Units and normalisation of each species: ``units`` (see
    :mod:`needlesim.biology.state`).
    """

    days: Array
    states: Array
    baseline: Array
    steps: Array
    species: tuple[str, ...] = field(default=SPECIES_NAMES)
    units: tuple[str, ...] = field(default=SPECIES_UNITS)
    layers: tuple[str, ...] = field(default=LAYERS)

    def get(self, species: str) -> Array:
        """``[..., time, layer]`` of one species."""
        return self.states[..., index(species)]

    def relative(self, species: str) -> Array:
        """``[..., time, layer]``: value over the patient's rest value (NaN where absent)."""
        i = index(species)
        rest = self.baseline[..., None, :, i]
        return jnp.where(rest > 0, self.states[..., i] / jnp.where(rest > 0, rest, 1.0), jnp.nan)


def _as_injuries(injuries: SessionInjury) -> SessionInjury:
    return SessionInjury(*(jnp.asarray(x, dtype=jnp.float64) for x in injuries))


def _check_sessions(session_days: np.ndarray) -> None:
    if session_days.ndim == 0 or session_days.shape[-1] == 0:
        raise ValueError("need at least one session (use SessionInjury.none(1) for none)")
    if np.any(np.diff(session_days, axis=-1) < 0):
        raise ValueError(f"session_days must be sorted ascending, got {session_days}")


def _patient_ok(ok: Array) -> np.ndarray:
    """``ok[..., segment]`` -> whether each patient's whole course succeeded (``[...]``)."""
    return np.asarray(np.asarray(ok).all(axis=-1))


def _failed_where(ok: Array, session_days: np.ndarray) -> tuple[list[int], int, float]:
    """Failed patients and the first failed segment of the first of them (index, start day)."""
    flags = np.asarray(ok)
    flags = flags.reshape(-1, flags.shape[-1])
    bad = [int(i) for i in np.flatnonzero(~flags.all(axis=-1))]
    k = int(np.argmin(flags[bad[0]]))
    days = np.asarray(session_days, dtype=np.float64).reshape(-1, flags.shape[-1])
    return bad, k, float(days[min(bad[0], days.shape[0] - 1), k])


def _solve_checked(
    call: Callable[[SolverOptions], tuple[Array, ...]],
    options: SolverOptions,
    session_days: np.ndarray,
    t_end: float | np.ndarray,
) -> tuple[Array, ...]:
    """Run ``call`` (its last output: ``ok[..., segment]``) with a step budget for the
    course; retry with :func:`fallback_options` if any patient failed; merge per patient.

    Raises :class:`SolveError` if a patient fails both ways.
    """
    opts = replace(options, throw=False, max_steps=step_budget(options, session_days, t_end))
    first = call(opts)
    ok = _patient_ok(first[-1])
    if ok.all():
        return first[:-1]
    fallback = fallback_options(opts)
    budget = max(fallback.max_steps, step_budget(fallback, session_days, t_end))
    retry = call(replace(fallback, max_steps=budget))
    ok_retry = _patient_ok(retry[-1])
    if not (ok | ok_retry).all():
        failed = np.asarray(first[-1]) & np.asarray(retry[-1])
        bad, k, day = _failed_where(failed, session_days)
        who = "the patient" if ok.ndim == 0 else f"patient {bad[0]} of {ok.size}"
        if len(bad) > 1:
            who += f" (and {len(bad) - 1} more)"
        raise SolveError(
            f"The layered solver could not integrate {who} from session {k + 1} (day {day:g}) "
            "on, even when retried with the implicit Kvaerno5 method and steps of at most "
            f"{FALLBACK_DTMAX:g} days; try fewer passes, shorter needles or longer intervals "
            "between sessions, and report the configuration if it is within the documented "
            "limits.",
            tuple(bad),
        )
    keep = jnp.asarray(ok)

    def merge(a: Array, b: Array) -> Array:
        mask = keep.reshape(keep.shape + (1,) * (a.ndim - keep.ndim))
        return jnp.where(mask, a, b)

    return tuple(merge(a, b) for a, b in zip(first[:-1], retry[:-1], strict=True))


def simulate_layered(
    params: Parameters,
    patient: Covariates,
    session_days: ArrayLike,
    injuries: SessionInjury,
    save_days: ArrayLike,
    options: SolverOptions = SolverOptions(),
    *,
    use_cache: bool = True,
) -> Trajectory:
    """Simulate one patient's course with the layered model.

    ``session_days[n]`` (sorted), ``injuries`` with a leading session axis ``n``
    (``injured_fraction[n, 5]``, the others ``[n]``), ``save_days[m]`` (any
    order). Returns a :class:`Trajectory` with ``states[m, 5, N_SPECIES]``.
    ``use_cache``: load the traced solve from the on-disk export cache
    (:mod:`needlesim.solve.export_cache`; same results, no tracing in a second
    process); False: the plain ``jax.jit`` path.
    """
    days = np.asarray(session_days, dtype=np.float64)
    _check_sessions(days)
    save = jnp.asarray(save_days, dtype=jnp.float64)
    if isinstance(save_days, jax.core.Tracer):  # save days not known here: every segment saves all
        states, rest, steps, _ = _simulate_one(
            params, patient, jnp.asarray(days), _as_injuries(injuries), save, options
        )
        return Trajectory(days=save, states=states, baseline=rest, steps=steps)
    saves = SegmentSaves.of(days, np.asarray(save_days, dtype=np.float64))
    args = (
        params,
        patient,
        jnp.asarray(days),
        _as_injuries(injuries),
        jnp.asarray(saves.ts),
        jnp.asarray(saves.t_end),
    )
    ys, rest, steps = _solve_checked(
        lambda opts: _segments_one(args, opts, use_cache), options, days, saves.t_end
    )
    states = _select_saves(ys, rest, jnp.asarray(saves.segment), jnp.asarray(saves.column))
    return Trajectory(days=save, states=states, baseline=rest, steps=steps)


def simulate_layered_batch(
    params: Parameters,
    patients: Covariates,
    session_days: ArrayLike,
    injuries: SessionInjury,
    save_days: ArrayLike,
    options: SolverOptions = SolverOptions(),
    *,
    use_cache: bool = True,
) -> Trajectory:
    """Simulate ``b`` patients at once (``jax.vmap``).

    ``params`` and ``patients`` carry a leading patient axis (a single parameter
    set is broadcast); ``session_days[b, n]`` or ``[n]`` (shared);
    ``injuries`` fields ``[b, n, ...]`` or ``[n, ...]`` (shared); ``save_days[m]``
    shared, or ``[b, m]`` (each row its own course: then the trajectory's ``days`` are
    ``[b, m]`` too). Returns ``states[b, m, 5, N_SPECIES]``. ``use_cache``: as
    :func:`simulate_layered` (used for shared session days and for per-row saves).
    """
    b = int(np.shape(patients.age_years)[0])
    days = np.asarray(session_days, dtype=np.float64)
    _check_sessions(days)
    days_b = jnp.broadcast_to(jnp.asarray(days), (b, days.shape[-1]))
    inj = _as_injuries(injuries)
    single_ndim = (2, 1, 1, 1, 1)
    inj_b = SessionInjury(
        *(
            jnp.broadcast_to(x, (b, *x.shape)) if x.ndim == nd else x
            for x, nd in zip(inj, single_ndim, strict=True)
        )
    )
    cov = Covariates(
        jnp.broadcast_to(jnp.asarray(patients.thickness_um, jnp.float64), (b, N_LAYERS)),
        jnp.broadcast_to(jnp.asarray(patients.age_years, jnp.float64), (b,)),
        jnp.broadcast_to(jnp.asarray(patients.fitzpatrick, jnp.float64), (b,)),
    )
    save = jnp.asarray(save_days, dtype=jnp.float64)
    if save.ndim == 2:
        # every row its own course: each segment saves only its own days, per row
        rows = SegmentSaves.rows(np.broadcast_to(days, (b, days.shape[-1])), np.asarray(save))
        pb = params.broadcast((b,))
        args = (pb, cov, days_b, inj_b, jnp.asarray(rows.ts), jnp.asarray(rows.t_end))
        ys, rest, steps = _solve_checked(
            lambda opts: _segments_rows(args, opts, use_cache),
            options,
            np.broadcast_to(days, (b, days.shape[-1])),
            rows.t_end,
        )
        states = jax.vmap(_select_saves)(
            ys, rest, jnp.asarray(rows.segment), jnp.asarray(rows.column)
        )
        return Trajectory(days=save, states=states, baseline=rest, steps=steps)
    if days.ndim == 1 and not isinstance(save_days, jax.core.Tracer):
        # shared sessions: each segment saves only its own days
        saves = SegmentSaves.of(days, np.asarray(save_days, dtype=np.float64))
        pb = params.broadcast((b,))
        args = (pb, cov, jnp.asarray(days), inj_b, jnp.asarray(saves.ts), jnp.asarray(saves.t_end))
        ys, rest, steps = _solve_checked(
            lambda opts: _segments_many(args, opts, use_cache), options, days, saves.t_end
        )
        states = _select_saves(ys, rest, jnp.asarray(saves.segment), jnp.asarray(saves.column))
        return Trajectory(days=save, states=states, baseline=rest, steps=steps)
    if isinstance(save_days, jax.core.Tracer):
        states, rest, steps = simulate_many(
            params.broadcast((b,)), cov, days_b, inj_b, save, options
        )
        return Trajectory(days=save, states=states, baseline=rest, steps=steps)
    pb = params.broadcast((b,))
    states, rest, steps = _solve_checked(
        lambda opts: _simulate_checked_many(pb, cov, days_b, inj_b, save, opts),
        options,
        np.broadcast_to(days, (b, days.shape[-1])),
        float(np.max(np.asarray(save_days))),
    )
    return Trajectory(days=save, states=states, baseline=rest, steps=steps)
