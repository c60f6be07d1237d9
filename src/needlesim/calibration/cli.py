"""``needlesim calibrate``: fit the free parameters to the calibration studies."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .run import DEFAULT_STUDIES


def register(app: typer.Typer) -> None:
    """Add ``calibrate`` to a Typer app."""
    from needlesim.cli import err, handles_errors, out

    @app.command()
    @handles_errors
    def calibrate(
        studies: Annotated[
            Path, typer.Option("--studies", help="Folder of calibration studies (YAML).")
        ] = DEFAULT_STUDIES,
        out_file: Annotated[
            Path | None,
            typer.Option(
                "--out",
                "-o",
                help="Where to write the fitted set (default: the packaged "
                "src/needlesim/data/fitted.yaml when run from the repository; else required).",
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
        from .output import print_report
        from .run import calibrate as run_calibration

        with err.status("calibrating (compiling the model, then fitting)"):
            done = run_calibration(studies, out_file, report, free, tolerances, n)
        print_report(done.result, out)
        files = ", ".join(str(p) for p in done.report_paths)
        out.print(f"wrote {done.fitted_path}; report: {files}")
