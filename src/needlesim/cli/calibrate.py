"""``needlesim calibrate``: fit the free parameters to the calibration studies."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import err, handles_errors, out


def calibrate(
    studies: Annotated[
        Path, typer.Option("--studies", help="Folder of calibration studies (YAML).")
    ] = Path("studies/calibration"),
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Where to write the fitted set (default: fitted.yaml in the user data folder, "
            "$NEEDLESIM_DATA_DIR or ~/.local/share/needlesim). The packaged set changes only "
            "when a developer copies a file over it (docs/calibration.md).",
        ),
    ] = None,
    report: Annotated[
        Path, typer.Option("--report", help="Folder for calibration.json and the PNG.")
    ] = Path("results/calibration"),
    free: Annotated[
        list[str] | None,
        typer.Option(
            "--free",
            help="Kinetic parameter to fit besides the observation gains and thresholds "
            "(repeat; default: fgf_resident_share and fibroblast_turnover_rate).",
        ),
    ] = None,
    tolerances: Annotated[
        Path | None,
        typer.Option("--tolerances", help="Tolerance table (default: the packaged one)."),
    ] = None,
    n: Annotated[
        int | None,
        typer.Option("--n", min=1, help="Virtual patients per study (default: population.n)."),
    ] = None,
) -> None:
    """Fit the free parameters to published data; write the fitted set and a report.

    Gradient-based least squares through the JAX model: residuals
    (predicted - measured) / tolerance on each study's virtual cohort.
    """
    from .. import api

    with err.status("calibrating (compiling the model, then fitting)"):
        done = api.calibrate(
            studies, out=out_file, report=report, free=free, tolerances=tolerances, n=n
        )
    api.print_calibration(done.result, out)
    files = ", ".join(str(p) for p in done.report_paths)
    out.print(f"wrote {done.fitted_path}; report: {files}")
    err.print(
        f"to use this set: NEEDLESIM_FITTED={done.fitted_path} needlesim ... "
        "(or needlesim --fitted PATH ...)",
        highlight=False,
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    """Add ``calibrate`` to a Typer app."""
    app.command("calibrate")(handles_errors(calibrate))
