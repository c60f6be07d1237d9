"""Array-namespace dispatch: the kinetics run on JAX arrays (solver) or NumPy arrays (twins).

The rate functions use only arithmetic operators and the few functions below, so
the same code evaluates a JAX tracer inside ``jit``/``vmap`` or a plain NumPy
array (the NumPy right-hand side of the LSODA baseline in ``benchmarks/``).
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

Arr = Any
"""A JAX or NumPy float array (kept loose so that one code path serves both)."""


def namespace(*arrays: Any) -> ModuleType:
    """``jax.numpy`` if any argument is a JAX array (or tracer), else ``numpy``."""
    return jnp if any(isinstance(a, jax.Array) for a in arrays) else np


def tanh(x: Arr) -> Arr:
    return namespace(x).tanh(x)


def stack(arrays: Sequence[Arr], axis: int = -1) -> Arr:
    return namespace(*arrays).stack(arrays, axis=axis)


def maximum(x: Arr, floor: float) -> Arr:
    return namespace(x).maximum(x, floor)
