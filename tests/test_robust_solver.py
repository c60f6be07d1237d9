"""Issue 13: valid courses that once ran out of solver steps now solve; failures are one sentence.

The two configurations (``tests/data/robust``) blew up in finite time: the
keratinocyte/KGF loop of the viable epidermis had a gain above 1 while the
cytokines stayed high (see :mod:`needlesim.biology.epidermis`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from needlesim.biology import (
    Covariates,
    SessionInjury,
    baseline_state,
    default_parameters,
    index,
    reaction_rates,
)
from needlesim.biology.context import compartments
from needlesim.biology.epidermis import KERATINOCYTE_CAPACITY_MAX
from needlesim.cli import app
from needlesim.config import RunConfig, load
from needlesim.course import simulate_course
from needlesim.report.course import summary
from needlesim.solve import SolveError, SolverOptions, simulate_layered
from needlesim.solve import layered as layered_module
from needlesim.solve.layered import step_budget

DATA = Path(__file__).parent / "data" / "robust"
CASES = ["dense-cheek-pen.yaml", "daily-periorbital-90.yaml"]
KER = index("keratinocytes")


def _check_course(config: RunConfig) -> dict[str, object]:
    result = simulate_course(config)
    states = result.trajectory.state
    assert np.isfinite(states).all()
    assert states.min() > -1e-6, "a state went negative"
    # the epidermis never outgrows the largest thickening measured after needling
    assert states[..., KER].max() <= KERATINOCYTE_CAPACITY_MAX * (1 + 1e-6)
    for name, values in result.observables.items():
        assert np.isfinite(values).all(), name
    return summary(result)


def test_daily_course_on_old_thin_skin_solves_to_the_end_with_warnings() -> None:
    """Case 2 in the library (case 1 goes through the CLI below)."""
    config = load(RunConfig, DATA / CASES[1])
    data = _check_course(config)
    codes = {w["code"] for w in data["warnings"]}  # type: ignore[union-attr]
    # 2.5 mm is beyond both regions' limits; 1- and 3-day intervals are inside inflammation
    assert {"depth_limit", "short_interval", "outside_calibration"} <= codes
    depth = [w for w in data["warnings"] if w["code"] == "depth_limit"]  # type: ignore[union-attr]
    assert depth[0]["field"] == "protocol.device.needle_length_mm"


def test_keratinocyte_growth_is_bounded_by_the_cap() -> None:
    """With cytokines far above rest, the KGF-driven capacity saturates at the cap."""
    p = default_parameters()
    cov = Covariates.of(np.array([15.0, 60.0, 300.0, 1500.0, 3000.0]), 30.0, 3.0)
    c = compartments(p, cov)
    y = np.array(baseline_state(p, cov))
    y[1, index("fgf_kgf")] = 1e4
    y[1, KER] = KERATINOCYTE_CAPACITY_MAX
    assert abs(float(np.asarray(reaction_rates(y, p, c))[1, KER])) < 1e-12
    y[1, KER] = 2.0 * KERATINOCYTE_CAPACITY_MAX
    assert float(np.asarray(reaction_rates(y, p, c))[1, KER]) < 0.0


def test_step_budget_scales_with_the_longest_segment() -> None:
    opts = SolverOptions()
    assert step_budget(opts, np.array([0.0, 28.0, 56.0]), 236.0) == opts.max_steps
    long = step_budget(SolverOptions(dtmax=0.1), np.array([0.0]), 3650.0)
    assert long >= 2 * 3650 / 0.1 and long & (long - 1) == 0


def _run_course(options: SolverOptions) -> object:
    p = default_parameters()
    cov = Covariates.of(np.array([15.0, 60.0, 300.0, 1500.0, 3000.0]), 30.0, 3.0)
    # injured fraction per layer, bleeding fraction, channels/cm2, opening um, depth um
    inj = SessionInjury(
        np.full((2, 5), 0.02), np.full(2, 0.5), np.full(2, 2000.0), np.full(2, 80.0),
        np.full(2, 600.0),
    )  # fmt: skip
    return simulate_layered(p, cov, [0.0, 28.0], inj, np.arange(0.0, 60.0), options)


def test_a_failed_solve_is_retried_then_raises_one_sentence(monkeypatch) -> None:
    monkeypatch.setattr(layered_module, "step_budget", lambda o, s, t: o.max_steps)
    monkeypatch.setattr(
        layered_module,
        "fallback_options",
        lambda o: SolverOptions(method="kvaerno5", max_steps=4, throw=False),
    )
    with pytest.raises(SolveError) as info:
        _run_course(SolverOptions(max_steps=4))
    text = str(info.value)
    assert "\n" not in text and "session 1" in text and "try" in text
    assert info.value.patients == (0,)


def test_the_fallback_rescues_a_failed_primary_solve(monkeypatch) -> None:
    monkeypatch.setattr(layered_module, "step_budget", lambda o, s, t: o.max_steps)
    reference = _run_course(SolverOptions(method="kvaerno5", dtmax=0.25, max_steps=4 * 8192))
    rescued = _run_course(SolverOptions(max_steps=4))  # the primary solve runs out of steps
    np.testing.assert_array_equal(
        np.asarray(rescued.states),
        np.asarray(reference.states),  # type: ignore[attr-defined]
    )


def test_cli_maps_a_solve_error_to_exit_1_with_the_sentence(monkeypatch, tmp_path) -> None:
    import needlesim.course.layered as course

    def fail(*args: object, **kwargs: object) -> None:
        raise SolveError("The layered solver could not integrate the patient; try X.", (0,))

    monkeypatch.setattr(course, "simulate_layered", fail)
    res = CliRunner().invoke(app, ["simulate", str(DATA / CASES[0]), "--out", str(tmp_path / "o")])
    assert res.exit_code == 1
    assert "could not integrate the patient of 'dense-cheek-pen'" in res.output
    assert "Traceback" not in res.output and "equinox" not in res.output
    assert "warning:" in res.output  # the warnings came before the failure
    assert not (tmp_path / "o" / "summary.json").exists()


def test_simulate_cli_writes_warnings_to_summary_and_stderr(tmp_path) -> None:
    out = tmp_path / "dense"
    res = CliRunner().invoke(app, ["simulate", str(DATA / CASES[0]), "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads((out / "summary.json").read_text())
    fields = {w["field"] for w in data["warnings"]}
    assert "protocol.device.needle_length_mm" in fields and "protocol.interval_days" in fields
    assert all(set(w) == {"code", "message", "field"} for w in data["warnings"])
    assert "warning:" in res.stderr
    import xarray as xr

    saved = xr.open_zarr(out / "trajectories.zarr").load()
    keratinocytes = saved["keratinocytes"].to_numpy()
    assert np.isfinite(keratinocytes).all()
    assert np.nanmax(keratinocytes) <= KERATINOCYTE_CAPACITY_MAX * (1 + 1e-6)
    for entry in data["observables"].values():
        assert np.isfinite(entry["values"]).all()
