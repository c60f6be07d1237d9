"""Warnings about a protocol or a population: safety limits and the calibrated domain.

Never blocking: :func:`check_run` and :func:`check_study` return a list of
:class:`Advisory` (``code``, ``message``, ``field``) that ``simulate``,
``study run`` and ``plan`` print and store beside their results.

* :mod:`~needlesim.safety.depth` - needle-length limits by region (safety.yaml);
* :mod:`~needlesim.safety.recovery` - the shortest interval the tissue needs;
* :mod:`~needlesim.safety.domain` - what the calibration studies covered.
"""

from .advisory import Advisory
from .checks import check_protocol, check_run, check_study
from .depth import REGION_DEPTH_KEY, DepthLimit, depth_limit
from .domain import CalibratedDomain, calibrated_domain
from .recovery import recovery_days

__all__ = [
    "REGION_DEPTH_KEY",
    "Advisory",
    "CalibratedDomain",
    "DepthLimit",
    "calibrated_domain",
    "check_protocol",
    "check_run",
    "check_study",
    "depth_limit",
    "recovery_days",
]
