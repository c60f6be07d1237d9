"""``needlesim calibrate``: Bayesian calibration of the free parameters to the calibration studies.

The cross-validation is a library call (:func:`needlesim.calibration.cross_validate`);
:func:`run_cross_validation` is what ``needlesim validate DIR --cross-validate [--json]`` runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .bayes.design import DEFAULT_DESIGN
from .bayes.run import DEFAULT_SAMPLES, DEFAULT_STUDIES
from .bayes.simulate import EMULATOR_PATIENTS


def run_cross_validation(
    folder: Path,
    as_json: bool,
    out: Console,
    err: Console,
    design: int = DEFAULT_DESIGN,
    report: Path | None = None,
) -> None:
    """Cross-validate ``folder``; print the table (or the JSON); with ``report`` also write
    ``cross_validation.json`` and ``cross_validation.png`` there."""
    from .bayes.crossval import cross_validate, markdown_table, plot_cross_validation

    cache = None if report is None else report / "design.npz"
    result = cross_validate(folder, design=design, cache=cache, console=err)
    if report is not None:
        report.mkdir(parents=True, exist_ok=True)
        (report / "cross_validation.json").write_text(json.dumps(result.to_dict(), indent=2))
        plot_cross_validation(result, report / "cross_validation.png")
    if as_json:
        out.print_json(json.dumps(result.to_dict()))
        return
    out.print(markdown_table(result))
    out.print(
        f"within tolerance: {100 * result.fraction_within_tolerance:.0f} %; coverage of the "
        f"95 % interval: {100 * result.coverage:.0f} %; median interval width "
        f"{100 * result.median_relative_interval_width:.0f} % of the predicted mean"
    )


def register(app: typer.Typer) -> None:
    """Add ``calibrate`` to a Typer app."""
    from needlesim.cli import handles_errors, out

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
                help="Where to write the fitted set, posterior.npz beside it (default: the "
                "packaged src/needlesim/data/fitted.yaml when run from the repository).",
            ),
        ] = None,
        report: Annotated[
            Path, typer.Option("--report", help="Folder for calibration.json, the PNG, the design.")
        ] = Path("results/calibration"),
        design: Annotated[
            int, typer.Option("--design", help="Emulator design points (model runs).")
        ] = DEFAULT_DESIGN,
        samples: Annotated[
            int, typer.Option("--samples", help="Posterior draws per chain (2 chains).")
        ] = DEFAULT_SAMPLES,
        n: Annotated[
            int, typer.Option("--n", min=1, help="Virtual patients per study per model run.")
        ] = EMULATOR_PATIENTS,
        spec: Annotated[
            Path | None,
            typer.Option("--spec", help="Free-parameter declaration (default: the packaged one)."),
        ] = None,
    ) -> None:
        """Bayesian calibration: emulator of the model over the priors, NUTS; fitted set, report."""
        from .bayes.output import print_report
        from .bayes.run import calibrate as run_calibration

        done = run_calibration(studies, out_file, report, design, samples, n, spec_file=spec)
        print_report(done, out)
        files = ", ".join(str(p) for p in done.paths)
        out.print(f"wrote {done.fitted_path} and posterior.npz beside it; report: {files}")
