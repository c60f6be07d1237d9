"""A linearly implicit IMEX Runge-Kutta solver for diffrax (ARK5(4)8L[2]SA).

For ``dy/dt = f_E(t, y) + L y`` with ``f_E`` non-stiff and ``L`` a stiff *linear*
operator, the additive Runge-Kutta pair of Kennedy & Carpenter (2003) (diffrax's
``KenCarp5`` tableau) treats ``f_E`` with its explicit and ``L y`` with its ESDIRK
half. Stage ``i`` solves::

    (I - h gamma L) z_i = y_0 + h sum_{j<i} (aE_ij f_E(z_j) + aI_ij L z_j)

and ``y_1 = y_0 + h sum_j b_j (f_E(z_j) + L z_j)``, with the embedded error
``h sum_j (b - b_hat)_j (...)``. Because the implicit part is linear, each stage
is one linear solve with the same matrix ``I - h gamma L``: the matrix is
factorised once per step by ``linear_solver`` (here
:class:`~needlesim.solve._tridiagonal.LayerTridiagonal`) and no Newton
iteration is needed. diffrax's own ``KenCarp5`` would run a chord iteration
per stage (and, in diffrax 0.7.2 with its default ``VeryChord`` root finder,
reports a diverged nonlinear solve on purely linear implicit terms).

It is a ``diffrax.AbstractAdaptiveSolver``: use it with ``diffeqsolve``, a
``PIDController`` and ``SaveAt`` as any diffrax solver. Terms:
``MultiTerm(ODETerm(f_E), ODETerm(f_I))`` with ``f_I(t, y) = L y`` linear
and homogeneous in ``y``. Dense output: cubic Hermite from ``y`` and ``dy/dt`` at
both ends of the step (``dy/dt`` at the end is carried to the next step, FSAL).
"""

from __future__ import annotations

from typing import Any, ClassVar

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
from jax import Array

from . import _ark5_tableau as tab
from ._tridiagonal import LayerTridiagonal

_State = tuple[Array, Array]


def _combine(y0: Array, h: Array, weights: tuple[float, ...], ks: list[Array]) -> Array:
    acc = y0
    for w, k in zip(weights, ks, strict=False):
        if w != 0.0:
            acc = acc + (h * w) * k
    return acc


class LinearImplicitARK5(dfx.AbstractAdaptiveSolver[_State]):
    """IMEX ARK5(4)8L[2]SA with a linear implicit term (see the module docstring)."""

    linear_solver: lx.AbstractLinearSolver = eqx.field(default_factory=LayerTridiagonal)

    term_structure: ClassVar = dfx.MultiTerm[tuple[dfx.AbstractTerm, dfx.AbstractTerm]]
    interpolation_cls: ClassVar = dfx.ThirdOrderHermitePolynomialInterpolation

    def order(self, terms: Any) -> int:
        return 5

    def error_order(self, terms: Any) -> float:
        return 5.0

    @staticmethod
    def _fields(terms: Any, t: Any, y: Array, args: Any) -> tuple[Array, Array]:
        explicit, implicit = terms.terms
        return explicit.vf(t, y, args), implicit.vf(t, y, args)

    def init(self, terms: Any, t0: Any, t1: Any, y0: Array, args: Any) -> _State:
        return self._fields(terms, t0, y0, args)

    def step(
        self,
        terms: Any,
        t0: Any,
        t1: Any,
        y0: Array,
        args: Any,
        solver_state: _State,
        made_jump: Any,
    ) -> tuple[Array, Array, dict[str, Array], _State, Any]:
        explicit, implicit = terms.terms
        h = t1 - t0
        fe0, fi0 = jax.lax.cond(
            made_jump,
            lambda: self._fields(terms, t0, y0, args),
            lambda: solver_state,
        )
        hg = h * tab.GAMMA

        def matvec(v: Array) -> Array:
            return v - hg * implicit.vf(t0, v, args)

        operator = lx.FunctionLinearOperator(matvec, jax.eval_shape(lambda: y0))
        lin_state = self.linear_solver.init(operator, {})
        fes, fis = [fe0], [fi0]
        for i in range(1, len(tab.C)):
            ti = t0 + tab.C[i] * h
            rhs = _combine(y0, h, tab.A_EXPLICIT[i - 1], fes)
            rhs = _combine(rhs, h, tab.A_IMPLICIT[i - 1], fis)
            z = lx.linear_solve(
                operator, rhs, self.linear_solver, state=lin_state, throw=False
            ).value
            fes.append(explicit.vf(ti, z, args))
            fis.append(implicit.vf(ti, z, args))
        ks = [fe + fi for fe, fi in zip(fes, fis, strict=True)]
        y1 = _combine(y0, h, tab.B, ks)
        y_error = _combine(jnp.zeros_like(y0), h, tab.B_ERROR, ks)
        fe1, fi1 = self._fields(terms, t1, y1, args)
        dense_info = dict(y0=y0, y1=y1, k0=h * ks[0], k1=h * (fe1 + fi1))
        return y1, y_error, dense_info, (fe1, fi1), dfx.RESULTS.successful

    def func(self, terms: Any, t0: Any, y0: Array, args: Any) -> Array:
        fe, fi = self._fields(terms, t0, y0, args)
        return fe + fi
