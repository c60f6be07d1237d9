"""``needlesim simulate``: one patient's course, at the configured fidelity."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from ..io.progress import progress_bar
from .common import (
    ConfigArg,
    JsonOption,
    OutOption,
    compact,
    default_out,
    err,
    handles_errors,
    out,
    print_warnings,
)


def simulate(
    config: ConfigArg,
    out_dir: OutOption = None,
    as_json: JsonOption = False,
) -> None:
    """Simulate one patient's course: injury, healing over months, observables.

    Writes trajectories.zarr, summary.json, PNG plots and report.html.
    """
    from .. import api

    run = api.load(config, kind="run")
    folder = api.check_output_dir(out_dir or default_out(config))
    print_warnings(api.check_run(run))
    if run.simulation.fidelity == "patch":
        end = float(run.end_day())
        with progress_bar(console=err, transient=True) as bar:
            task = bar.add_task(f"{run.name}: simulated days on a 3D patch", total=end)
            shown = [0.0]

            def advance(fraction: float) -> None:
                day = round(fraction * end, 1)
                if day > shown[0]:
                    bar.advance(task, day - shown[0])
                    shown[0] = day

            # checkpoints in folder, resumes
            result = api.simulate(run, checkpoint_dir=folder, progress=advance)
        with err.status(f"writing {folder}"):
            result.save(folder)
        patch_data = result.summary
        if as_json:
            sys.stdout.write(json.dumps(patch_data) + "\n")
            return
        agree = ", ".join(
            f"{k} {v:+.1%}" for k, v in patch_data["layered_agreement"].items() if k != "day"
        )
        out.print(
            f"patch {patch_data['grid']['shape']} in {patch_data['runtime_s']:.1f} s; "
            f"vs layered on day {patch_data['end_day']:g}: {agree}"
        )
        collagen = patch_data["observables"]["dermal_collagen_change_pct"]
        remodelled = patch_data["dermis_remodelled"]
        out.print(
            f"day {patch_data['days'][-1]:g}: dermal collagen {_num(collagen['values'][-1])} % "
            f"(layered {_num(collagen['layered'][-1])} %); dermis remodelled "
            f"(> {remodelled['threshold_fraction_of_rest']:.0%} of rest): "
            f"{_num(remodelled['fraction'][-1])}"
        )
        out.print(f"wrote {folder}/summary.json, patch.zarr, PNGs and a .vti")
        return
    with err.status(f"simulating {run.name} ({run.protocol.session_count} sessions)"):
        result = api.simulate(run)
        result.save(folder)
    data = result.summary
    if as_json:
        sys.stdout.write(json.dumps(data) + "\n")
        return
    _print_course_summary(data, folder)


def _num(value: float | None) -> str:
    """:func:`compact`, or ``n/a`` for a value the summary left out (``null``)."""
    return "n/a" if value is None else compact(value)


def _print_course_summary(data: dict[str, Any], folder: Path) -> None:
    from rich.table import Table

    days = data["days"]
    table = Table(title=f"needlesim simulate: {data['name']}")
    table.add_column("observable", no_wrap=True)
    for day in days:
        table.add_column(f"day {day:g}", justify="right")
    for name, entry in data["observables"].items():
        table.add_row(name, *[compact(v) for v in entry["values"]])
    out.print(table)
    out.print(
        f"wrote {folder}/summary.json, trajectories.zarr, report.html and plots "
        "(outcomes, matrix, mediators, cells)"
    )


def register(app: typer.Typer) -> None:
    """Add ``simulate`` to a Typer app."""
    app.command("simulate")(handles_errors(simulate))
