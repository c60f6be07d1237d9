"""Adaptive time stepping: error control, step-size selection and compiled chunks.

Each trial step is one Rosenbrock step (:mod:`needlesim.patch.rosenbrock`;
ROS34PW2 by default, order 3 with an embedded order-2 solution; ROS2, order
2 with an embedded order-1 one, optionally) whose error estimate ``e`` (the
difference of the two solutions) is measured against the weights
``sc = atol_s + rtol max(|y_n|, |y_{n+1}|)`` (per-species absolute
tolerances) in the max norm over all voxels (default: a localised channel
injury is not diluted by the unhurt tissue) or the RMS norm,

    err = max |e / sc|.

The step is accepted when ``err <= 1``, the Krylov solves converged and no
species marked non-negative went below ``-atol``; the next step is

    h_new = h min(f_max, max(f_min, 0.9 err^(-1/(q+1))))

with ``q`` the embedded order (the estimate is ``O(h^(q+1))``; the accepted
solution is the higher-order one).
Steps are clipped to land exactly on output times and sessions; a clipped step
does not shrink the next proposal. After a session (a jump of the state) the
step restarts from ``dt_after_session_days``.

The loop runs inside :func:`jax.lax.while_loop` in chunks of at most
``steps_per_chunk`` step attempts; a step depends only on ``(y, t, h)``, so
chunking, checkpoints and restarts do not change the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..geometry.diffusion import Lateral
from ..geometry.grid import PatchGrid
from .krylov import KrylovWorkspace
from .model import Params, PatchModel
from .output import lateral_mean
from .reaction import voxel_context
from .rosenbrock import TABLEAUS, KrylovOptions, RosenbrockSystem, RosenbrockTableau

STATUS_OK = 0
STATUS_STEP_TOO_SMALL = 1


@dataclass(frozen=True)
class StepperOptions:
    """Tolerances, step limits and scheme choices of the patch integrator (times in days).

    ``atol`` is one value or one per species (in that species' unit).
    ``lateral`` picks the lateral diffusion symbol (``"fd2"``: second-order
    finite differences, ``"spectral"``: exact for the periodic directions).
    ``method`` is the Rosenbrock tableau, ``chemotaxis_jacobian`` the
    approximation of the chemotaxis Jacobian in the stage matrices.
    ``krylov_tol`` is the RMS residual of the scaled stage systems in units of
    the error tolerance; ``krylov_restart`` and ``krylov_max_restarts`` bound
    the GMRES work (a step whose solves do not converge is retried smaller).
    ``preconditioner_precision``: precision of the preconditioner's FFT and
    tridiagonal solves and of the GMRES storage (Arnoldi basis and directions);
    ``"auto"`` is single precision for ``rtol >= 1e-5`` (its rounding, ~1e-7, is
    far below what GMRES is asked to resolve) and double below.
    ``jacobian_precision``: precision in which the kinetics are linearised for the
    products with the stage matrix ``W = I - gamma h J`` (same ``"auto"`` rule): a
    W-method keeps its order with any approximation of ``J``, the same in every stage,
    so a Jacobian good to ~1e-7 costs no accuracy, and its saved intermediates take half
    the memory. The state, the right-hand sides, the residuals and the dot products are
    double precision in every case.
    """

    rtol: float = 1e-3
    atol: float | tuple[float, ...] = 1e-6
    dt_initial_days: float = 1e-3
    dt_after_session_days: float = 1e-4
    dt_min_days: float = 1e-10
    dt_max_days: float = 5.0
    safety: float = 0.9
    factor_min: float = 0.2
    factor_max: float = 5.0
    norm: Literal["max", "rms"] = "max"
    lateral: Lateral = "fd2"
    method: Literal["ros34pw2", "ros2"] = "ros34pw2"
    chemotaxis_jacobian: Literal["upwind", "exact"] = "upwind"
    krylov_tol: float = 1e-2
    krylov_restart: int = 6
    krylov_max_restarts: int = 6
    steps_per_chunk: int = 32
    preconditioner_precision: Literal["auto", "float32", "float64"] = "auto"
    jacobian_precision: Literal["auto", "float32", "float64"] = "auto"

    def __post_init__(self) -> None:
        if not (self.rtol > 0 or np.max(self.atol) > 0):
            raise ValueError("rtol and atol cannot both be zero")
        if not 0 < self.dt_min_days <= self.dt_max_days:
            raise ValueError("need 0 < dt_min_days <= dt_max_days")
        if self.norm not in ("max", "rms"):
            raise ValueError(f"norm must be 'max' or 'rms', got {self.norm!r}")
        if not self.krylov_tol > 0 or self.krylov_restart < 1 or self.krylov_max_restarts < 1:
            raise ValueError("krylov_tol must be > 0, krylov_restart and max_restarts >= 1")
        if self.steps_per_chunk < 1:
            raise ValueError("steps_per_chunk must be >= 1")
        if self.method not in TABLEAUS:
            raise ValueError(f"method must be one of {sorted(TABLEAUS)}, got {self.method!r}")
        for name in ("preconditioner_precision", "jacobian_precision"):
            if getattr(self, name) not in ("auto", "float32", "float64"):
                raise ValueError(
                    f"{name} must be 'auto', 'float32' or 'float64', got {getattr(self, name)!r}"
                )

    @property
    def tableau(self) -> RosenbrockTableau:
        return TABLEAUS[self.method]

    def _dtype(self, precision: str) -> Any:
        if precision == "auto":
            precision = "float32" if self.rtol >= 1e-5 else "float64"
        return jnp.float32 if precision == "float32" else jnp.float64

    @property
    def preconditioner_dtype(self) -> Any:
        """The dtype of the preconditioner's solves (see ``preconditioner_precision``)."""
        return self._dtype(self.preconditioner_precision)

    @property
    def jacobian_dtype(self) -> Any:
        """The dtype of the kinetics' linearisation (see ``jacobian_precision``)."""
        return self._dtype(self.jacobian_precision)

    @property
    def krylov(self) -> KrylovOptions:
        return KrylovOptions(self.krylov_tol, self.krylov_restart, self.krylov_max_restarts)

    def atol_array(self, n_species: int) -> np.ndarray:
        a = np.asarray(self.atol, dtype=np.float64)
        if a.ndim == 0:
            return np.full(n_species, float(a))
        if a.shape != (n_species,):
            raise ValueError(f"atol needs one value or {n_species} (one per species)")
        return a

    def fingerprint(self) -> str:
        return repr(self)


RECORD_SLOTS = 64
"""Depth profiles one compiled call of :meth:`PatchIntegrator.advance_recording` can record."""


class StepState(NamedTuple):
    """The integrator's state between steps (all JAX scalars but ``y``)."""

    y: jax.Array
    t: jax.Array
    dt: jax.Array
    accepted: jax.Array
    rejected: jax.Array
    status: jax.Array
    krylov_iterations: jax.Array


class PatchIntegrator:
    """Compiled stepping functions for one model on one grid.

    Build once, then call :meth:`advance` (adaptive, to a stop time),
    :meth:`fixed` (fixed steps, for convergence studies), :meth:`rhs` or
    :meth:`injure`. ``params`` is always an argument, never baked in, so one
    integrator serves many parameter sets without recompiling.
    """

    def __init__(
        self, grid: PatchGrid, model: PatchModel, options: StepperOptions | None = None
    ) -> None:
        self.grid = grid
        self.model = model
        self.options = options or StepperOptions()
        o = self.options
        self.system = RosenbrockSystem.build(grid, model, o.lateral)
        self._atol = jnp.asarray(o.atol_array(model.n_species)).reshape((-1, 1, 1, 1))
        self._nonneg = np.flatnonzero(model.nonnegative_mask())
        # auxiliary per-voxel inputs travel as arguments (not compile-time constants)
        self._aux = jax.tree.map(jnp.asarray, model.aux)
        self._advance = jax.jit(self._advance_impl)
        self._fixed = jax.jit(self._fixed_impl)
        self._trial = jax.jit(self._trial_impl)
        self._rhs = jax.jit(self.system.rhs)
        self._injure = jax.jit(self._injure_impl)

    # public API ------------------------------------------------------------------

    def initial_state(self, y0: jax.Array | np.ndarray, t0: float) -> StepState:
        """The stepping state at ``t0`` with the initial step size from the options."""
        y = jnp.asarray(y0, dtype=jnp.float64)
        expected = (self.model.n_species, *self.grid.shape)
        if y.shape != expected:
            raise ValueError(f"state must have shape {expected}, got {y.shape}")
        return StepState(
            y=y,
            t=jnp.asarray(t0, dtype=jnp.float64),
            dt=jnp.asarray(self.options.dt_initial_days, dtype=jnp.float64),
            accepted=jnp.asarray(0, dtype=jnp.int64),
            rejected=jnp.asarray(0, dtype=jnp.int64),
            status=jnp.asarray(STATUS_OK, dtype=jnp.int32),
            krylov_iterations=jnp.asarray(0, dtype=jnp.int64),
        )

    def advance(
        self, state: StepState, t_stop: float, params: Params, max_steps: int | None = None
    ) -> StepState:
        """Adaptive steps towards ``t_stop``: returns when it is reached, after
        ``max_steps`` step attempts (default ``steps_per_chunk``) or on failure."""
        return self.advance_recording(state, t_stop, params, (), max_steps)[0]

    def advance_recording(
        self,
        state: StepState,
        t_stop: float,
        params: Params,
        record_days: Sequence[float],
        max_steps: int | None = None,
    ) -> tuple[StepState, np.ndarray]:
        """:meth:`advance`, landing on each of ``record_days`` (increasing, in
        ``(state.t, t_stop)``, at most :data:`RECORD_SLOTS`) on the way and recording the
        depth profile (the lateral mean, ``(S, nz)``) there, inside the compiled loop; it
        also returns once all :data:`RECORD_SLOTS` are filled.

        The steps are those of stopping at every record day (each day clips a step as a
        stop does, without shrinking the next proposal), so the states are the same bit
        for bit; but one compiled call covers many days, and every call of a compiled
        chunk maps and zeroes its temporaries afresh (at the standard patch's size about
        6 GB). Returns the state and the profiles of the days reached, in order."""
        days = np.asarray(record_days, dtype=np.float64)
        if days.size > RECORD_SLOTS:
            raise ValueError(f"at most {RECORD_SLOTS} record days per call, got {days.size}")
        if days.size and (
            np.any(np.diff(days) <= 0) or days[0] <= float(state.t) or days[-1] >= t_stop
        ):
            raise ValueError("record days must increase strictly inside (state.t, t_stop)")
        padded = np.full(RECORD_SLOTS, np.inf)
        padded[: days.size] = days
        n = self.options.steps_per_chunk if max_steps is None else max_steps
        state, profiles, count = self._advance(
            state,
            jnp.asarray(t_stop, jnp.float64),
            params,
            jnp.asarray(n),
            self._aux,
            jnp.asarray(padded),
        )
        return state, np.asarray(profiles[: int(count)])

    def compiled_memory(self, state: StepState, params: Params) -> dict[str, int]:
        """Bytes that XLA's buffer assignment gives the compiled chunk of steps
        (:meth:`advance`) from ``state``: ``temp`` (every temporary of a step, at its
        peak), ``arguments`` and ``output``. For memory budgets; nothing is run."""
        compiled = self._advance.lower(
            state,
            jnp.asarray(float(state.t) + 1.0, jnp.float64),
            params,
            jnp.asarray(self.options.steps_per_chunk),
            self._aux,
            jnp.full(RECORD_SLOTS, jnp.inf),
        ).compile()
        m = compiled.memory_analysis()
        if m is None:  # a backend without the analysis
            raise RuntimeError("this JAX backend reports no memory analysis")
        return {
            "temp": int(m.temp_size_in_bytes),
            "arguments": int(m.argument_size_in_bytes),
            "output": int(m.output_size_in_bytes),
        }

    def trial(
        self, y: jax.Array, t: float, h: float, params: Params
    ) -> tuple[jax.Array, jax.Array]:
        """One trial step: ``(candidate, error norm)`` (``inf`` if a Krylov solve failed)."""
        y_new, err, _, _ = self._trial(
            y, jnp.asarray(t, jnp.float64), jnp.asarray(h, jnp.float64), params, self._aux
        )
        return y_new, err

    def fixed(self, y: jax.Array, t0: float, t1: float, n_steps: int, params: Params) -> jax.Array:
        """``n_steps`` equal Rosenbrock steps from ``t0`` to ``t1`` (no error control)."""
        return self._fixed(
            jnp.asarray(y, jnp.float64),
            jnp.asarray(t0, jnp.float64),
            jnp.asarray(t1, jnp.float64),
            jnp.asarray(n_steps),
            params,
            self._aux,
        )

    def rhs(self, y: jax.Array, t: float, params: Params) -> jax.Array:
        """The full right-hand side ``f(y)`` (diffusion + chemotaxis + reaction)."""
        return self._rhs(
            jnp.asarray(y, jnp.float64), jnp.asarray(t, jnp.float64), params, self._aux
        )

    def injure(
        self, y: jax.Array, damage: jax.Array | np.ndarray, t: float, params: Params
    ) -> jax.Array:
        """Apply the model's injury jump with a per-voxel ``damage`` field ``(nx, ny, nz)``
        (the injury function gets a scalar per voxel) or ``(k, nx, ny, nz)`` (a vector of
        ``k`` values per voxel)."""
        if self.model.injury is None:
            raise ValueError(f"model {self.model.name!r} has no injury function")
        d = jnp.asarray(damage, jnp.float64)
        if d.shape != self.grid.shape and not (d.ndim == 4 and d.shape[1:] == self.grid.shape):
            raise ValueError(
                f"damage must have the grid shape {self.grid.shape} or (k, *shape), got {d.shape}"
            )
        return self._injure(
            jnp.asarray(y, jnp.float64), d, jnp.asarray(t, jnp.float64), params, self._aux
        )

    # implementation ----------------------------------------------------------------

    def _scale(self, y: jax.Array) -> jax.Array:
        return self._atol + self.options.rtol * jnp.abs(y)

    def _workspace(self) -> KrylovWorkspace:
        o = self.options
        return self.system.krylov_workspace(o.krylov, o.preconditioner_dtype)

    def _trial_impl(
        self,
        y: jax.Array,
        t: jax.Array,
        h: jax.Array,
        params: Params,
        aux: Any,
        workspace: KrylovWorkspace | None = None,
    ) -> tuple[jax.Array, jax.Array, jax.Array, KrylovWorkspace]:
        """One trial step: candidate, error norm, Krylov iterations and the GMRES storage
        (``workspace``, reused across the steps of a compiled loop; fresh if ``None``)."""
        o = self.options
        scale_n = self._scale(y)
        res = self.system.step(
            y,
            t,
            h,
            params,
            scale_n,
            o.krylov,
            o.tableau,
            o.chemotaxis_jacobian,
            aux,
            o.preconditioner_dtype,
            workspace,
            o.jacobian_dtype,
        )
        # atol + rtol max(|y_n|, |y_n+1|) as the larger of the two steps' weights (the same
        # numbers, rounding being monotonic), the new one with the tolerances made
        # loop-variant (`0 t` is kept: XLA does not simplify it for floats). XLA's CPU
        # backend reduces the ratio in a library fusion that takes a loop-invariant
        # broadcast as a materialised operand: as constants, atol and rtol cost two
        # state-sized arrays (384 bytes per voxel of the step's temporaries).
        zero = 0.0 * t
        scale_new = (self._atol + zero) + (o.rtol + zero) * jnp.abs(res.y)
        scale = jnp.maximum(scale_n, scale_new)
        ratio = jnp.abs(res.error) / scale
        err = jnp.max(ratio) if o.norm == "max" else jnp.sqrt(jnp.mean(ratio**2))
        if self._nonneg.size:
            idx = jnp.asarray(self._nonneg)
            violation = jnp.max(-res.y[idx] / self._atol[idx])
            err = jnp.where(violation > 1.0, jnp.maximum(err, violation), err)
        err = jnp.where(jnp.isfinite(err) & res.krylov_converged, err, jnp.inf)
        return res.y, err, res.krylov_iterations, res.workspace

    def _advance_impl(
        self,
        state: StepState,
        t_stop: jax.Array,
        params: Params,
        max_steps: jax.Array,
        aux: Any,
        record_days: jax.Array,
    ) -> tuple[StepState, jax.Array, jax.Array]:
        o = self.options
        slots = record_days.shape[0]

        Carry = tuple[StepState, jax.Array, KrylovWorkspace, jax.Array, jax.Array]

        def cond(carry: Carry) -> jax.Array:
            s, n, _, _, k = carry
            # also returns once every slot is filled (the caller passes the next days)
            return (s.t < t_stop) & (s.status == STATUS_OK) & (n < max_steps) & (k < slots)

        def body(carry: Carry) -> Carry:
            s, n, work, profiles, k = carry
            pending = record_days[jnp.minimum(k, slots - 1)]
            recording = (k < slots) & (pending < t_stop)
            target = jnp.where(recording, pending, t_stop)
            remaining = target - s.t
            clipped = s.dt >= remaining
            h = jnp.where(clipped, remaining, s.dt)
            y_new, err, its, work = self._trial_impl(s.y, s.t, h, params, aux, work)
            ok = err <= 1.0
            factor = jnp.clip(
                o.safety
                * jnp.where(err > 0, err, 1e-30) ** (-1.0 / (o.tableau.embedded_order + 1)),
                o.factor_min,
                o.factor_max,
            )
            factor = jnp.where(ok, factor, jnp.minimum(factor, 0.9))
            grow_from_proposal = ok & clipped & (factor >= 1.0)
            dt_next = jnp.where(grow_from_proposal, jnp.maximum(s.dt, factor * h), factor * h)
            too_small = (~ok) & (dt_next < o.dt_min_days)
            dt_next = jnp.clip(dt_next, o.dt_min_days, o.dt_max_days)
            new = StepState(
                y=jnp.where(ok, y_new, s.y),
                t=jnp.where(ok, jnp.where(clipped, target, s.t + h), s.t),
                dt=dt_next,
                accepted=s.accepted + ok.astype(s.accepted.dtype),
                rejected=s.rejected + (~ok).astype(s.rejected.dtype),
                status=jnp.where(too_small, STATUS_STEP_TOO_SMALL, s.status).astype(jnp.int32),
                krylov_iterations=s.krylov_iterations + its.astype(jnp.int64),
            )
            landed = recording & ok & clipped
            profiles = jax.lax.cond(
                landed,
                lambda p: p.at[jnp.minimum(k, slots - 1)].set(lateral_mean(new.y)),
                lambda p: p,
                profiles,
            )
            return new, n + 1, work, profiles, k + landed.astype(k.dtype)

        profiles0 = jnp.zeros((slots, self.model.n_species, self.grid.shape[2]), state.y.dtype)
        start = (
            state,
            jnp.asarray(0, max_steps.dtype),
            self._workspace(),
            profiles0,
            jnp.asarray(0, jnp.int32),
        )
        final, _, _, profiles, count = jax.lax.while_loop(cond, body, start)
        return final, profiles, count

    def _fixed_impl(
        self, y: jax.Array, t0: jax.Array, t1: jax.Array, n: jax.Array, params: Params, aux: Any
    ) -> jax.Array:
        h = (t1 - t0) / n

        def body(
            i: jax.Array, carry: tuple[jax.Array, KrylovWorkspace]
        ) -> tuple[jax.Array, KrylovWorkspace]:
            u, work = carry
            o = self.options
            res = self.system.step(
                u,
                t0 + i * h,
                h,
                params,
                self._scale(u),
                o.krylov,
                o.tableau,
                o.chemotaxis_jacobian,
                aux,
                o.preconditioner_dtype,
                work,
                o.jacobian_dtype,
            )
            return res.y, res.workspace

        return jax.lax.fori_loop(0, n, body, (y, self._workspace()))[0]

    def _injure_impl(
        self, y: jax.Array, damage: jax.Array, t: jax.Array, params: Params, aux: Any
    ) -> jax.Array:
        assert self.model.injury is not None
        ctx, axes = voxel_context(self.grid, aux, t)
        s = self.model.n_species
        n = self.grid.n_voxels
        if damage.ndim == 4:
            f = jax.vmap(self.model.injury, in_axes=(1, 1, None, axes), out_axes=1)
            d = jnp.reshape(damage, (damage.shape[0], n))
        else:
            f = jax.vmap(self.model.injury, in_axes=(1, 0, None, axes), out_axes=1)
            d = jnp.reshape(damage, (n,))
        out = f(jnp.reshape(y, (s, n)), d, params, ctx)
        return jnp.reshape(out, y.shape)
