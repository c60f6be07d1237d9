"""The shortest interval between sessions the tissue needs to recover (packaged safety.yaml).

``recovery_days(L) = max(I_min, downtime(L))``: the lower end ``I_min`` of the
inflammation phase (7-14 days, Liebl & Kloth 2012, ``inflammation_phase``), and
the expected downtime after needles of length ``L`` (manufacturer chart,
``downtime_days_by_depth``: 0.2-0.5 mm 2-3 days, 0.8-1.5 mm 4-5, 2.0-3.0 mm 6-7,
interpolated linearly between the bin midpoints and held beyond them).
"""

from __future__ import annotations

import numpy as np

from ..data import load_table


def _section(key: str) -> dict[str, object]:
    section: dict[str, object] = load_table("safety.yaml")[key]
    return section


def downtime_days(needle_length_mm: float) -> float:
    """Expected downtime in days after a session with needles of ``needle_length_mm``."""
    bins = _section("downtime_days_by_depth")["bins"]
    assert isinstance(bins, list)
    depth = [float(np.mean(b["depth_mm"])) for b in bins]
    days = [float(np.mean(b["days"])) for b in bins]
    return float(np.interp(needle_length_mm, depth, days))


def inflammation_days() -> tuple[float, float]:
    """The inflammation phase after needling, ``(shortest, longest)`` in days."""
    days = _section("inflammation_phase")["inflammation_days"]
    assert isinstance(days, list) and len(days) == 2
    return float(days[0]), float(days[1])


def recovery_days(needle_length_mm: float) -> float:
    """``max(shortest inflammation phase, downtime(needle_length_mm))`` in days."""
    return max(inflammation_days()[0], downtime_days(needle_length_mm))


def recovery_source() -> str:
    """Where :func:`recovery_days` comes from, for messages."""
    return "inflammation phase {:g}-{:g} days, Liebl & Kloth 2012; downtime chart by depth".format(
        *inflammation_days()
    )
