r"""The free parameters and instruments of the Bayesian calibration (``free_parameters.yaml``).

Each free parameter ``theta_j`` has the prior

    ln theta_j ~ Normal(m_j, s_j) truncated to [ln lo_j, ln hi_j],
    m_j = (ln lo_j + ln hi_j) / 2,   s_j = (ln hi_j - ln lo_j) / (2 x 1.96),

so its range (registry, ``outcomes.yaml`` or a narrower declared one) is the
central 95 % of the untruncated lognormal. Each observable belongs to one
instrument; an instrument has at most one observation parameter and a
between-study heterogeneity ``tau ~ HalfNormal(tau_scale)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml

from ...biology import registry
from ...config import ConfigError, Observable, Problem

Z95 = 1.959964


@dataclass(frozen=True)
class Prior:
    """Truncated normal prior of ``ln theta`` on ``[ln lo, ln hi]``."""

    lo: float
    hi: float

    @property
    def mu(self) -> float:
        return float(0.5 * (np.log(self.lo) + np.log(self.hi)))

    @property
    def sigma(self) -> float:
        return float((np.log(self.hi) - np.log(self.lo)) / (2 * Z95))

    @property
    def median(self) -> float:
        return float(np.exp(self.mu))


@dataclass(frozen=True)
class FreeParam:
    """A free parameter: kinetic (registry) or observation (``outcomes.yaml``)."""

    name: str
    kind: Literal["kinetic", "observation"]
    prior: Prior
    unit: str
    reason: str
    instrument: str | None = None


@dataclass(frozen=True)
class Instrument:
    name: str
    description: str
    observables: tuple[str, ...]
    parameter: str | None
    tau_scale: float
    unit: str


@dataclass(frozen=True)
class Spec:
    """Everything declared: free parameters (kinetic first), instruments, default CV."""

    free: tuple[FreeParam, ...]
    instruments: dict[str, Instrument]
    default_cv: float
    default_cv_reason: str

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.free]

    def instrument_of(self, observable: str) -> Instrument:
        for inst in self.instruments.values():
            if observable in inst.observables:
                return inst
        raise ConfigError(
            [Problem("instruments", f"observable {observable!r} has no instrument in the spec")]
        )

    def relevant(self, observable: str) -> list[int]:
        """Indices of the free parameters that can move ``observable``: every kinetic one
        and its instrument's observation parameter."""
        own = self.instrument_of(observable).parameter
        return [
            j for j, f in enumerate(self.free) if f.kind == "kinetic" or (own and f.name == own)
        ]

    def subset(self, names: list[str]) -> Spec:
        """The spec with only the named free parameters (the others fixed at their priors)."""
        return Spec(
            tuple(f for f in self.free if f.name in names),
            self.instruments,
            self.default_cv,
            self.default_cv_reason,
        )


@cache
def packaged_spec_data() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("free_parameters.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def load_spec(path: str | Path | None = None) -> Spec:
    """Read the declaration (default: the packaged ``free_parameters.yaml``) and check every
    name against the registry and ``outcomes.yaml``."""
    from ...outcomes import outcome_data

    if path is None:
        data = packaged_spec_data()
        where = "free_parameters.yaml"
    else:
        data = yaml.safe_load(Path(path).read_text("utf-8"))
        where = str(path)
    problems: list[Problem] = []
    rows = {r.name: r for r in registry(fitted=False)}
    free: list[FreeParam] = []
    for name, entry in (data.get("kinetic") or {}).items():
        entry = entry or {}
        row = rows.get(name)
        if row is None:
            problems.append(Problem(f"kinetic.{name}", "not a registry parameter"))
            continue
        lo, hi = (float(v) for v in entry.get("range", (row.lo, row.hi)))
        if not (0 < lo < hi) or lo < row.lo or hi > row.hi:
            problems.append(
                Problem(f"kinetic.{name}.range", f"[{lo}, {hi}] not inside ({row.lo}, {row.hi}]")
            )
            continue
        reason = str(entry.get("reason", "the registry range"))
        free.append(FreeParam(name, "kinetic", Prior(lo, hi), row.unit, reason))
    outcomes = outcome_data()
    known = {o.value for o in Observable}
    instruments: dict[str, Instrument] = {}
    claimed: dict[str, str] = {}
    for name, entry in (data.get("instruments") or {}).items():
        observables = tuple(str(o) for o in entry.get("observables", ()))
        for o in observables:
            if o not in known:
                problems.append(Problem(f"instruments.{name}", f"unknown observable {o!r}"))
            elif o in claimed:
                problems.append(Problem(f"instruments.{name}", f"{o!r} already in {claimed[o]}"))
            claimed[o] = name
        param = entry.get("parameter")
        inst = Instrument(
            name,
            str(entry.get("description", "")),
            observables,
            param,
            float(entry.get("tau_scale", 1.0)),
            str(entry.get("unit", "")),
        )
        instruments[name] = inst
        if param is None:
            continue
        row_o = outcomes.get(param)
        if not isinstance(row_o, dict) or "range" not in row_o:
            problems.append(
                Problem(f"instruments.{name}.parameter", f"{param!r} has no range in outcomes.yaml")
            )
            continue
        lo, hi = (float(v) for v in row_o["range"])
        free.append(
            FreeParam(param, "observation", Prior(lo, hi), str(row_o.get("unit", "")), name, name)
        )
    if problems:
        raise ConfigError(problems, where)
    return Spec(
        tuple(free),
        instruments,
        float(data.get("default_cv", 0.6)),
        str(data.get("default_cv_reason", "")),
    )
