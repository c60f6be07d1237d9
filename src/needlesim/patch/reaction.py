"""Reaction: the user's kinetics applied to every voxel, and its derivatives.

The kinetics ``R(y, params, ctx) -> dy/dt`` is written for one voxel's state
vector ``y`` (``S`` species); :class:`ReactionOperator` maps it over all
voxels with :func:`jax.vmap` (the state array ``(S, nx, ny, nz)`` is viewed as
``(S, N)``: structure of arrays, each species contiguous over the voxels) and
provides what the linearly implicit integrator needs:

* ``R(y)`` everywhere (:meth:`ReactionOperator.rate`);
* ``dR/dt`` at fixed ``y`` (:meth:`ReactionOperator.time_derivative`, one
  :func:`jax.jvp` in ``t``; zero for autonomous kinetics);
* the diagonal ``dR_s/dy_s`` in every voxel (:meth:`ReactionOperator.diagonal`,
  ``S`` forward-mode products; it feeds the preconditioner);
* the Jacobian-vector product ``v -> (dR/dy) v`` (:meth:`ReactionOperator.linearize`,
  :func:`jax.linearize`: the per-voxel ``S x S`` Jacobians are never stored).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..geometry.grid import PatchGrid
from .model import Params, ReactionContext, ReactionFn


def voxel_context(
    grid: PatchGrid, aux: Any, t: jax.Array
) -> tuple[ReactionContext, ReactionContext]:
    """The batched :class:`ReactionContext` of all voxels (leaves with a leading axis of
    ``N = nx ny nz`` voxels, in C order) and its ``vmap`` axes. ``aux`` is passed in
    (traced), never closed over, so large per-voxel inputs are not baked into the
    compiled code."""
    n = grid.n_voxels
    # broadcast inside the computation: only nz-long constants enter the compiled code
    layer = jnp.broadcast_to(jnp.asarray(grid.layer_of_z), grid.shape).reshape(n)
    depth = jnp.broadcast_to(jnp.asarray(grid.z_um), grid.shape).reshape(n)
    flat_aux = jax.tree.map(lambda a: jnp.reshape(jnp.asarray(a), (n, *np.shape(a)[3:])), aux)
    axes = ReactionContext(
        t=None,  # type: ignore[arg-type]
        layer=0,  # type: ignore[arg-type]
        depth_um=0,  # type: ignore[arg-type]
        aux=jax.tree.map(lambda _: 0, aux),
    )
    return ReactionContext(jnp.asarray(t), layer, depth, flat_aux), axes


def _linearize_in(
    rate: Callable[[jax.Array], jax.Array], y: jax.Array, dtype: Any
) -> Callable[[jax.Array], jax.Array] | None:
    """``v -> rate'(y) v`` linearised at ``y`` cast to ``dtype``, or None if the kinetics mix
    in a wider precision (JAX warns, or will refuse, when they write it into ``dtype``)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out, lin = jax.linearize(rate, y.astype(dtype))
        except (TypeError, ValueError):
            return None
    mixed = any("incompatible types" in str(w.message) for w in caught)
    if mixed or out.dtype != jnp.dtype(dtype):
        return None
    for w in caught:  # pass on the warnings that are not about the precision
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return lin


def _cast_floats(tree: Any, dtype: Any) -> Any:
    """Every floating leaf of ``tree`` cast to ``dtype`` (integers and booleans kept)."""

    def cast(a: Any) -> Any:
        a = jnp.asarray(a)
        return a.astype(dtype) if jnp.issubdtype(a.dtype, jnp.floating) else a

    return jax.tree.map(cast, tree)


@dataclass(frozen=True, eq=False)
class ReactionOperator:
    """The kinetics ``reaction`` applied voxel by voxel on ``grid``."""

    grid: PatchGrid
    reaction: ReactionFn
    n_species: int

    def _context(self, t: jax.Array, aux: Any) -> tuple[ReactionContext, ReactionContext]:
        return voxel_context(self.grid, aux, t)

    def _flat(self, y: jax.Array) -> jax.Array:
        return jnp.reshape(y, (self.n_species, self.grid.n_voxels))

    def rate(
        self, y: jax.Array, t: jax.Array, params: Params, aux: Any = None, dtype: Any = None
    ) -> jax.Array:
        """``R(y)`` in every voxel, shape of ``y`` (``(S, nx, ny, nz)``); with ``dtype``,
        evaluated in that precision (every floating input cast to it)."""
        ctx, axes = self._context(t, aux)
        if dtype is not None:
            y, params, ctx = _cast_floats((y, params, ctx), dtype)
        f = jax.vmap(self.reaction, in_axes=(1, None, axes), out_axes=1)
        return jnp.reshape(f(self._flat(y), params, ctx), y.shape)

    def time_derivative(
        self, y: jax.Array, t: jax.Array, params: Params, aux: Any = None
    ) -> jax.Array:
        """``dR/dt`` at fixed ``y`` (zero when the kinetics do not depend on ``t``)."""
        t = jnp.asarray(t, dtype=jnp.float64)
        _, r_t = jax.jvp(lambda tt: self.rate(y, tt, params, aux), (t,), (jnp.ones_like(t),))
        return r_t

    def diagonal(
        self,
        y: jax.Array,
        t: jax.Array,
        params: Params,
        aux: Any = None,
        lin: Callable[[jax.Array], jax.Array] | None = None,
    ) -> jax.Array:
        """``dR_s/dy_s`` in every voxel, shape of ``y``.

        One Jacobian-vector product per species over the whole grid (the tangent
        is 1 in species ``s`` everywhere; the kinetics are voxel-local, so row
        ``s`` of the product is the diagonal entry), in a :func:`jax.lax.map`
        loop: memory of one state, one compiled body. ``lin`` is the linearised
        rate of :meth:`linearize` at the same point, if already built.
        """
        if lin is None:
            _, lin = self.linearize(y, t, params, aux)

        def one(s: jax.Array) -> jax.Array:
            tangent = jnp.zeros_like(y).at[s].set(1.0)
            return lin(tangent)[s]

        return jax.lax.map(one, jnp.arange(self.n_species))

    def linearize(
        self,
        y: jax.Array,
        t: jax.Array,
        params: Params,
        aux: Any = None,
        jacobian_dtype: Any = None,
    ) -> tuple[jax.Array, Callable[[jax.Array], jax.Array]]:
        """``(R(y), v -> (dR/dy)(y) v)``. With a ``jacobian_dtype`` below the state's, the
        product is linearised in that precision (its saved intermediates, about 100 per
        voxel for the healing kinetics, take half the memory), ``R(y)`` stays in the
        state's precision. Kinetics that cannot be evaluated in that precision (they close
        over double-precision arrays, which JAX will not write into single-precision ones)
        are linearised in the state's precision."""
        if jacobian_dtype is None or jnp.dtype(jacobian_dtype) == y.dtype:
            return jax.linearize(lambda u: self.rate(u, t, params, aux), y)
        low = _linearize_in(
            lambda u: self.rate(u, t, params, aux, jacobian_dtype), y, jacobian_dtype
        )
        if low is None:
            return jax.linearize(lambda u: self.rate(u, t, params, aux), y)
        return self.rate(y, t, params, aux), lambda v: low(v.astype(jacobian_dtype)).astype(y.dtype)
