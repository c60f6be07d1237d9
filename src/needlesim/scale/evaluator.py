"""The one interface to the healing model: a batch evaluator.

Everything model-dependent in cohorts, sensitivity analysis and planning goes
through a :data:`BatchEvaluator`::

    evaluator(patients, protocol, overrides) -> outcomes

* ``patients``: one row per patient, columns :data:`PATIENT_COLUMNS`;
* ``protocol``: the :class:`~needlesim.config.Protocol` given to every patient;
* ``overrides``: ``None`` or ``{parameter name: array of len(patients)}``, per-patient
  values of model parameters (used by the Sobol analysis);
* ``outcomes``: one row per patient and output day, columns ``patient_id``, ``day``
  and one column per observable name (:class:`~needlesim.config.Observable`).

The default evaluator is :func:`needlesim.studies.evaluate_batch`, imported when it
is first needed (the healing model pulls in JAX). Any callable of this type can be
passed instead, or named on the command line as ``--evaluator module:attribute``.

An evaluator whose numbers do not come from the healing model (a test double)
says so itself with the attribute ``is_model_result = False``; outputs then carry
``test_double: true`` and the command line warns. Nothing is recognised by name.

Many courses at once (:func:`evaluate_protocols`, the planner's search): an
evaluator may also offer ``evaluator.courses(patients, protocols, overrides, *,
expected=False) -> [outcomes, ...]``, the outcomes under each protocol, solved
together (the healing model does); any other evaluator is called once per protocol.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import TypeAlias

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..config import ConfigError, Observable, Problem, Protocol
from ..solve import SolverOptions

BatchEvaluator: TypeAlias = Callable[
    [pd.DataFrame, Protocol, Mapping[str, NDArray[np.float64]] | None], pd.DataFrame
]
"""``(patients, protocol, overrides) -> outcomes``: see the module docstring."""

PATIENT_COLUMNS: tuple[str, ...] = (
    "patient_id",
    "age_years",
    "female",
    "fitzpatrick",
    "region",
    "indication",
    "baseline_severity",
    "seed",
)
"""Columns of the patient table handed to an evaluator."""

OBSERVABLES: tuple[str, ...] = tuple(o.value for o in Observable)
"""Every observable name, in the order of the contract (DESIGN.md)."""


class ModelUnavailableError(RuntimeError):
    """The default evaluator (the healing model) cannot be imported yet."""


def load_evaluator(spec: str, option: str = "--evaluator") -> BatchEvaluator:
    """Import an evaluator named ``module:attribute`` (or ``module.attribute``).

    A class attribute that is a type is instantiated without arguments, so a
    callable class can be named as well as a function.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep:
        module_name, _, attr = spec.rpartition(".")
    if not module_name or not attr:
        raise ConfigError([Problem(option, f"{spec!r} is not of the form module:attribute")])
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError([Problem(option, f"cannot import {module_name!r}: {exc}")]) from None
    target = getattr(module, attr, None)
    if target is None:
        raise ConfigError([Problem(option, f"{module_name!r} has no attribute {attr!r}")])
    if isinstance(target, type):
        target = target()
    if not callable(target):
        raise ConfigError([Problem(option, f"{spec!r} is not callable")])
    evaluator: BatchEvaluator = target
    return evaluator


def model_evaluator() -> BatchEvaluator:
    """The healing model's evaluator, :func:`needlesim.studies.evaluate_batch` (imported here,
    on first use, so that the plumbing loads without JAX)."""
    from ..studies import evaluate_batch

    return evaluate_batch


def resolve_evaluator(evaluator: BatchEvaluator | str | None = None) -> BatchEvaluator:
    """The evaluator to use: the one given, one named ``module:attr``, or the model's.

    Raises :class:`ModelUnavailableError` when none is given and the model cannot be
    imported.
    """
    if evaluator is None:
        try:
            return model_evaluator()
        except ImportError as exc:
            raise ModelUnavailableError(
                "the healing model's batch evaluator (needlesim.studies.evaluate_batch) is not "
                f"available in this installation ({exc}); pass an evaluator "
                "(Python: evaluator=..., command line: --evaluator module:attribute)"
            ) from None
    if isinstance(evaluator, str):
        return load_evaluator(evaluator)
    return evaluator


