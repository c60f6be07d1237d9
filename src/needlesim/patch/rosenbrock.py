"""One step of the integrator: a Rosenbrock method on the whole reaction-transport system.

After discretisation in space (:mod:`.diffusion`, :mod:`.chemotaxis`) the
patch is one large ODE system ``y' = f(t, y) = D y + K(y) + R(t, y)``
(diffusion, chemotaxis, kinetics). It is advanced, unsplit, by an ``s``-stage
Rosenbrock method (Hairer and Wanner, Solving ODEs II, IV.7) with
coefficients ``alpha_ij`` (strictly lower), ``gamma_ij`` (lower, diagonal
``gamma``), weights ``b`` and embedded weights ``b^``:

    (I - gamma h J) k_i = h f(t + alpha_i h, y_n + sum_j alpha_ij k_j)
                          + h J sum_{j<i} gamma_ij k_j + gamma_i h^2 f_t
    y_{n+1} = y_n + sum_i b_i k_i,        e_{n+1} = sum_i (b_i - b^_i) k_i

with ``J = df/dy (t_n, y_n)``, ``f_t = df/dt (t_n, y_n)``, ``alpha_i`` and
``gamma_i`` the row sums. It is implemented in the transformed variables
``u = Gamma k`` (no products with ``J`` besides the linear solves). Two
tableaus are provided:

* ``"ros34pw2"`` (default; Rang and Angermann 2005, BIT 45:761): 4 stages,
  order 3, embedded order 2, L-stable (``R(-inf) = 0``) and stiffly accurate;
* ``"ros2"`` (Verwer, Spee, Blom and Hundsdorfer 1999, SIAM J Sci Comput
  20:1456): 2 stages, order 2, L-stable, embedded order 1 (``y_n + k_1``).

Why an unsplit linearly implicit method and not operator splitting:
L-stability damps the stiff modes (diffusion across a 20 um voxel takes
seconds, steps take days); the ``f_t`` terms keep quasi-steady fields
(cytokines relax in minutes) on their quasi-steady state when their sources
change; a steady state ``f(y*) = 0`` is preserved exactly for any step (all
``k_i = 0``), so an unhurt patch does not drift; and there is no splitting
error, in particular none at the interfaces between layers, where production,
decay and diffusion balance. (Strang splitting does not preserve such
balances, and its steady-state-preserving "balanced" variant is unstable once
diffusion is much stiffer than the local kinetics.)

The stage systems ``W u = r`` with ``W = I - gamma h J`` are solved by GMRES
(:mod:`.krylov`) in the variables scaled by the error weights
``sc = atol + rtol |y_n|``, to an RMS residual of ``krylov_tol`` (a small
fraction of the error tolerance), with the matrix-free product
``W v = v - gamma h (D v + K'(y_n) v + R'(y_n) v)`` (:func:`jax.linearize`:
no Jacobian is stored) and the preconditioner

    P = I - gamma h (D + L),   L_s(z) = min(0, max_{x,y} dR_s/dy_s)   (diffusing species)
    P = I - gamma h min(0, dR_s/dy_s)                                  (the others)

(``dR_s/dy_s`` from ``S`` Jacobian-vector products, or ``-lambda_s(layer)`` when
the model supplies its constant linear loss rates, :attr:`PatchModel.linear_decay`)

which is inverted exactly: FFT laterally, a tridiagonal system in depth per
lateral mode, factored once per step (the stages share ``gamma h``) and applied
by forward and back substitution; by default in single precision when the
tolerance allows (``StepperOptions.preconditioner_precision``): a preconditioner
only steers GMRES, whose residual and products with ``W`` stay in double
precision. ``L`` moves the stiff linear decay of each diffusing species
(uniform within a layer) into the exactly inverted part, so for diffusion with
decay GMRES converges in one iteration; couplings between species and the
chemotaxis are left to the Krylov iterations.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..geometry.chemotaxis import ChemotaxisOperator
from ..geometry.diffusion import DiffusionOperator, Lateral, ShiftedFactor
from ..geometry.grid import PatchGrid
from .krylov import KrylovWorkspace, fgmres, krylov_workspace
from .model import Params, PatchModel
from .reaction import ReactionOperator


@dataclass(frozen=True, eq=False)
class RosenbrockTableau:
    """Coefficients of a Rosenbrock method (untransformed form, see the module doc)."""

    name: str
    order: int
    embedded_order: int
    alpha: np.ndarray
    gamma: np.ndarray
    b: np.ndarray
    b_hat: np.ndarray

    @property
    def stages(self) -> int:
        return int(self.b.size)

    @property
    def gamma_diag(self) -> float:
        return float(self.gamma[0, 0])

    @property
    def transformed(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(a, c, m, e)`` of the transformed form ``u = Gamma k``:
        ``(I/(gamma h) - J) u_i = f(y + sum a_ij u_j) + sum_{j<i} c_ij / h u_j + gamma_i h f_t``,
        ``y_{n+1} = y + sum m_j u_j``, error ``sum e_j u_j``."""
        inv = np.linalg.inv(self.gamma)
        a = self.alpha @ inv
        c = np.diag(1.0 / np.diag(self.gamma)) - inv
        return a, c, self.b @ inv, (self.b - self.b_hat) @ inv

    def stability(self, z: complex) -> complex:
        """``R(z) = 1 + z b^T (I - z (alpha + gamma))^{-1} 1`` for ``y' = lambda y``."""
        n = self.stages
        beta = self.alpha + self.gamma
        return complex(1.0 + z * self.b @ np.linalg.solve(np.eye(n) - z * beta, np.ones(n)))


