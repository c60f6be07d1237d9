"""Restarted, right-preconditioned flexible GMRES for the stage systems of the integrator.

Solves ``W x = b`` for a linear operator ``W`` given as a function, with a
preconditioner ``M ~ W^{-1}`` applied on the right (``W M u = b``, ``x = M u``)
so that the residual GMRES minimises is the true residual ``b - W x`` (its
norm is tracked by the Givens rotations; the residual vector is recomputed only
when a cycle restarts). The flexible variant (FGMRES, Saad 1993, SIAM J Sci
Comput 14:461) keeps the preconditioned directions ``z_j = M v_j`` next to the
Arnoldi vectors ``v_j``: ``W Z_k = V_{k+1} H_k``, so the update is ``x = Z_k y``
with no further application of ``M`` (a cycle of ``k`` iterations costs ``k``
products with ``W`` and ``k`` with ``M``, instead of ``k + 1`` with ``M``). The
directions may be stored in a lower precision (``float32``, when ``M`` itself
is computed in single precision): the relation ``W Z = V H`` holds for the
stored ``Z`` exactly, because ``W`` is applied to the rounded directions.
The basis may be single precision too: its vectors are read back in the
precision of ``b`` (the dot products, the Hessenberg matrix, the rotations and
the solution stay in it), so rounding the stored basis perturbs its
orthogonality by about 1e-7, far below a residual target of 1e-2 (the
integrator's stage solves take the same iterations and give the same steps).
The directions may also live in other variables than the basis: with
``precond`` mapping basis variables to solution variables and ``matvec``
solution variables to basis variables (e.g. a basis scaled by error weights
and unscaled directions), ``x`` comes out in the solution variables.

The Arnoldi basis is orthogonalised by modified Gram-Schmidt over the vectors
built so far only (a ``while`` loop: two vector passes per basis vector), the
small least-squares problem by Givens rotations, so the residual norm is known
at every iteration and a cycle stops as soon as it is below ``target``.
Everything is ``jax.lax`` control flow: it runs under ``jit`` on CPU and GPU
alike. Memory: a :class:`KrylovWorkspace` of ``restart + 1`` basis vectors and
``restart`` directions of the size of ``b``. The caller may keep one workspace
for many solves (the integrator keeps one per compiled chunk of steps): only
the vectors written in the current cycle are ever read, so stale contents from
an earlier solve do not matter and nothing is zero-filled per solve.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

Operator = Callable[[jax.Array], jax.Array]


class KrylovInfo(NamedTuple):
    """``residual``: final ``||b - W x||`` (as tracked by GMRES); ``iterations``: Arnoldi
    steps; ``converged``."""

    residual: jax.Array
    iterations: jax.Array
    converged: jax.Array


def _dot(a: jax.Array, b: jax.Array) -> jax.Array:
    return jnp.vdot(a, b)


class KrylovWorkspace(NamedTuple):
    """Storage of a GMRES cycle: ``basis`` ``(restart + 1, *shape)`` and ``directions``
    ``(restart, *shape)`` (the preconditioned directions), each in the precision of the
    right-hand side or in single precision."""

    basis: jax.Array
    directions: jax.Array

    @property
    def restart(self) -> int:
        return int(self.directions.shape[0])


def krylov_workspace(
    shape: tuple[int, ...],
    restart: int,
    dtype: jnp.dtype | type = jnp.float64,
    direction_dtype: jnp.dtype | type | None = None,
) -> KrylovWorkspace:
    """A zero-filled workspace for systems of ``shape`` (allocate once, reuse)."""
    m = int(restart)
    if m < 1:
        raise ValueError(f"restart must be >= 1, got {restart}")
    return KrylovWorkspace(
        jnp.zeros((m + 1, *shape), dtype=dtype),
        jnp.zeros((m, *shape), dtype=direction_dtype or dtype),
    )


ArnoldiState = tuple[
    jax.Array, jax.Array, jax.Array, jax.Array, jax.Array, jax.Array, jax.Array, jax.Array
]


def fgmres(
    matvec: Operator,
    precond: Operator,
    b: jax.Array,
    workspace: KrylovWorkspace,
    *,
    target: jax.Array | float,
    max_restarts: int = 4,
) -> tuple[jax.Array, KrylovInfo, KrylovWorkspace]:
    """Solve ``matvec(x) = b`` until ``||b - W x||_2 <= target`` (or the iteration limit),
    in cycles of ``workspace.restart`` iterations; returns the workspace for reuse."""
    m = workspace.restart
    zdtype = workspace.directions.dtype
    vdtype = workspace.basis.dtype
    target = jnp.asarray(target, dtype=b.dtype)

    def combine(x: jax.Array, coef: jax.Array, j: jax.Array, directions: jax.Array) -> jax.Array:
        """``x + sum_{i<j} coef_i z_i`` (reads the ``j`` directions of this cycle only)."""

        def add(i: jax.Array, acc: jax.Array) -> jax.Array:
            return acc + coef[i] * directions[i].astype(b.dtype)

        return jax.lax.fori_loop(0, j, add, x)

    def cycle(
        carry: tuple[jax.Array, jax.Array, jax.Array, jax.Array, jax.Array, jax.Array],
    ) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array, jax.Array, jax.Array]:
        x, rnorm, k, its, basis, directions = carry
        # the true residual, recomputed only when restarting (x = 0 on the first cycle)
        r = jax.lax.cond(k > 0, lambda: b - matvec(x), lambda: b)
        rnorm = jnp.where(k > 0, jnp.sqrt(_dot(r, r)), rnorm)
        basis = basis.at[0].set((r / jnp.where(rnorm > 0, rnorm, 1.0)).astype(vdtype))
        hess = jnp.zeros((m + 1, m), dtype=b.dtype)
        g = jnp.zeros(m + 1, dtype=b.dtype).at[0].set(rnorm)
        cs = jnp.zeros(m, dtype=b.dtype)
        sn = jnp.zeros(m, dtype=b.dtype)

        def arnoldi_cond(c: ArnoldiState) -> jax.Array:
            j, *_, res = c
            return (j < m) & (res > target)

        def arnoldi_body(c: ArnoldiState) -> ArnoldiState:
            j, basis, directions, hess, g, cs, sn, _ = c
            z = precond(basis[j].astype(b.dtype)).astype(zdtype)
            directions = directions.at[j].set(z)
            w = matvec(z.astype(b.dtype))

            def mgs(
                i: jax.Array, carry: tuple[jax.Array, jax.Array]
            ) -> tuple[jax.Array, jax.Array]:
                w, col = carry
                v = basis[i].astype(b.dtype)
                hij = _dot(v, w)
                return w - hij * v, col.at[i].set(hij)

            w, col = jax.lax.fori_loop(0, j + 1, mgs, (w, jnp.zeros(m + 1, dtype=b.dtype)))
            hn = jnp.sqrt(_dot(w, w))
            basis = basis.at[j + 1].set((w / jnp.where(hn > 0, hn, 1.0)).astype(vdtype))
            col = col.at[j + 1].set(hn)

            def rotate(i: jax.Array, col: jax.Array) -> jax.Array:
                a, bb = col[i], col[i + 1]
                return col.at[i].set(cs[i] * a + sn[i] * bb).at[i + 1].set(-sn[i] * a + cs[i] * bb)

            col = jax.lax.fori_loop(0, j, rotate, col)
            a, bb = col[j], col[j + 1]
            d = jnp.sqrt(a * a + bb * bb)
            c_j = jnp.where(d > 0, a / jnp.where(d > 0, d, 1.0), 1.0)
            s_j = jnp.where(d > 0, bb / jnp.where(d > 0, d, 1.0), 0.0)
            col = col.at[j].set(d).at[j + 1].set(0.0)
            cs = cs.at[j].set(c_j)
            sn = sn.at[j].set(s_j)
            g = g.at[j + 1].set(-s_j * g[j]).at[j].set(c_j * g[j])
            hess = hess.at[:, j].set(col)
            return j + 1, basis, directions, hess, g, cs, sn, jnp.abs(g[j + 1])

        j, basis, directions, hess, g, _, _, estimate = jax.lax.while_loop(
            arnoldi_cond,
            arnoldi_body,
            (jnp.asarray(0), basis, directions, hess, g, cs, sn, rnorm),
        )
        used = jnp.arange(m) < j
        upper = hess[:m, :m]
        upper = jnp.where(used[:, None] & used[None, :], upper, jnp.eye(m, dtype=b.dtype))
        coef = jax.scipy.linalg.solve_triangular(upper, jnp.where(used, g[:m], 0.0), lower=False)
        x = combine(x, coef, j, directions)
        # the Givens residual |g_j| equals ||b - W x|| in exact arithmetic
        return x, estimate, k + 1, its + j, basis, directions

    def outer_cond(carry: tuple[jax.Array, ...]) -> jax.Array:
        _, rnorm, k, *_ = carry
        return (rnorm > target) & (k < max_restarts)

    bnorm = jnp.sqrt(_dot(b, b))
    init = (
        jnp.zeros_like(b),
        bnorm,
        jnp.asarray(0),
        jnp.asarray(0),
        workspace.basis,
        workspace.directions,
    )
    x, rnorm, _, its, basis, directions = jax.lax.while_loop(outer_cond, cycle, init)
    return x, KrylovInfo(rnorm, its, rnorm <= target), KrylovWorkspace(basis, directions)


def gmres(
    matvec: Operator,
    precond: Operator,
    b: jax.Array,
    *,
    target: jax.Array | float,
    restart: int = 8,
    max_restarts: int = 4,
) -> tuple[jax.Array, KrylovInfo]:
    """:func:`fgmres` with a fresh double-precision workspace of ``restart`` vectors."""
    workspace = krylov_workspace(b.shape, restart, b.dtype)
    x, info, _ = fgmres(matvec, precond, b, workspace, target=target, max_restarts=max_restarts)
    return x, info
