"""The parameter registry: values, units, ranges and sources, loaded as a JAX pytree.

``data/parameters.yaml`` holds every kinetic parameter with its value, unit,
plausible range and a ``source`` (citation), ``fitted`` (the data it was tuned
to) or ``assumption`` (with its reason). This module loads it into
:class:`Parameters`, an equinox Module whose leaves are float64 arrays, so a
parameter set can be passed through ``jit``, ``vmap`` (a virtual cohort: one set
per patient) and ``grad`` (calibration).

Build parameter sets with:

* :func:`default_parameters` - the registry values;
* :meth:`Parameters.from_dict` / :meth:`Parameters.replace` - named overrides,
  scalars or arrays (arrays with a leading axis give a batch);
* :meth:`Parameters.from_array` / :meth:`Parameters.to_array` - a matrix
  ``(..., n)`` against a list of names (Sobol designs, optimisers);
* :func:`registry` - the table rows ``(name, value, unit, lo, hi, source)``.

Calibration: ``needlesim calibrate`` writes the fitted values, with their
provenance, to ``data/fitted.yaml`` (:func:`fitted_set`). Where that file
exists its kinetic values replace the registry's by default: their rows read
``fitted: needlesim calibrate ... to <targets>`` and keep the prior value and
source. ``registry(fitted=False)`` / ``default_parameters(fitted=False)`` give
the prior (uncalibrated) set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import yaml
from jax import Array
from numpy.typing import ArrayLike, NDArray

_KINDS = ("source", "fitted", "assumption")
FITTED_FILE = "fitted.yaml"
"""The packaged calibration result in ``needlesim/data`` (written by ``needlesim calibrate``)."""


class ParameterRow(NamedTuple):
    """One registry entry. ``source`` reads ``"<kind>: <text>"``."""

    name: str
    value: float
    unit: str
    lo: float
    hi: float
    source: str
    kind: str
    description: str


class Parameters(eqx.Module):
    """All kinetic parameters (float64 arrays; scalars, or a leading batch axis).

    Field order is the order of ``data/parameters.yaml``; units and meaning are
    in :func:`registry`.
    """

    damage_amplification: Array
    clot_amplification: Array
    capillary_cut_fraction: Array
    damage_clearance_rate: Array
    damage_phagocytosis_rate: Array
    clot_lysis_rate: Array
    damage_half_saturation: Array
    neutrophil_recruitment_rate: Array
    clot_chemotaxis_share: Array
    neutrophil_apoptosis_rate: Array
    efferocytosis_rate: Array
    monocyte_recruitment_rate: Array
    monocyte_damage_share: Array
    macrophage_switch_rate: Array
    switch_tgf_share: Array
    macrophage_inflammatory_death_rate: Array
    macrophage_repair_turnover_rate: Array
    cytokine_decay_rate: Array
    cytokine_from_damage: Array
    cytokine_from_neutrophils: Array
    cytokine_from_macrophages: Array
    tgf_beta1_decay_rate: Array
    tgf_beta1_macrophage_share: Array
    tgf_beta1_from_clot: Array
    tgf_beta3_decay_rate: Array
    tgf_beta3_macrophage_share: Array
    tgf_beta3_resident_share: Array
    pdgf_decay_rate: Array
    pdgf_macrophage_share: Array
    pdgf_from_inflammatory_macrophages: Array
    pdgf_from_clot: Array
    fgf_decay_rate: Array
    fgf_resident_share: Array
    fgf_cytokine_share: Array
    fgf_from_damage: Array
    vegf_decay_rate: Array
    vegf_macrophage_share: Array
    vegf_from_inflammatory_macrophages: Array
    mmp_decay_rate: Array
    mmp_resident_share: Array
    mmp_cytokine_share: Array
    mmp_from_neutrophils: Array
    mmp_from_inflammatory_macrophages: Array
    mmp_from_open_channels: Array
    timp_decay_rate: Array
    timp_resident_share: Array
    timp_tgf_share: Array
    timp_inhibition: Array
    wound_response_capacity: Array
    fibroblast_turnover_rate: Array
    fibroblast_max_proliferation_rate: Array
    fibroblast_pdgf_weight: Array
    fibroblast_tgf_weight: Array
    fibroblast_crowding_capacity: Array
    myofibroblast_baseline_fraction: Array
    myofibroblast_apoptosis_rate: Array
    myofibroblast_tgf_hill_exponent: Array
    myofibroblast_tgf_half_activation: Array
    myofibroblast_tgf_beta3_inhibition: Array
    collagen_I_baseline_fraction: Array
    collagen_III_baseline_fraction: Array
    collagen_I_degradation_rate: Array
    collagen_III_turnover_rate: Array
    collagen_III_mmp_share: Array
    collagen_maturation_rate: Array
    myofibroblast_synthesis_ratio: Array
    collagen_I_tgf_share: Array
    collagen_III_pdgf_share: Array
    tropoelastin_baseline_fraction: Array
    tropoelastin_turnover_rate: Array
    elastin_turnover_rate: Array
    neutrophil_elastase_rate: Array
    tropoelastin_tgf_share: Array
    keratinocyte_turnover_rate: Array
    keratinocyte_fgf_share: Array
    keratinocyte_autocrine_share: Array
    channel_closure_rate: Array
    barrier_recovery_rate: Array
    angiogenesis_rate: Array
    capillary_vegf_share: Array
    melanin_turnover_rate: Array
    melanin_pigment_gain: Array
    pigment_induction_rate: Array
    pigment_decay_rate: Array
    pigment_fitzpatrick_half: Array
    pigment_fitzpatrick_hill: Array
    ageing_reference_age_years: Array
    fibroblast_ageing_slope: Array
    collagen_ageing_slope: Array
    response_ageing_slope: Array
    turnover_ageing_slope: Array
    mediator_diffusivity_um2_per_day: Array

    @classmethod
    def from_dict(
        cls, values: Mapping[str, ArrayLike], base: Parameters | None = None
    ) -> Parameters:
        """``base`` (default: the registry) with the named values replaced."""
        unknown = sorted(set(values) - set(PARAMETER_NAMES))
        if unknown:
            raise KeyError(f"unknown parameter(s) {unknown}; see needlesim.biology.registry()")
        start = default_parameters() if base is None else base
        merged = {name: getattr(start, name) for name in PARAMETER_NAMES}
        merged.update({k: jnp.asarray(v, dtype=jnp.float64) for k, v in values.items()})
        return cls(**merged)

    def replace(self, **values: ArrayLike) -> Parameters:
        """A copy with the named values replaced."""
        return Parameters.from_dict(values, base=self)

    @classmethod
    def from_array(
        cls,
        values: ArrayLike,
        names: Sequence[str] | None = None,
        base: Parameters | None = None,
    ) -> Parameters:
        """Columns of ``values[..., len(names)]`` as the named parameters (default: all)."""
        names = PARAMETER_NAMES if names is None else tuple(names)
        arr = jnp.asarray(values, dtype=jnp.float64)
        if arr.shape[-1:] != (len(names),):
            raise ValueError(f"values has shape {arr.shape}; last axis must be {len(names)}")
        return cls.from_dict({n: arr[..., i] for i, n in enumerate(names)}, base=base)

    def to_array(self, names: Sequence[str] | None = None) -> Array:
        """The named parameters (default: all) as columns ``(..., len(names))``."""
        names = PARAMETER_NAMES if names is None else tuple(names)
        leaves = [jnp.asarray(getattr(self, n)) for n in names]
        shape = jnp.broadcast_shapes(*(leaf.shape for leaf in leaves))
        return jnp.stack([jnp.broadcast_to(leaf, shape) for leaf in leaves], axis=-1)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Broadcast shape of the leaves (``()`` for a single parameter set)."""
        shapes = [jnp.shape(leaf) for leaf in jax.tree.leaves(self)]
        return tuple(jnp.broadcast_shapes(*shapes))

    def broadcast(self, shape: tuple[int, ...]) -> Parameters:
        """Every leaf broadcast to ``shape`` (for ``vmap`` over a batch)."""
        return jax.tree.map(lambda x: jnp.broadcast_to(jnp.asarray(x), shape), self)