def _ros2() -> RosenbrockTableau:
    g = 1.0 + 1.0 / math.sqrt(2.0)
    return RosenbrockTableau(
        name="ros2",
        order=2,
        embedded_order=1,
        alpha=np.array([[0.0, 0.0], [1.0, 0.0]]),
        gamma=np.array([[g, 0.0], [-2.0 * g, g]]),
        b=np.array([0.5, 0.5]),
        b_hat=np.array([1.0, 0.0]),
    )


def _ros34pw2() -> RosenbrockTableau:
    g = 0.435866521508459
    return RosenbrockTableau(
        name="ros34pw2",
        order=3,
        embedded_order=2,
        alpha=np.array(
            [
                [0.0, 0.0, 0.0, 0.0],
                [0.87173304301691801, 0.0, 0.0, 0.0],
                [0.84457060015369423, -0.11299064236484185, 0.0, 0.0],
                [0.0, 0.0, 1.0, 0.0],
            ]
        ),
        gamma=np.array(
            [
                [g, 0.0, 0.0, 0.0],
                [-0.87173304301691801, g, 0.0, 0.0],
                [-0.90338057013044082, 0.054180672388095326, g, 0.0],
                [0.24212380706095346, -1.2232505839045147, 0.54526025533510214, g],
            ]
        ),
        b=np.array([0.24212380706095346, -1.2232505839045147, 1.5452602553351020, g]),
        b_hat=np.array([0.37810903145819369, -0.096042292212423178, 0.5, 0.2179332607542295]),
    )


TABLEAUS: dict[str, RosenbrockTableau] = {"ros2": _ros2(), "ros34pw2": _ros34pw2()}
"""The available methods by name."""


class StepResult(NamedTuple):
    """A step: the new state, the error estimate, the Krylov statistics and the Krylov
    workspace (for the next step)."""

    y: jax.Array
    error: jax.Array
    krylov_iterations: jax.Array
    krylov_converged: jax.Array
    workspace: KrylovWorkspace


@dataclass(frozen=True)
class KrylovOptions:
    """GMRES settings: stop at an RMS scaled residual of ``tol`` (in units of the error
    tolerance), ``restart`` vectors per cycle, at most ``max_restarts`` cycles."""

    tol: float = 1e-2
    restart: int = 6
    max_restarts: int = 6


