r"""Adjuncts: what a study added to needling, as a cited effect on the observables it changed.

Each effect comes from a comparison in the reference data (``data/adjuncts.yaml``,
every number with its source) and acts on the per-patient values ``x`` of the
observable the comparison measured, after the needling model:

* ``factor``: :math:`x' = f\,x` (the change is scaled), clipped to the scale's floor;
* ``combined_remaining_fraction``: the adjunct acts on its own on what remains,
  :math:`1 + x'/100 = (1 + c_a/100)(1 + x/100)` with :math:`c_a` its own change.

Adjuncts without an effect in the data are *not modelled*: their studies are
predicted as needling alone and name them in ``not_modelled_adjuncts``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..config import Adjunct, Observable
from ..data import load_table


@dataclass(frozen=True)
class AdjunctEffect:
    """The effect of one adjunct on one observable (see the module docstring)."""

    adjunct: Adjunct
    observable: Observable
    kind: str
    value: float  # the factor, or the adjunct's own change in %
    interval: tuple[float, float] | None
    source: str

    def apply(self, values: ArrayLike) -> NDArray[np.float64]:
        x = np.asarray(values, dtype=np.float64)
        if self.kind == "factor":
            out = self.value * x
        elif self.kind == "combined_remaining_fraction":
            out = 100.0 * ((1.0 + self.value / 100.0) * (1.0 + x / 100.0) - 1.0)
        else:  # pragma: no cover - the packaged table is checked by the tests
            raise ValueError(f"unknown adjunct effect kind {self.kind!r}")
        floor = _bounds().get(self.observable)
        return np.maximum(out, floor) if floor is not None else out


@cache
def _table() -> dict[str, object]:
    data: dict[str, object] = load_table("adjuncts.yaml")
    return data


@cache
def _bounds() -> dict[Observable, float]:
    raw = _table()["bounds"]
    assert isinstance(raw, dict)
    return {Observable(k): float(v) for k, v in raw.items()}


@cache
def adjunct_effects() -> tuple[AdjunctEffect, ...]:
    """Every packaged adjunct effect."""
    raw = _table()["effects"]
    assert isinstance(raw, dict)
    out = []
    for adjunct, by_observable in raw.items():
        for observable, e in by_observable.items():
            value = e["factor"] if e["kind"] == "factor" else e["own_change_pct"]
            interval = tuple(float(v) for v in e["interval"]) if e.get("interval") else None
            out.append(
                AdjunctEffect(
                    Adjunct(adjunct),
                    Observable(observable),
                    str(e["kind"]),
                    float(value),
                    interval,  # type: ignore[arg-type]
                    " ".join(str(e["source"]).split()),
                )
            )
    return tuple(out)


def not_modelled_reasons() -> dict[Adjunct, str]:
    """Why each adjunct without an effect has none."""
    raw = _table()["not_modelled"]
    assert isinstance(raw, dict)
    return {Adjunct(k): " ".join(str(v).split()) for k, v in raw.items()}


def effects_for(adjuncts: Iterable[Adjunct], observable: Observable) -> list[AdjunctEffect]:
    """The effects of ``adjuncts`` on ``observable``, in the order the adjuncts are given."""
    wanted = list(adjuncts)
    return sorted(
        (e for e in adjunct_effects() if e.adjunct in wanted and e.observable == observable),
        key=lambda e: wanted.index(e.adjunct),
    )


def not_modelled(adjuncts: Iterable[Adjunct]) -> list[str]:
    """The adjuncts (of those given) that have no effect on any observable."""
    modelled = {e.adjunct for e in adjunct_effects()}
    return [a.value for a in adjuncts if a not in modelled]


def apply_adjuncts(
    values: ArrayLike, observable: Observable, adjuncts: Iterable[Adjunct]
) -> tuple[NDArray[np.float64], list[str]]:
    """Per-patient ``values`` of ``observable`` with every applicable adjunct effect,
    and the names of the adjuncts applied."""
    out = np.asarray(values, dtype=np.float64)
    applied = []
    for effect in effects_for(adjuncts, observable):
        out = effect.apply(out)
        applied.append(effect.adjunct.value)
    return out, applied