def evaluator_name(evaluator: object) -> str:
    """A stable, readable name of an evaluator (module.qualname of its function or class)."""
    target: object = evaluator if hasattr(evaluator, "__qualname__") else type(evaluator)
    module = getattr(target, "__module__", "?")
    return f"{module}.{getattr(target, '__qualname__', repr(target))}"


def is_test_double(evaluator: object) -> bool:
    """Whether ``evaluator`` declares that its numbers are not model results.

    The evaluator's own flag ``is_model_result`` decides (``False``: a test double,
    such as :data:`needlesim.testing.analytic.analytic_evaluator`); an evaluator
    without the flag is taken at its word as a model.
    """
    return getattr(evaluator, "is_model_result", True) is False


def normalise_outcomes(outcomes: pd.DataFrame, patients: pd.DataFrame) -> pd.DataFrame:
    """Check an evaluator's output against the contract and put it in canonical form.

    Columns become ``patient_id``, ``day`` and every observable in contract order
    (a missing observable is a column of NaN); rows are sorted by patient and day.
    Unknown columns, or patients that are missing or not asked for, are errors:
    they mean the evaluator and this code disagree about the contract.
    """
    if not isinstance(outcomes, pd.DataFrame):
        raise TypeError(f"an evaluator must return a pandas DataFrame, got {type(outcomes)}")
    missing = [c for c in ("patient_id", "day") if c not in outcomes.columns]
    if missing:
        raise ValueError(f"evaluator output lacks the columns {missing}")
    unknown = sorted(set(outcomes.columns) - {"patient_id", "day", *OBSERVABLES})
    if unknown:
        raise ValueError(f"evaluator output has columns that are not observables: {unknown}")
    asked = set(patients["patient_id"].to_numpy().tolist())
    got = set(outcomes["patient_id"].to_numpy().tolist())
    if asked != got:
        raise ValueError(
            f"evaluator output covers {len(got & asked)} of {len(asked)} patients "
            f"and {len(got - asked)} patients not asked for"
        )
    ids = outcomes["patient_id"].to_numpy(dtype=np.int64)
    days = outcomes["day"].to_numpy(dtype=np.float64)
    order = np.lexsort((days, ids))  # by patient, then day (stable)
    absent = np.full(len(outcomes), np.nan)
    columns = {"patient_id": ids[order], "day": days[order]}
    for name in OBSERVABLES:
        values = outcomes[name].to_numpy(dtype=np.float64) if name in outcomes else absent
        columns[name] = values[order]
    return pd.DataFrame(columns)


def evaluate_protocols(
    evaluator: BatchEvaluator,
    patients: pd.DataFrame,
    protocols: Sequence[Protocol],
    *,
    expected: bool = False,
    options: SolverOptions | None = None,
) -> list[pd.DataFrame]:
    """The outcomes of ``patients`` under each of ``protocols``, normalised
    (:func:`normalise_outcomes`).

    Through the evaluator's ``courses`` method where it has one (one batched solve
    of every course), else one call per protocol. ``expected``: each patient as the
    *expected patient* of their profile (``courses(..., expected=True)``: the mean
    over the dominant individual factor; see
    :func:`needlesim.studies.evaluate_courses`); an evaluator without ``courses``
    gets the patients as they are. ``options``: the solver's settings for ``courses``
    (the planner's screen ranks at a looser tolerance); an evaluator without
    ``courses`` ignores them.
    """
    many = getattr(evaluator, "courses", None)
    if many is not None:
        extra = {} if options is None else {"options": options}
        raw = many(patients, list(protocols), None, expected=expected, **extra)
    else:
        raw = [evaluator(patients, protocol, None) for protocol in protocols]
    return [normalise_outcomes(r, patients) for r in raw]
