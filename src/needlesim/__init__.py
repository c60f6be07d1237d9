"""needlesim: an in-silico lab for microneedling (collagen induction therapy).

The chain, one direction only::

    config -> anatomy -> device -> injury -> solve -> outcomes -> results

float64 is switched on here, before anything imports JAX, so that every
computation in the package runs in double precision without the user having
to set ``JAX_ENABLE_X64``.
"""

from __future__ import annotations

import os

os.environ.setdefault("JAX_ENABLE_X64", "1")

import jax

jax.config.update("jax_enable_x64", True)

__version__ = "0.1.0"

__all__ = ["__version__"]
