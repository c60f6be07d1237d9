"""``needlesim calibrate``: Bayesian calibration of the free parameters to the studies."""

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
        Path,
        typer.Option(
            "--report", help="Folder for calibration.json, the plots and the design cache."
        ),
    ] = Path("results/calibration"),
    design: Annotated[
        int | None,
        typer.Option("--design", help="Emulator design points (model runs; default 48)."),
    ] = None,
    samples: Annotated[
        int | None,
        typer.Option("--samples", help="Posterior draws per chain (2 chains)."),
    ] = None,
    n: Annotated[
        int | None,
        typer.Option("--n", min=1, help="Virtual patients per study per model run (default 12)."),
    ] = None,
    spec: Annotated[
        Path | None,
        typer.Option("--spec", help="Free-parameter declaration (default: the packaged one)."),
    ] = None,
) -> None:
    """Bayesian calibration: an emulator of the model over the priors, NUTS on it, study-level
    random effects; writes the fitted set, posterior.npz beside it, and a report."""
    from .. import api

    done = api.calibrate(
        studies, out=out_file, report=report, design=design, samples=samples, n=n, spec=spec
    )
    api.print_calibration(done, out)
    files = ", ".join(str(p) for p in done.paths)
    out.print(f"wrote {done.fitted_path} and posterior.npz beside it; report: {files}")
    err.print(
        f"to use this set: NEEDLESIM_FITTED={done.fitted_path} needlesim ... "
        "(or needlesim --fitted PATH ...)",
        highlight=False,
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    """Add ``calibrate`` to a Typer app."""
    app.command("calibrate")(handles_errors(calibrate))
