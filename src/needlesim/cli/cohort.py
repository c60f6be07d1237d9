"""``needlesim cohort``: a virtual trial on Dask, written as Parquet parts plus a summary."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from .common import EvaluatorOption, bad_input, cli_evaluator, err, fmt, handles_errors, out

DEFAULT_BATCH_SIZE = 1000
"""Patients per batch (= :data:`needlesim.scale.cohort.DEFAULT_BATCH_SIZE`, tested)."""


def cohort(
    study_file: Annotated[
        Path, typer.Argument(metavar="STUDY", help="Study YAML (optionally with arms).")
    ],
    n: Annotated[
        int | None, typer.Option("--n", help="Patients (default: the study's population.n).")
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output folder (default: results/<study>-cohort)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", help="Local worker processes (default: available CPUs)."),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Address of an existing Dask scheduler (tcp://host:8786), or 'inline' "
            "to run in this process without Dask.",
        ),
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", help="Patients per batch (one task, one part).")
    ] = DEFAULT_BATCH_SIZE,
    evaluator: EvaluatorOption = None,
    no_plots: Annotated[bool, typer.Option("--no-plots", help="Skip the PNG plots.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object on stdout instead of tables.")
    ] = False,
) -> None:
    """Run a virtual cohort in batches on Dask; re-running skips batches already written.

    Writes part-bNNNNN.parquet (one row per patient and day), cohort.json,
    summary.json, histograms.png and violins.png; for a study with arms also
    comparison.json and effects.png (paired effect sizes with bootstrap intervals).
    """
    from .. import api

    study = api.load(study_file, kind="study")
    if workers is not None and scheduler not in (None, "inline"):
        bad_input("--workers", "give --workers or --scheduler, not both")
    folder = api.check_output_dir(out_dir or Path("results") / f"{study_file.stem}-cohort")
    fn = cli_evaluator(evaluator)
    result = api.run_cohort(
        study,
        n,
        folder,
        workers=workers,
        scheduler=scheduler,
        batch_size=batch_size,
        evaluator=fn,
        progress=not as_json,
        plots=not no_plots,
    )
    info = _result_info(result)
    if as_json:
        sys.stdout.write(json.dumps(info) + "\n")
        return
    _print_summary(study, result, has_arms=bool(getattr(study, "arms", None)))
    err.print(
        f"{len(result.evaluated)} batch(es) evaluated, {len(result.skipped)} already written; "
        f"wrote {folder}"
    )


def _result_info(result: Any) -> dict[str, Any]:
    return {
        "out": str(result.out_dir),
        "n": result.n,
        "batch_size": result.batch_size,
        "batches": result.n_batches,
        "evaluated": list(result.evaluated),
        "skipped": list(result.skipped),
        "elapsed_s": result.elapsed_s,
        "config_hash": result.config_hash,
        "summary": str(result.summary_path) if result.summary_path else None,
    }


def _print_summary(study: Any, result: Any, *, has_arms: bool) -> None:
    from rich.table import Table

    if result.summary_path is None:
        return
    summary = json.loads(result.summary_path.read_text(encoding="utf-8"))
    stats = summary["stats"]
    title = f"{study.name}: n = {result.n}, last output day"
    if summary.get("test_double"):
        title += " (analytic TEST DOUBLE: not model results)"
    table = Table(title=title)
    for col in ("arm", "observable", "day", "mean", "sd", "p2.5", "p97.5", "n"):
        if col != "arm" or has_arms:
            table.add_column(col, justify="left" if col in ("arm", "observable") else "right")
    last: dict[tuple[str, str], dict[str, Any]] = {}
    for rec in stats:
        key = (rec.get("arm", ""), rec["observable"])
        if key not in last or rec["day"] > last[key]["day"]:
            last[key] = rec
    for (arm, name), rec in last.items():
        cells = [name, fmt(rec["day"], 4), fmt(rec["mean"]), fmt(rec["sd"]),
                 fmt(rec["p2_5"]), fmt(rec["p97_5"]), str(rec["n"])]  # fmt: skip
        table.add_row(*([arm, *cells] if has_arms else cells))
    out.print(table)
    if has_arms:
        _print_effects(result.out_dir / "comparison.json")


def _print_effects(path: Path) -> None:
    from rich.table import Table

    if not path.is_file():
        return
    data = json.loads(path.read_text(encoding="utf-8"))
    table = Table(title=f"effect sizes vs {data['reference']} (last visit, 95% bootstrap interval)")
    for col in ("arm", "observable", "day", "diff", "diff 95%", "smd", "smd 95%"):
        table.add_column(col, justify="left" if col in ("arm", "observable") else "right")
    last: dict[tuple[str, str], dict[str, Any]] = {}
    for rec in data["effects"]:
        key = (rec["arm"], rec["observable"])
        if key not in last or rec["visit"] > last[key]["visit"]:
            last[key] = rec
    for (arm, name), rec in last.items():
        day = fmt(rec["day"], 4)
        if rec["day_reference"] != rec["day"]:
            day += f" vs {fmt(rec['day_reference'], 4)}"
        table.add_row(
            arm, name, day, fmt(rec["diff"]),
            f"{fmt(rec['diff_lo'])} to {fmt(rec['diff_hi'])}", fmt(rec["smd"]),
            f"{fmt(rec['smd_lo'])} to {fmt(rec['smd_hi'])}",
        )  # fmt: skip
    out.print(table)


def register(app: typer.Typer) -> None:
    """Add ``cohort`` to a Typer app."""
    app.command("cohort")(handles_errors(cohort))
