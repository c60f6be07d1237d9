"""Building blocks of the rate laws, shared by the kinetics modules.

Every production term is written so that it equals the healthy value exactly at
rest and stays non-negative for non-negative states:

* ``mix(s, x) = (1 - s) + s x``: a share ``s`` (0..1) of a production that
  follows a fold signal ``x`` (1 at rest); the rest is constitutive.
* ``relax(k, P, x) = k (P - x)``: first-order turnover of a fold species towards
  its production ``P`` (1 at rest), so that the loss ``k x`` is proportional to
  the state and zero is invariant.
"""

from __future__ import annotations

from ._xp import Arr


def mix(share: Arr, x: Arr) -> Arr:
    """``(1 - share) + share * x``, computed as ``1 + share (x - 1)``: exactly 1 at ``x = 1``."""
    return 1.0 + share * (x - 1.0)


def relax(rate: Arr, production: Arr, x: Arr) -> Arr:
    """``rate * (production - x)``: first-order turnover towards ``production``."""
    return rate * (production - x)


def saturating(x: Arr, half: Arr) -> Arr:
    """``x / (half + x)``: 0 at 0, 1/2 at ``half``, 1 for large ``x`` (``x >= 0``)."""
    return x / (half + x)
