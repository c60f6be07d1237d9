"""Calibration: fit the free parameters to published data, through the JAX model.

* :mod:`~needlesim.calibration.targets` - measured values of a folder of
  studies, each with a justified tolerance (``tolerances.yaml``);
* :mod:`~needlesim.calibration.cohort` - each study's fixed virtual cohort as
  solver inputs of one shared shape;
* the observation models are :func:`needlesim.outcomes.observe`, traced and
  differentiated by JAX (one implementation for every caller);
* :mod:`~needlesim.calibration.model` - free parameters -> cohort means, with
  the forward-mode Jacobian through the solver;
* :mod:`~needlesim.calibration.problem` - the free parameters and the residuals
  ``(predicted - measured) / tolerance``;
* :mod:`~needlesim.calibration.fit` - bounded Gauss-Newton on the log-parameters;
* :mod:`~needlesim.calibration.output` - ``fitted.yaml`` with its provenance,
  the report (table, PNG, JSON);
* :func:`calibrate_least_squares` - all of it, least squares (the previous calibration);
* :mod:`~needlesim.calibration.bayes` - :func:`calibrate` (Bayesian, ``needlesim calibrate``)
  and :func:`cross_validate` (``needlesim validate DIR --cross-validate``).

The packaged result, ``needlesim/data/fitted.yaml`` (or a user set named by
``NEEDLESIM_FITTED``), is read by
:func:`needlesim.biology.registry` and
:meth:`needlesim.outcomes.OutcomeParameters.from_data`.
"""

from __future__ import annotations

from .bayes import BayesCalibration, CrossValidationResult, calibrate, cross_validate
from .fit import FitResult, fit
from .problem import (
    DEFAULT_KINETIC,
    CalibrationProblem,
    FreeParameter,
    build_problem,
    evaluate_targets,
    free_parameters,
)
from .run import Calibration, packaged_fitted_path
from .run import calibrate as calibrate_least_squares
from .targets import Target, Tolerance, load_targets

__all__ = [
    "DEFAULT_KINETIC",
    "BayesCalibration",
    "Calibration",
    "CalibrationProblem",
    "CrossValidationResult",
    "FitResult",
    "FreeParameter",
    "Target",
    "Tolerance",
    "build_problem",
    "calibrate",
    "calibrate_least_squares",
    "cross_validate",
    "evaluate_targets",
    "fit",
    "free_parameters",
    "load_targets",
    "packaged_fitted_path",
]
