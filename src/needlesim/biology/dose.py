r"""One dose scale for roller, pen and stamp, and the tissue's saturating response to it.

The dose of a session is the injured volume per skin area, layer by layer: the
needle-track volume inside layer ``l`` per unit area, divided by the layer's
thickness ``h_l``, i.e. the injured volume fraction ``v_l``
(:func:`needlesim.device.expected_injury` computes it from the channel
density, the penetration depth and the needle's shape, the same way for every
device). Roller, pen and stamp differ only in how many channels of what depth
they make; the tissue sees ``v_l``.

The tissue does not respond in proportion to ``v_l`` without bound. Each track
releases wound signals (DAMPs, ATP, H2O2, IL-1alpha) into a signalling volume
``A_D`` times its own (``damage_amplification``). Tracks are placed
independently of one another (a Boolean model, as for the channel openings,
:func:`needlesim.biology.injury.channel_coverage`), so the fraction of the
layer reached by at least one track's signal is::

    phi_l = 1 - exp(-A_D v_l)

Once the signalling volumes fill the layer, more channels signal to cells that
are already signalled: the response saturates. The kinetics take the
effective injured fraction::

    v_eff,l = phi_l / A_D = v_sat (1 - exp(-v_l / v_sat)),    v_sat = 1 / A_D

which equals ``v_l`` for sparse tracks (``A_D v_l << 1``), so the damage index
``A_D v_eff = phi`` is the signalled volume fraction, at most 1. The
saturation dose ``v_sat = 1 / A_D`` (0.05 at the registry's ``A_D = 20``) is
not a new constant: it is the track volume fraction at which the signalling
volumes, laid at random, cover 63 % of the layer. Checked against data (not
fitted): a 15-pass 1.5 mm roller injures about 3 % of the papillary dermis
(``phi`` about 0.4) and a pen pass about 16 % (``phi`` about 0.96), so the
default pen and roller courses give collagen responses of the same order,
as published pen courses (Alster & Li 2020) and roller courses (Majid 2009,
Fabbrocini 2014) report improvements of the same order
(``tests/test_biology_dose.py``).
"""

from __future__ import annotations

from ._xp import Arr, namespace
from .parameters import Parameters


def saturation_dose(p: Parameters) -> Arr:
    """``v_sat = 1 / A_D``: injured volume fraction at which 63 % of a layer is signalled."""
    return 1.0 / p.damage_amplification


def signalled_fraction(injured_fraction: Arr, p: Parameters) -> Arr:
    """``phi = 1 - exp(-A_D v)``: fraction of a layer reached by a track's wound signal."""
    xp = namespace(injured_fraction)
    return -xp.expm1(-p.damage_amplification * injured_fraction)


def effective_injured_fraction(injured_fraction: Arr, p: Parameters) -> Arr:
    """``v_eff = v_sat (1 - exp(-v / v_sat))``: the dose the kinetics respond to.

    Equal to ``v`` for sparse tracks, at most ``v_sat``; non-negative and
    increasing in ``v``; 0 at 0, so an empty session leaves the state unchanged.
    """
    return signalled_fraction(injured_fraction, p) * saturation_dose(p)
