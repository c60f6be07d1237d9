"""Biology of the healing response: state layout, parameter registry, reaction kinetics.

* :mod:`~needlesim.biology.state` - species order, units, where each lives;
* :mod:`~needlesim.biology.parameters` - the registry (``data/parameters.yaml``)
  and the :class:`Parameters` pytree;
* :mod:`~needlesim.biology.context` - patient covariates and the derived rest
  state (:func:`baseline_state`) that makes the unwounded skin an exact steady
  state;
* one module per mechanism (hemostasis, inflammation, cytokines,
  growth_factors, proteases, fibroblasts, collagen, elastin, epidermis,
  perfusion, pigment, ageing), assembled by :func:`reaction_rates`;
* :mod:`~needlesim.biology.injury` - a session's injury and the jump it causes.
"""

from ._xp import Arr, namespace
from .ageing import AgeingFactors, ageing_factors
from .context import Compartments, Covariates, baseline_state, compartments, resident
from .injury import SessionInjury, apply_injury, channel_coverage, stack_sessions
from .kinetics import RATES, linear_loss_rates, reaction_rates
from .parameters import (
    PARAMETER_NAMES,
    ParameterRow,
    Parameters,
    check_constraints,
    default_parameters,
    parameter_ranges,
    registry,
)
from .pigment import pigment_susceptibility
from .proteases import active_mmp
from .state import (
    DIFFUSIBLE,
    LAYERS,
    N_LAYERS,
    N_SPECIES,
    PRESENCE,
    SPECIES,
    SPECIES_NAMES,
    SPECIES_UNITS,
    S,
    SpeciesInfo,
    index,
    unit,
)

__all__ = [
    "DIFFUSIBLE",
    "LAYERS",
    "N_LAYERS",
    "N_SPECIES",
    "PARAMETER_NAMES",
    "PRESENCE",
    "RATES",
    "SPECIES",
    "SPECIES_NAMES",
    "SPECIES_UNITS",
    "AgeingFactors",
    "Arr",
    "Compartments",
    "Covariates",
    "ParameterRow",
    "Parameters",
    "S",
    "SessionInjury",
    "SpeciesInfo",
    "active_mmp",
    "ageing_factors",
    "apply_injury",
    "baseline_state",
    "channel_coverage",
    "check_constraints",
    "compartments",
    "default_parameters",
    "index",
    "linear_loss_rates",
    "namespace",
    "parameter_ranges",
    "pigment_susceptibility",
    "reaction_rates",
    "registry",
    "resident",
    "stack_sessions",
    "unit",
]
