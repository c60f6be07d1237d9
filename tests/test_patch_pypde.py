"""Cross-check with py-pde: the same reduced healing equations on the same grid agree.

Three species (growth factor, fibroblasts, collagen) with a decaying injury
source in a needle channel, periodic sides and no-flux top and bottom. Both
codes use the same second-order Laplacian, so the comparison isolates the time
integration; the criterion is 1 % of each field's change from baseline (much
stricter than 1 % of the fields themselves).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from needlesim.patch import PatchGrid, StepperOptions, channel_damage, simulate_patch
from needlesim.testing.patch_problems import HealingParameters, healing_model, healing_pypde

pde = pytest.importorskip("pde")

PARAMETERS = HealingParameters(
    d_c=2.0e3, k_c=2.0, p_c=2.0, p_n=0.5, p_w=20.0, d_n=200.0, chi=0.0, r=1.0
)


def test_reduced_healing_agrees_with_py_pde() -> None:
    grid = PatchGrid.uniform((8, 8, 8), 10.0)
    damage = channel_damage(grid, [40.0], [40.0], [50.0], [40.0])
    t_end = 0.5
    model, params = healing_model(damage, PARAMETERS, chemotaxis=False)
    y0 = PARAMETERS.baseline(grid)
    ours = simulate_patch(
        grid, model, y0, params, t_end=t_end, options=StepperOptions(rtol=1e-6, atol=1e-9)
    ).y_final

    eq, state = healing_pypde(grid, damage, PARAMETERS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        final = eq.solve(
            state,
            t_range=t_end,
            dt=1e-3,
            solver="runge-kutta",
            adaptive=True,
            tolerance=1e-7,
            tracker=None,
            backend="numpy",
        )
    theirs = np.stack([field.data for field in final])

    for s, name in enumerate(model.species):
        change = np.abs(theirs[s] - y0[s]).max()
        assert change > 0, name
        assert np.abs(ours[s] - theirs[s]).max() < 0.01 * change, name
