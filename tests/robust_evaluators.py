"""Evaluators for the fault tests (``--evaluator robust_evaluators:slow``): the analytic
test double, slowed down so that a run can be killed while it is in progress."""

from __future__ import annotations

from needlesim.testing.analytic import AnalyticEvaluator

slow = AnalyticEvaluator(delay_s=0.5)
