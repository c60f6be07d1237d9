"""What a calibration writes: the fitted set with its provenance, and the report.

* ``fitted.yaml`` (by default the packaged ``needlesim/data/fitted.yaml``, which
  then overrides the registry and ``outcomes.yaml``): date, needlesim version,
  the targets and their files, each parameter's start, fitted value, bounds,
  unit and the targets that inform it, the final residuals and the optimizer's
  status. Written atomically.
* the report: ``calibration.json`` (the same, plus tolerances and their
  reasons), ``predicted_vs_measured.png`` (one panel per target: measured with
  its tolerance bar, the model before and after) and a printed table.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from rich.console import Console
from rich.table import Table

from .. import __version__
from ..io import write_json, write_text
from ..plots.common import new_figure, save_atomic
from .fit import FitResult

HEADER = """\
# The calibrated parameter set of needlesim, written by `needlesim calibrate`.
# Do not edit by hand: rerun the command (docs/calibration.md). Where this file
# is packaged (needlesim/data/fitted.yaml) its values replace those of
# parameters.yaml (kind: kinetic) and outcomes.yaml (kind: observation);
# `needlesim params` shows them as `fitted: needlesim calibrate ... to <targets>`.
"""


def _rounded(x: float, digits: int = 6) -> float:
    return float(f"{x:.{digits}g}") if math.isfinite(x) else x


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def target_rows(result: FitResult) -> list[dict[str, Any]]:
    """One row per target: measured, tolerance, the model before and after, residuals."""
    rows = []
    for i, t in enumerate(result.problem.targets):
        before, after = float(result.before[i]), float(result.after[i])
        rows.append(
            {
                "study": t.study.name,
                "file": _relative(t.file),
                "observable": t.observable,
                "day": t.day,
                "measured": t.measured,
                "tolerance_below": _rounded(t.tolerance.below),
                "tolerance_above": _rounded(t.tolerance.above),
                "tolerance_reason": t.tolerance.reason,
                "before": _rounded(before),
                "after": _rounded(after),
                "error_before": _rounded(before - t.measured),
                "error_after": _rounded(after - t.measured),
                "residual_before": _rounded(float(result.residuals_before[i])),
                "residual_after": _rounded(float(result.residuals_after[i])),
                "within_before": t.within(before),
                "within_after": t.within(after),
            }
        )
    return rows


def parameter_rows(result: FitResult) -> dict[str, dict[str, Any]]:
    """Per free parameter: kind, unit, start, fitted value, bounds, spread, informing targets."""
    out = {}
    informed = result.informed_by()
    for j, f in enumerate(result.problem.free):
        out[f.name] = {
            "kind": f.kind,
            "unit": f.unit,
            "start": _rounded(float(result.start[j])),
            "value": _rounded(float(result.value[j])),
            "bounds": [f.lo, f.hi],
            "bounds_from": f.bounds_reason,
            "at_bound": result.at_bound[j],
            "log_sd": None if result.at_bound[j] else _rounded(float(result.log_sd[j]), 3),
            "informed_by": informed[j],
        }
    return out


def optimizer_info(result: FitResult) -> dict[str, Any]:
    p = result.problem
    return {
        "method": "scipy.optimize.least_squares, trf (bounded Gauss-Newton), on ln(theta); "
        "Jacobian from JAX forward mode through the layered solver",
        "status": result.status,
        "success": result.success,
        "message": result.message,
        "evaluations": result.nfev,
        "jacobians": result.njev,
        "cost_before": _rounded(result.cost_before),
        "cost_after": _rounded(result.cost_after),
        "seconds": round(result.seconds, 1),
        "cohorts": {c.name: c.n_patients for c in p.cohorts},
        "cohort_note": "each study's own seeded virtual cohort (population.n patients, at most "
        "64), individual variability on, as `needlesim validate` samples it",
    }


def fitted_document(result: FitResult, studies: str | Path) -> dict[str, Any]:
    """The content of ``fitted.yaml``."""
    return {
        "needlesim_version": __version__,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "studies": _relative(Path(studies)),
        "optimizer": optimizer_info(result),
        "parameters": parameter_rows(result),
        "targets": [
            {k: v for k, v in row.items() if k != "tolerance_reason"} for row in target_rows(result)
        ],
    }


def write_fitted(result: FitResult, path: str | Path, studies: str | Path) -> dict[str, Any]:
    """Write ``fitted.yaml`` atomically; returns its content."""
    doc = fitted_document(result, studies)
    text = HEADER + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    write_text(path, text)
    return doc


def write_report(result: FitResult, folder: str | Path, doc: dict[str, Any]) -> list[Path]:
    """``calibration.json`` and ``predicted_vs_measured.png`` in ``folder``."""
    folder = Path(folder)
    data = {**doc, "targets": target_rows(result)}
    paths = [write_json(folder / "calibration.json", data)]
    paths.append(plot_targets(result, folder / "predicted_vs_measured.png"))
    return paths


def plot_targets(result: FitResult, path: str | Path) -> Path:
    """One panel per target: measured +- tolerance, the model before and after."""
    targets = result.problem.targets
    cols = min(4, len(targets))
    rows = -(-len(targets) // cols)
    fig = new_figure(3.0 * cols, 2.6 * rows)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, t, before, after in zip(axes, targets, result.before, result.after, strict=False):
        bar = np.array([[t.tolerance.below], [t.tolerance.above]])
        ax.errorbar(
            [0],
            [t.measured],
            yerr=bar,
            fmt="s",
            color="black",
            capsize=6,
            label="measured ± tolerance",
        )
        ax.plot([1], [before], "o", mfc="none", color="0.5", label="before")
        ax.plot(
            [2], [after], "o", color="tab:blue" if t.within(after) else "tab:red", label="after"
        )
        ax.set_xticks([0, 1, 2], ["measured", "before", "after"])
        ax.set_xlim(-0.6, 2.6)
        ax.set_title(f"{t.study.name}\nday {t.day:g}", fontsize=8)
        ax.set_ylabel(t.observable, fontsize=7)
        ax.tick_params(labelsize=7)
    for ax in axes[len(targets) :]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=8)
    return save_atomic(fig, path)


def print_report(result: FitResult, console: Console) -> None:
    """The fitted parameters and the target table (before/after, tolerance, within)."""
    params = Table(title="calibrated parameters")
    for column in ("parameter", "kind", "start", "fitted", "bounds", "sd(ln)", "informed by"):
        params.add_column(column, justify="left" if column in ("parameter", "kind") else "right")
    for name, row in parameter_rows(result).items():
        lo, hi = row["bounds"]
        mark = " (bound)" if row["at_bound"] else ""
        params.add_row(
            name,
            row["kind"],
            f"{row['start']:.4g}",
            f"{row['value']:.4g}{mark}",
            f"{lo:g}-{hi:g}",
            "-" if row["log_sd"] is None else f"{row['log_sd']:.2g}",
            ", ".join(row["informed_by"]),
        )
    console.print(params)
    table = Table(title="calibration targets")
    for column in (
        "study",
        "observable",
        "day",
        "measured",
        "tolerance",
        "before",
        "after",
        "error",
        "within",
    ):
        table.add_column(column, justify="left" if column in ("study", "observable") else "right")
    for row in target_rows(result):
        below, above = row["tolerance_below"], row["tolerance_above"]
        tol = f"±{below:.3g}" if below == above else f"-{below:.3g}/+{above:.3g}"
        table.add_row(
            row["study"],
            row["observable"],
            f"{row['day']:g}",
            f"{row['measured']:.3g}",
            tol,
            f"{row['before']:.3g}",
            f"{row['after']:.3g}",
            f"{row['error_after']:+.3g}",
            "yes" if row["within_after"] else "[red]no[/]",
        )
    console.print(table)
    n_in = sum(result.within)
    console.print(
        f"{n_in} of {len(result.within)} targets within tolerance; cost "
        f"{result.cost_before:.4g} -> {result.cost_after:.4g} ({result.message}; "
        f"{result.nfev} evaluations, {result.seconds:.0f} s)"
    )