PARAMETER_NAMES: tuple[str, ...] = tuple(Parameters.__dataclass_fields__)
"""Parameter names in registry order."""


@cache
def _raw() -> dict[str, dict[str, Any]]:
    text = resources.files("needlesim.data").joinpath("parameters.yaml").read_text("utf-8")
    data: dict[str, dict[str, Any]] = yaml.safe_load(text)["parameters"]
    return data


@cache
def fitted_set() -> dict[str, Any]:
    """The packaged calibration result (``data/fitted.yaml``), or ``{}`` if there is none.

    ``NEEDLESIM_FITTED=path`` (or ``needlesim --fitted path``) reads a user's
    fitted set instead (one written by ``needlesim calibrate --out``).

    ``parameters`` maps each fitted name to ``{kind: kinetic | observation,
    value, start, bounds, informed_by, ...}``; the rest is provenance (see
    :mod:`needlesim.calibration`).
    """
    own = os.environ.get("NEEDLESIM_FITTED")  # a user's set, only when pointed to
    path: Any = Path(own) if own else resources.files("needlesim.data").joinpath(FITTED_FILE)
    if own and not path.is_file():
        from ..config import ConfigError, Problem

        raise ConfigError([Problem("NEEDLESIM_FITTED", f"no fitted set at {own!r}")])
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text("utf-8")) or {}
    if not isinstance(data, dict) or not isinstance(data.get("parameters", {}), dict):
        raise ValueError(f"{FITTED_FILE}: expected a mapping with a 'parameters' mapping")
    return data


def fitted_values(kind: str) -> dict[str, tuple[float, str]]:
    """``{name: (value, provenance)}`` of the packaged fitted parameters of ``kind``.

    ``kind`` is ``"kinetic"`` (this registry) or ``"observation"``
    (``data/outcomes.yaml``). The provenance names the command, date, version
    and the targets that inform the value.
    """
    data = fitted_set()
    when = f"{data.get('date', '?')}, needlesim {data.get('needlesim_version', '?')}"
    out = {}
    for name, entry in (data.get("parameters") or {}).items():
        if entry.get("kind") != kind:
            continue
        targets = ", ".join(entry.get("informed_by") or []) or "the calibration targets"
        text = f"needlesim calibrate ({when}; {FITTED_FILE}) to {targets}"
        out[str(name)] = (float(entry["value"]), text)
    return out


