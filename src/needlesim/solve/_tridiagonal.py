"""A lineax solver for operators that are tridiagonal over layers and diagonal over species.

The implicit part of the layered model's IMEX split,
``g(y) = -lambda * y + exchange(y)``, couples each species only with itself in
the neighbouring layers. The Newton matrix ``I - gamma h dg/dy`` therefore has,
for every species, a tridiagonal structure in the layer index and nothing
between species. :class:`LayerTridiagonal` recovers its three diagonals from
three products with probe vectors (layers ``l = c mod 3``, ``c = 0, 1, 2``:
no row sees two probed columns) and solves by the Thomas algorithm, vectorised
over species (and over patients under ``vmap``). The matrix is diagonally
dominant (an M-matrix: ``I + gamma h (lambda + graph Laplacian)``), so no
pivoting is needed. Cost: 3 operator products plus O(layers x species) per
factorisation, against O(n^3) for a dense LU of the n = live entries.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import lineax as lx
import numpy as np
from jax import Array

from ..biology.state import N_LAYERS, PRESENCE
from .packing import pack, unpack

_State = tuple[Array, Array, Array]


def _probes(pack: Any) -> list[Array]:
    out = []
    for colour in range(3):
        full = np.zeros(PRESENCE.shape)
        full[colour::3, :] = 1.0
        out.append(pack(jnp.asarray(full * PRESENCE)))
    return out


def thomas(lower: Array, diag: Array, upper: Array, rhs: Array) -> Array:
    """Solve ``lower[l] x[l-1] + diag[l] x[l] + upper[l] x[l+1] = rhs[l]`` along axis -2."""
    n = diag.shape[-2]
    c_prime = []
    d_prime = []
    c_prev = jnp.zeros_like(diag[..., 0, :])
    d_prev = jnp.zeros_like(rhs[..., 0, :])
    for i in range(n):
        denom = diag[..., i, :] - lower[..., i, :] * c_prev
        c_prev = upper[..., i, :] / denom
        d_prev = (rhs[..., i, :] - lower[..., i, :] * d_prev) / denom
        c_prime.append(c_prev)
        d_prime.append(d_prev)
    x = [d_prime[-1]]
    for i in range(n - 2, -1, -1):
        x.append(d_prime[i] - c_prime[i] * x[-1])
    return jnp.stack(x[::-1], axis=-2)


class LayerTridiagonal(lx.AbstractLinearSolver[_State]):
    """Linear solver for the Newton systems of the implicit (exchange + linear loss) part.

    Only valid for operators with the structure of the module docstring; the
    layered solver uses it for exactly that operator.
    """

    def init(self, operator: lx.AbstractLinearOperator, options: dict[str, Any]) -> _State:
        del options
        columns = [unpack(operator.mv(v)) for v in _probes(pack)]
        present = jnp.asarray(PRESENCE, dtype=columns[0].dtype)
        diag = jnp.stack([columns[i % 3][..., i, :] for i in range(N_LAYERS)], axis=-2)
        diag = diag + (1.0 - present)
        zero = jnp.zeros_like(columns[0][..., 0, :])
        lower = jnp.stack(
            [zero] + [columns[(i - 1) % 3][..., i, :] for i in range(1, N_LAYERS)], axis=-2
        )
        upper = jnp.stack(
            [columns[(i + 1) % 3][..., i, :] for i in range(N_LAYERS - 1)] + [zero], axis=-2
        )
        return lower, diag, upper

    def compute(
        self, state: _State, vector: Array, options: dict[str, Any]
    ) -> tuple[Array, lx.RESULTS, dict[str, Any]]:
        del options
        lower, diag, upper = state
        return pack(thomas(lower, diag, upper, unpack(vector))), lx.RESULTS.successful, {}

    def transpose(self, state: _State, options: dict[str, Any]) -> tuple[_State, dict[str, Any]]:
        del options
        lower, diag, upper = state
        zero = jnp.zeros_like(diag[..., :1, :])
        new_lower = jnp.concatenate([zero, upper[..., :-1, :]], axis=-2)
        new_upper = jnp.concatenate([lower[..., 1:, :], zero], axis=-2)
        return (new_lower, diag, new_upper), {}

    def conj(self, state: _State, options: dict[str, Any]) -> tuple[_State, dict[str, Any]]:
        del options
        return state, {}

    def assume_full_rank(self) -> bool:
        return True