@dataclass(frozen=True, eq=False)
class RosenbrockSystem:
    """The discrete right-hand side of a model on a grid and its Rosenbrock step."""

    grid: PatchGrid
    model: PatchModel
    diffusion: DiffusionOperator | None
    chemotaxis: ChemotaxisOperator | None
    reaction: ReactionOperator | None

    @classmethod
    def build(
        cls, grid: PatchGrid, model: PatchModel, lateral: Lateral = "fd2"
    ) -> RosenbrockSystem:
        model.check_grid(grid)
        diffusing = list(model.diffusing)
        g = model.bottom_conductance
        diffusion = (
            DiffusionOperator.for_species(
                grid,
                model.diffusivity[diffusing],
                lateral,
                None if g is None else g[diffusing],
                None if g is None else np.asarray(model.bottom_value, dtype=np.float64)[diffusing],
            )
            if diffusing
            else None
        )
        chemotaxis = ChemotaxisOperator.for_model(grid, model) if model.chemotaxis else None
        reaction = (
            ReactionOperator(grid, model.reaction, model.n_species)
            if model.reaction is not None
            else None
        )
        return cls(grid, model, diffusion, chemotaxis, reaction)

    @property
    def diffusing(self) -> tuple[int, ...]:
        return self.model.diffusing

    def _take(self, y: jax.Array, species: tuple[int, ...]) -> jax.Array:
        """The rows ``species`` of a full-size array."""
        return jnp.concatenate([y[s : s + 1] for s in species])

    def _embed(self, block: jax.Array, species: tuple[int, ...]) -> jax.Array:
        """A full-size array with ``block`` in the rows ``species`` and zeros elsewhere.

        Built by concatenation and summed afterwards: XLA on CPU fuses this well,
        where stacking single rows or scattering makes it recompute the stencils.
        """
        zero = jnp.zeros_like(block[:1])
        rows = {s: k for k, s in enumerate(species)}
        return jnp.concatenate(
            [
                block[rows[s] : rows[s] + 1] if s in rows else zero
                for s in range(self.model.n_species)
            ]
        )

    def _transport(
        self,
        y: jax.Array,
        chemotaxis: Callable[[jax.Array], jax.Array] | None = None,
        *,
        affine: bool = True,
    ) -> jax.Array | None:
        """``D y + s + K(y)`` as a full-size array (``chemotaxis`` overrides ``K``; ``s``
        is the constant of a bottom exchange, left out with ``affine=False``, as in
        Jacobian products), or ``None`` when nothing is transported."""
        out = None
        if self.diffusion is not None:
            dy = self.diffusion.apply(self._take(y, self.diffusing))
            if affine and self.diffusion.has_bottom_exchange:
                dy = dy + self.diffusion.bottom_source()
            out = self._embed(dy, self.diffusing)
        if self.chemotaxis is not None:
            kt = self.chemotaxis.apply(y) if chemotaxis is None else chemotaxis(y)
            k_full = self._embed(kt, self.chemotaxis.cells)
            out = k_full if out is None else out + k_full
        return out

    def rhs(self, y: jax.Array, t: jax.Array, params: Params, aux: Any = None) -> jax.Array:
        """``f(t, y) = D y + K(y) + R(t, y)`` (``aux``: the model's auxiliary inputs)."""
        out = self._transport(y)
        if self.reaction is not None:
            r = self.reaction.rate(y, t, params, aux)
            out = r if out is None else out + r
        return jnp.zeros_like(y) if out is None else out

    def krylov_workspace(
        self, krylov: KrylovOptions, preconditioner_dtype: Any = jnp.float64
    ) -> KrylovWorkspace:
        """GMRES storage for this system's stage solves (``krylov.restart`` vectors)."""
        shape = (self.model.n_species, *self.grid.shape)
        return krylov_workspace(shape, krylov.restart, preconditioner_dtype, preconditioner_dtype)

    def step(
        self,
        y: jax.Array,
        t: jax.Array,
        h: jax.Array,
        params: Params,
        scale: jax.Array,
        krylov: KrylovOptions,
        tableau: RosenbrockTableau,
        chemotaxis_jacobian: str = "upwind",
        aux: Any = None,
        preconditioner_dtype: Any = jnp.float64,
        workspace: KrylovWorkspace | None = None,
        jacobian_dtype: Any = None,
    ) -> StepResult:
        """One Rosenbrock step of size ``h``; ``scale`` (shape of ``y``) are the error weights.

        ``preconditioner_dtype``: precision of the preconditioner's FFT/tridiagonal
        solves and of the stored preconditioned Krylov directions (the Arnoldi basis,
        the products with ``W`` and the state stay in the precision of ``y``).
        ``workspace``: the GMRES storage to use (:meth:`krylov_workspace`; a fresh one
        if ``None``), returned in the result for the next step."""
        g = tableau.gamma_diag
        gh = g * h
        a, c, m, e = tableau.transformed
        alpha_sum = tableau.alpha.sum(axis=1)
        gamma_sum = tableau.gamma.sum(axis=1)
        # linearisation at (t_n, y_n)
        lin_k: Callable[[jax.Array], jax.Array] | None = None
        if self.chemotaxis is not None:
            if chemotaxis_jacobian == "exact":
                _, lin_k = jax.linearize(self.chemotaxis.apply, y)
            else:
                lin_k = self.chemotaxis.frozen_upwind(y)
        lin_r = None
        f_t = jnp.zeros_like(y)
        diag = jnp.zeros_like(y)
        if self.reaction is not None:
            r0, lin_r = self.reaction.linearize(y, t, params, aux, jacobian_dtype)
            f_t = self.reaction.time_derivative(y, t, params, aux)
            if self.model.linear_decay is not None:  # the model's constant linear losses
                lam = jnp.asarray(self.model.linear_decay(params), dtype=y.dtype)
                lam_z = lam[:, jnp.asarray(self.grid.layer_of_z)]  # (S, nz)
                diag = jnp.broadcast_to(-lam_z[:, None, None, :], y.shape)
            else:
                diag = self.reaction.diagonal(y, t, params, aux, lin=lin_r)
            tr = self._transport(y)
            f0 = r0 if tr is None else tr + r0
        else:
            f0 = self.rhs(y, t, params, aux)

        def jac(v: jax.Array) -> jax.Array:
            out = self._transport(v, lin_k, affine=False)
            if lin_r is not None:
                rv = lin_r(v)
                out = rv if out is None else out + rv
            return jnp.zeros_like(v) if out is None else out

        # preconditioner: exact inverse of I - g h (D + L)
        local = jnp.minimum(diag, 0.0)
        shift = None
        if self.diffusion is not None:
            shift = jnp.minimum(jnp.max(self._take(diag, self.diffusing), axis=(1, 2)), 0.0)

        others = tuple(s for s in range(self.model.n_species) if s not in self.diffusing)

        factor = (
            self.diffusion.factor_shifted(gh, shift, preconditioner_dtype)
            if self.diffusion is not None
            else None
        )

        def precond(r: jax.Array) -> jax.Array:
            if self.diffusion is None or factor is None:
                return r / (1.0 - gh * local)
            # one independent FFT/substitution chain per species: the CPU runtime runs
            # them concurrently (one batched solve runs on one thread at a time); the
            # rows are assembled by one concatenation, in species order, and returned in
            # the preconditioner's precision (GMRES stores its directions in it)
            rows: dict[int, jax.Array] = {
                s: self.diffusion.solve_factored(
                    r[s : s + 1],
                    ShiftedFactor(*(a[:, k : k + 1] for a in factor)),
                    preconditioner_dtype,
                )
                for k, s in enumerate(self.diffusing)
            }
            for s in others:
                rest = r[s : s + 1] / (1.0 - gh * local[s : s + 1])
                rows[s] = rest.astype(preconditioner_dtype)
            return jnp.concatenate([rows[s] for s in range(self.model.n_species)])

        # GMRES in variables scaled by the error weights: the Arnoldi basis and the
        # residuals are scaled (r_s = r / scale), the preconditioned directions are not
        # (z = P^{-1} (scale * v)): the update sum_i y_i z_i is the stage itself, and
        # W applied to a direction is scaled back once (flexible GMRES allows the two
        # spaces to differ).
        def precond_u(v: jax.Array) -> jax.Array:
            return precond(scale * v)

        def matvec_u(z: jax.Array) -> jax.Array:
            return (z - gh * jac(z)) / scale

        target = krylov.tol * math.sqrt(float(y.size))
        if workspace is None:
            workspace = self.krylov_workspace(krylov, preconditioner_dtype)
        iterations = jnp.asarray(0)
        converged = jnp.asarray(True)
        stages: list[jax.Array] = []
        y_new = y
        err = jnp.zeros_like(y)
        for i in range(tableau.stages):
            if i == 0:
                f_i = f0
            else:
                y_i = y
                for j in range(i):
                    if a[i, j] != 0.0:
                        y_i = y_i + a[i, j] * stages[j]
                f_i = self.rhs(y_i, t + alpha_sum[i] * h, params, aux)
            rhs = f_i + gamma_sum[i] * h * f_t
            for j in range(i):
                if c[i, j] != 0.0:
                    rhs = rhs + (c[i, j] / h) * stages[j]
            u_i, info, workspace = fgmres(
                matvec_u,
                precond_u,
                gh * rhs / scale,
                workspace,
                target=target,
                max_restarts=krylov.max_restarts,
            )
            stages.append(u_i)
            y_new = y_new + m[i] * u_i
            err = err + e[i] * u_i
            iterations = iterations + info.iterations
            converged = converged & info.converged
        return StepResult(y_new, err, iterations, converged, workspace)