@cache
def registry(fitted: bool = True) -> tuple[ParameterRow, ...]:
    """The registry rows, in order; checks each entry (range, exactly one source kind).

    With ``fitted`` (default) the values of the packaged calibration
    (:func:`fitted_values`) replace the registry's; ``fitted=False`` gives the
    prior values of ``data/parameters.yaml``.
    """
    rows = []
    for name, entry in _raw().items():
        kinds = [k for k in _KINDS if k in entry]
        if len(kinds) != 1:
            raise ValueError(f"parameter {name!r}: needs exactly one of {_KINDS}, has {kinds}")
        lo, hi = (float(v) for v in entry["range"])
        value = float(entry["value"])
        if not lo <= value <= hi:
            raise ValueError(f"parameter {name!r}: value {value} outside its range [{lo}, {hi}]")
        kind = kinds[0]
        rows.append(
            ParameterRow(
                name=name,
                value=value,
                unit=str(entry["unit"]),
                lo=lo,
                hi=hi,
                source=f"{kind}: {entry[kind]}",
                kind=kind,
                description=str(entry.get("description", "")),
            )
        )
    names = tuple(r.name for r in rows)
    if names != PARAMETER_NAMES:
        missing = sorted(set(PARAMETER_NAMES) - set(names))
        extra = sorted(set(names) - set(PARAMETER_NAMES))
        raise ValueError(f"parameters.yaml and Parameters differ: missing {missing}, extra {extra}")
    return tuple(_with_fitted(rows) if fitted else rows)


def _with_fitted(rows: list[ParameterRow]) -> list[ParameterRow]:
    """``rows`` with the packaged fitted values in place (kind ``fitted``, prior kept)."""
    fitted = fitted_values("kinetic")
    unknown = sorted(set(fitted) - set(PARAMETER_NAMES))
    if unknown:
        raise ValueError(f"{FITTED_FILE}: unknown kinetic parameter(s) {unknown}")
    out = []
    for row in rows:
        if row.name not in fitted:
            out.append(row)
            continue
        value, text = fitted[row.name]
        if not row.lo <= value <= row.hi:
            raise ValueError(
                f"{FITTED_FILE}: {row.name} = {value} outside its range [{row.lo}, {row.hi}]"
            )
        source = f"fitted: {text}; prior {row.value:.4g} ({row.source})"
        out.append(row._replace(value=value, source=source, kind="fitted"))
    return out


def default_parameters(fitted: bool = True) -> Parameters:
    """The registry values as a :class:`Parameters` of float64 scalars.

    ``fitted=False``: the prior values, without the packaged calibration.
    """
    rows = registry(fitted)
    return Parameters(**{r.name: jnp.asarray(r.value, dtype=jnp.float64) for r in rows})


def parameter_ranges(names: Sequence[str] | None = None) -> NDArray[np.float64]:
    """``[[lo, hi], ...]`` of the named parameters (default: all), for sampling."""
    rows = {r.name: r for r in registry()}
    names = PARAMETER_NAMES if names is None else tuple(names)
    return np.array([[rows[n].lo, rows[n].hi] for n in names], dtype=np.float64)


def check_constraints(p: Parameters) -> None:
    """Raise ``ValueError`` where a parameter set breaks a structural constraint.

    Shares that add up must not exceed 1, and the rest myofibroblast activation
    ``m_0 k_Mf`` must stay below the fibroblast turnover ``r_0`` (else there is
    no rest state).
    """
    v = {n: np.asarray(getattr(p, n)) for n in PARAMETER_NAMES}
    problems = []
    if np.any(v["tgf_beta3_macrophage_share"] + v["tgf_beta3_resident_share"] > 1.0):
        problems.append("tgf_beta3_macrophage_share + tgf_beta3_resident_share > 1")
    activation = v["myofibroblast_baseline_fraction"] * v["myofibroblast_apoptosis_rate"]
    if np.any(activation >= v["fibroblast_turnover_rate"]):
        problems.append(
            "myofibroblast_baseline_fraction * myofibroblast_apoptosis_rate must be "
            "< fibroblast_turnover_rate"
        )
    shares = [n for n in PARAMETER_NAMES if n.endswith("_share") and n != "clot_chemotaxis_share"]
    shares = [n for n in shares if n != "monocyte_damage_share"]
    for n in shares:
        if np.any((v[n] < 0.0) | (v[n] > 1.0)):
            problems.append(f"{n} must lie in [0, 1]")
    for n in PARAMETER_NAMES:
        if n.endswith("_rate") and np.any(v[n] < 0.0):
            problems.append(f"{n} must be >= 0")
    if problems:
        raise ValueError("invalid parameters: " + "; ".join(problems))
