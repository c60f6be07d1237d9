"""Parameter ranges for a sensitivity analysis: from the registry or given by hand.

A range is ``(name, lo, hi)``; the analysis samples each parameter uniformly in
``[lo, hi]``. The model's parameter registry (``needlesim.biology``) is used when
it exists, looked up in this order:

* ``needlesim.biology.registry()`` (or ``REGISTRY`` / ``PARAMETERS``): rows with
  ``name``, ``lo``, ``hi`` (the registry's ``ParameterRow``), or a mapping
  ``name -> entry`` where an entry has ``range = (lo, hi)`` or ``lo``/``hi``
  (``low``/``high``, ``min``/``max``) attributes or keys;
* ``needlesim.biology.parameter_ranges()`` if it yields ``(name, lo, hi)`` rows.

Parameters whose range is a single value (lo = hi) are left out.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..config import ConfigError, Problem

REGISTRY_MODULE = "needlesim.biology"


@dataclass(frozen=True)
class ParameterRange:
    """A parameter and its uniform sampling interval ``[lo, hi]``."""

    name: str
    lo: float
    hi: float


ProblemSpec = Sequence[ParameterRange | tuple[str, float, float]] | Mapping[str, Any]
"""A list of ranges (or ``(name, lo, hi)`` tuples), or a SALib problem dict."""


def parse_param(text: str, option: str = "--param") -> ParameterRange:
    """``"name:lo:hi"`` -> a range; a ConfigError naming ``option`` if malformed."""
    parts = text.split(":")
    if len(parts) != 3 or not parts[0]:
        raise ConfigError([Problem(option, f"{text!r} is not of the form name:lo:hi")])
    try:
        lo, hi = float(parts[1]), float(parts[2])
    except ValueError:
        raise ConfigError([Problem(option, f"{text!r}: lo and hi must be numbers")]) from None
    if not lo < hi:
        raise ConfigError([Problem(option, f"{text!r}: lo must be < hi")])
    return ParameterRange(parts[0], lo, hi)


def as_ranges(problem: ProblemSpec) -> list[ParameterRange]:
    """Normalise any accepted problem spec to a checked list of ranges."""
    if isinstance(problem, Mapping):
        ranges = [
            ParameterRange(str(n), float(b[0]), float(b[1]))
            for n, b in zip(problem["names"], problem["bounds"], strict=True)
        ]
    else:
        ranges = [
            r
            if isinstance(r, ParameterRange)
            else ParameterRange(str(r[0]), float(r[1]), float(r[2]))
            for r in problem
        ]
    if not ranges:
        raise ValueError("a sensitivity problem needs at least one parameter")
    names = [r.name for r in ranges]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"parameter names must be unique, repeated: {repeated}")
    bad = [r.name for r in ranges if not r.lo < r.hi]
    if bad:
        raise ValueError(f"parameters need lo < hi: {bad}")
    return ranges


def salib_problem(ranges: Sequence[ParameterRange]) -> dict[str, Any]:
    """The SALib problem dict for ``ranges``."""
    return {
        "num_vars": len(ranges),
        "names": [r.name for r in ranges],
        "bounds": [[r.lo, r.hi] for r in ranges],
    }


def _entry_range(name: str, entry: Any) -> ParameterRange | None:
    def get(key: str) -> Any:
        return entry.get(key) if isinstance(entry, Mapping) else getattr(entry, key, None)

    pair = get("range")
    if pair is not None and len(pair) == 2:
        return ParameterRange(name, float(pair[0]), float(pair[1]))
    for lo_key, hi_key in (("lo", "hi"), ("low", "high"), ("min", "max")):
        lo, hi = get(lo_key), get(hi_key)
        if lo is not None and hi is not None:
            return ParameterRange(name, float(lo), float(hi))
    return None


def _ranges_from(registry: Any) -> list[ParameterRange]:
    if isinstance(registry, Mapping):
        items: Iterable[tuple[str, Any]] = registry.items()
    else:
        items = ((str(getattr(e, "name", None) or e["name"]), e) for e in registry)
    found = [_entry_range(str(name), entry) for name, entry in items]
    return [r for r in found if r is not None and r.lo < r.hi]


def registry_ranges() -> list[ParameterRange] | None:
    """The model's parameter ranges (those with lo < hi), or None while there is no registry."""
    try:
        module = importlib.import_module(REGISTRY_MODULE)
    except ImportError:
        return None
    for attr in ("registry", "REGISTRY", "PARAMETERS"):
        found = getattr(module, attr, None)
        if found is not None:
            ranges = _ranges_from(found() if callable(found) else found)
            if ranges:
                return as_ranges(ranges)
    hook = getattr(module, "parameter_ranges", None)
    if callable(hook):
        rows = [tuple(r) for r in hook()]
        if rows and all(len(r) == 3 and isinstance(r[0], str) for r in rows):
            return as_ranges([(str(r[0]), float(r[1]), float(r[2])) for r in rows])
    return None
