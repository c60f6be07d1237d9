"""The ``patch`` fidelity level: 3D reaction-diffusion on a channel-resolved patch of skin.

A box periodic in x and y and layered in depth (:class:`PatchGrid`), species
with per-layer diffusivities, chemotaxis and voxel-local kinetics
(:class:`PatchModel`), sessions that stamp needle channels onto the grid
(:class:`Session`, :func:`damage_from_punctures`), an adaptive, second-order,
L-stable, steady-state-preserving integrator (:class:`PatchIntegrator`), and
the run driver with checkpoints and outputs (:func:`simulate_patch`).
The grid and its transport operators live in :mod:`needlesim.geometry`
(re-exported here: :class:`PatchGrid`, :class:`DiffusionOperator`).

The scheme, in one line: the Rosenbrock method ROS2 on the whole
reaction-diffusion-chemotaxis system (no splitting), its stage systems solved
by GMRES preconditioned with the exact lateral-FFT / depth-tridiagonal inverse
of diffusion plus the stiff linear decay, with the embedded first-order error
estimate for adaptive steps. See ``docs/patch.md``.
"""

from ..geometry.diffusion import DiffusionOperator, lateral_symbol
from ..geometry.grid import PatchGrid
from .checkpoint import Checkpoint
from .events import (
    PunctureLike,
    Session,
    channel_damage,
    channel_entries,
    cone_volume_um3,
    damage_from_punctures,
)
from .model import (
    Chemotaxis,
    InjuryFn,
    Params,
    PatchModel,
    ReactionContext,
    ReactionFn,
)
from .output import OutputSpec, PatchResult, layer_means
from .plots import plot_depth_profiles, plot_radial_profile, plot_slice, write_image_series
from .run import Checkpointing, PatchIntegrationError, Progress, simulate_patch
from .stepper import PatchIntegrator, StepperOptions, StepState
from .vtk import fields_to_vti, vti_text, write_vti

__all__ = [
    "Checkpoint",
    "Checkpointing",
    "Chemotaxis",
    "DiffusionOperator",
    "InjuryFn",
    "OutputSpec",
    "Params",
    "PatchGrid",
    "PatchIntegrationError",
    "PatchIntegrator",
    "PatchModel",
    "PatchResult",
    "Progress",
    "PunctureLike",
    "ReactionContext",
    "ReactionFn",
    "Session",
    "StepState",
    "StepperOptions",
    "channel_damage",
    "channel_entries",
    "cone_volume_um3",
    "damage_from_punctures",
    "fields_to_vti",
    "lateral_symbol",
    "layer_means",
    "plot_depth_profiles",
    "plot_radial_profile",
    "plot_slice",
    "simulate_patch",
    "vti_text",
    "write_image_series",
    "write_vti",
]
