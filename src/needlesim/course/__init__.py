"""One course of sessions for one patient, at either fidelity level.

The flow, in one direction::

    config -> anatomy -> device -> injury -> solve -> outcomes -> results

* :mod:`~needlesim.course.layered` - the ``layered`` level (five compartments per
  patient, :mod:`needlesim.solve`); its names are re-exported here;
* :mod:`~needlesim.course.patch` - the ``patch`` level (3D reaction-diffusion on a
  channel-resolved box, :mod:`needlesim.patch`); imported on its own, since it
  pulls in the voxel machinery.
"""

from .layered import (
    GRID_OBSERVABLES,
    CourseResult,
    needs_dense_grid,
    output_days,
    save_days,
    session_injuries,
    simulate_course,
)

__all__ = [
    "GRID_OBSERVABLES",
    "CourseResult",
    "needs_dense_grid",
    "output_days",
    "save_days",
    "session_injuries",
    "simulate_course",
]
