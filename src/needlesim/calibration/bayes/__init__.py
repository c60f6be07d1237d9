"""Bayesian calibration (NUTS on an emulator of the model) and cross-validation.

* :mod:`.spec` - the free parameters and instruments, declared in ``free_parameters.yaml``;
* :mod:`.data` - the measured values of a folder of studies;
* :mod:`.simulate` - the real model at a parameter point (small fixed cohorts per study);
* :mod:`.emulator`, :mod:`.design` - polynomial emulators over a Sobol design of the prior box;
* :mod:`.model` - the statistical model (study random effects) and NUTS (NumPyro);
* :mod:`.predictive` - the 95 % interval of a study mean (parameters + cohort size);
* :mod:`.run` - :func:`calibrate`; :mod:`.crossval` - :func:`cross_validate`;
* :mod:`.study_interval` - the hook ``study run`` calls for ``mean_p2_5``/``mean_p97_5``.
"""

from .crossval import CrossValidationResult, cross_validate
from .run import BayesCalibration, calibrate
from .spec import Spec, load_spec

__all__ = [
    "BayesCalibration",
    "CrossValidationResult",
    "Spec",
    "calibrate",
    "cross_validate",
    "load_spec",
]
