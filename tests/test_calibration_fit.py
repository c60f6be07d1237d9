"""Calibration fit: derivatives through the model, recovery of known parameters, outputs."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import typer
import yaml
from rich.console import Console
from typer.testing import CliRunner

from needlesim.calibration import fit
from needlesim.calibration.output import print_report, write_fitted, write_report
from needlesim.cli import calibrate as calibrate_cli
from needlesim.outcomes import OutcomeParameters
from test_calibration_support import FREE, problem, synthetic_problem, truth


def test_jacobian_matches_finite_differences() -> None:
    """d prediction / d ln theta: forward mode through the solver against central differences."""
    prob = problem()
    theta = truth()
    _, jac = prob.predictions_and_jacobian(theta)
    h = 1e-4
    for j, name in enumerate(FREE):
        up, down = theta.copy(), theta.copy()
        up[j] *= np.exp(h)
        down[j] *= np.exp(-h)
        fd = (prob.predictions(up) - prob.predictions(down)) / (2 * h)
        # atol: a parameter that does not enter an observable (fgf_resident_share and the
        # scar score) still moves the adaptive steps, ~1e-7 in the value, 1e-3 after / 2h
        np.testing.assert_allclose(jac[:, j], fd, rtol=2e-3, atol=1e-3, err_msg=name)
    # the flare lasts tau ln(D_s / theta_f): d duration / d ln theta_f = -tau exactly
    tau = OutcomeParameters.from_data().erythema_flare_time_constant_days
    assert jac[:, FREE.index("erythema_flare_threshold")].min() == pytest.approx(-tau, rel=1e-6)
    assert np.any(np.abs(jac[:, FREE.index("fgf_resident_share")]) > 0.1)


def test_residual_gradient_matches_finite_differences() -> None:
    """The gradient of the calibration cost, J^T r, against a central difference."""
    prob = problem()
    theta = truth()
    pred, jac = prob.predictions_and_jacobian(theta)
    r = prob.residuals(pred)
    grad = (jac / prob.tolerance_scales(pred)[:, None]).T @ r
    h = 1e-4
    for j in range(len(FREE)):
        up, down = theta.copy(), theta.copy()
        up[j] *= np.exp(h)
        down[j] *= np.exp(-h)
        cost = [0.5 * np.sum(prob.residuals(prob.predictions(x)) ** 2) for x in (up, down)]
        assert grad[j] == pytest.approx((cost[0] - cost[1]) / (2 * h), rel=2e-3, abs=1e-6)


@pytest.fixture(scope="module")
def recovered():
    return fit(synthetic_problem())


def test_fit_recovers_known_parameters(recovered) -> None:
    """Targets generated at known values; the fit starts from the priors and finds them."""
    assert not np.allclose(recovered.start, truth(), rtol=0.05)
    np.testing.assert_allclose(recovered.value, truth(), rtol=1e-3)
    assert recovered.cost_after < 1e-8 < recovered.cost_before
    assert all(recovered.within)


def test_fitted_set_and_report_are_written(recovered, tmp_path: Path) -> None:
    doc = write_fitted(recovered, tmp_path / "fitted.yaml", "studies")
    data = yaml.safe_load((tmp_path / "fitted.yaml").read_text())
    assert data == doc
    assert set(data["parameters"]) == set(FREE)
    entry = data["parameters"]["fgf_resident_share"]
    assert entry["kind"] == "kinetic" and entry["start"] == 0.25
    assert entry["value"] == pytest.approx(0.3, rel=1e-3)
    assert entry["bounds"] == [0.2, 0.35] and "epidermis-and-erythema" in entry["informed_by"]
    assert {"needlesim_version", "date", "optimizer", "targets"} <= set(data)
    assert all("residual_after" in t and "file" in t for t in data["targets"])
    paths = write_report(recovered, tmp_path / "report", doc)
    assert [p.name for p in paths] == ["calibration.json", "predicted_vs_measured.png"]
    assert all(p.stat().st_size > 0 for p in paths)
    console = Console(file=io.StringIO(), width=200)
    print_report(recovered, console)
    text = console.file.getvalue()
    assert "fgf_resident_share" in text and "4 of 4 targets within tolerance" in text


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _main() -> None:
        """test app"""

    calibrate_cli.register(app)
    return app


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--studies", "no/such/folder"], "is not a folder"),
        (["--studies", "{empty}"], "no study files"),
        (["--design", "2"], "at least 8"),
        (["--samples", "3"], "at least 50"),
    ],
)
def test_bad_input_exits_2(args: list[str], message: str, tmp_path: Path) -> None:
    args = [a.replace("{empty}", str(tmp_path)) for a in args]
    out = ["--out", str(tmp_path / "fitted.yaml"), "--report", str(tmp_path / "r")]
    result = CliRunner().invoke(_app(), ["calibrate", *args, *out])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not (tmp_path / "fitted.yaml").exists()
