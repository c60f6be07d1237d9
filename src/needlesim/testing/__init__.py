"""Test doubles and verification problems: NOT the healing model, never used by it.

* :mod:`~needlesim.testing.analytic` - an analytic batch evaluator with invented,
  closed-form outcomes, for exercising cohorts, Sobol analysis and the planner
  without the model; it declares ``is_model_result = False``;
* :mod:`~needlesim.testing.patch_problems` - problems with known solutions for
  the patch integrator (a decaying Gaussian, a reduced healing system);
* :mod:`~needlesim.testing.sobol_functions` - functions with known Sobol indices.

No production package imports this one (an import-linter contract says so); it
ships in the package so that ``--evaluator needlesim.testing.analytic:analytic_evaluator``
works from the command line, in the docs and in subprocess tests.
"""
