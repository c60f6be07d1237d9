"""The treatment planner: screening, region depth limits, protocol search, after-care."""

from __future__ import annotations

from .aftercare import Advice, aftercare
from .downtime import downtime_days
from .plan import TreatmentPlan, plan_treatment
from .regions import REGION_DEPTH_KEY, DepthLimit, check_depth, depth_limit
from .report import print_plan, render_html, write_html
from .safety import Rule, history_ids, rules
from .screening import Finding, Screening, check_history, screen
from .search import Candidate, Limits, Prediction, SearchGrid, limits_for, select
from .targets import INDICATION_TARGETS, Target

__all__ = [
    "INDICATION_TARGETS",
    "REGION_DEPTH_KEY",
    "Advice",
    "Candidate",
    "DepthLimit",
    "Finding",
    "Limits",
    "Prediction",
    "Rule",
    "Screening",
    "SearchGrid",
    "Target",
    "TreatmentPlan",
    "aftercare",
    "check_depth",
    "check_history",
    "depth_limit",
    "downtime_days",
    "history_ids",
    "limits_for",
    "plan_treatment",
    "print_plan",
    "render_html",
    "rules",
    "screen",
    "select",
    "write_html",
]
