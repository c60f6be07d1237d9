"""Cross-validation: refit without each group of studies and predict it.

For each group (a study, or the studies sharing a ``group`` id), NUTS is run on
the emulator with the data of every other group, and the held-out group's
measurements are predicted with their 95 % interval of the study mean
(:mod:`.predictive`). The emulator is built from model runs over the prior
box only (no measured value enters it), so holding a study out of the fit
holds it out of everything that sees data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from ...io.progress import progress_bar
from .data import Datum, load_data
from .design import DEFAULT_DESIGN, build_emulator, design_runs
from .emulator import Emulator
from .model import Sampler, layout
from .predictive import MeanInterval
from .run import DEFAULT_STUDIES
from .scales import RELATIVE_TOLERANCE
from .simulate import EMULATOR_PATIENTS
from .spec import Spec, load_spec

CV_SAMPLES = 500
"""Draws per chain of each cross-validation refit."""


def within_tolerance(measured: float, pred: MeanInterval) -> bool:
    """Inside the 95 % interval of the study mean, or within 35 % of the predicted mean."""
    return bool(
        pred.lo <= measured <= pred.hi
        or abs(measured - pred.mean) <= RELATIVE_TOLERANCE * abs(pred.mean)
    )


@dataclass(frozen=True)
class CrossValidationResult:
    """Held-out predictions of every measurement, and their summary."""

    measurements: list[dict[str, Any]]
    fraction_within_tolerance: float
    coverage: float
    median_relative_interval_width: float
    groups: list[str]
    emulator_degree: int
    holdout_points: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "measurements": self.measurements,
            "fraction_within_tolerance": self.fraction_within_tolerance,
            "coverage": self.coverage,
            "median_relative_interval_width": self.median_relative_interval_width,
            "groups": self.groups,
            "emulator": {"degree": self.emulator_degree, "holdout_points": self.holdout_points},
        }


def _row(d: Datum, pred: MeanInterval) -> dict[str, Any]:
    return {
        "study": d.study.name,
        "group": d.group,
        "observable": d.observable,
        "statistic": d.statistic,
        "day": d.day,
        "n": d.n,
        "measured": d.value,
        "mean": pred.mean,
        "mean_p2_5": pred.lo,
        "mean_p97_5": pred.hi,
        "inside_interval": bool(pred.lo <= d.value <= pred.hi),
        "within_tolerance": within_tolerance(d.value, pred),
    }


def summarise(
    rows: list[dict[str, Any]], groups: list[str], degree: int, n_holdout: int
) -> CrossValidationResult:
    within = [r["within_tolerance"] for r in rows]
    inside = [r["inside_interval"] for r in rows]
    widths = [(r["mean_p97_5"] - r["mean_p2_5"]) / max(abs(r["mean"]), 1e-9) for r in rows]
    return CrossValidationResult(
        measurements=rows,
        fraction_within_tolerance=float(np.mean(within)),
        coverage=float(np.mean(inside)),
        median_relative_interval_width=float(np.median(widths)),
        groups=groups,
        emulator_degree=degree,
        holdout_points=n_holdout,
    )


def cross_validate(
    studies_dir: str | Path = DEFAULT_STUDIES,
    design: int = DEFAULT_DESIGN,
    samples: int = CV_SAMPLES,
    n_patients: int = EMULATOR_PATIENTS,
    seed: int = 0,
    cache: str | Path | None = None,
    spec_file: str | Path | None = None,
    console: Console | None = None,
) -> CrossValidationResult:
    """Leave each group out, refit (NUTS on the emulator), predict it (see the module)."""
    spec = load_spec(spec_file)
    data = load_data(studies_dir, spec)
    runs = design_runs(data, spec, design, n_patients, seed, cache)
    emulator = build_emulator(runs, data, spec)
    return cross_validate_data(data, spec, emulator, samples, seed, console)


def cross_validate_data(
    data: list[Datum],
    spec: Spec,
    emulator: Emulator,
    samples: int = CV_SAMPLES,
    seed: int = 0,
    console: Console | None = None,
    chains: int = 2,
) -> CrossValidationResult:
    """Leave each group of ``data`` out in turn, refit, predict it (emulator given)."""
    from .predictive import predict_data

    groups = sorted({d.group for d in data})
    sampler = Sampler(spec, emulator, layout(data, spec), samples, max(samples // 2, 200), chains)
    rows: list[dict[str, Any]] = []
    with progress_bar(console=console, transient=True) as progress:
        task = progress.add_task("cross-validation refits", total=len(groups))
        for g in groups:
            held = [i for i, d in enumerate(data) if d.group == g]
            kept = np.array([float(d.group != g) for d in data])
            posterior = sampler.run(kept, seed)
            preds = predict_data(data, held, emulator, posterior, spec, seed)
            rows.extend(_row(data[i], p) for i, p in zip(held, preds, strict=True))
            progress.advance(task)
    return summarise(rows, groups, emulator.degree, emulator.holdout_pred.shape[0])


def markdown_table(result: CrossValidationResult) -> str:
    lines = [
        "| study | observable | day | measured | predicted mean "
        "| 95 % interval of the mean | within |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in result.measurements:
        lines.append(
            f"| {r['study']} | {r['observable']} | {r['day']:g} | {r['measured']:.4g} "
            f"| {r['mean']:.4g} | {r['mean_p2_5']:.4g} .. {r['mean_p97_5']:.4g} "
            f"| {'yes' if r['within_tolerance'] else 'no'} |"
        )
    return "\n".join(lines)


def plot_cross_validation(result: CrossValidationResult, path: str | Path) -> Path:
    """One panel per measurement: the 95 % interval of the predicted study mean, the
    predicted mean, the measured value and the +-35 % band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(result.measurements)
    cols = min(4, max(n, 1))
    rows = -(-n // cols)
    height = 2.8 * rows  # inches
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, height), squeeze=False)
    for ax, r in zip(axes.flat, result.measurements, strict=False):
        m = r["mean"]
        ax.axhspan(m - 0.35 * abs(m), m + 0.35 * abs(m), color="0.9", label="mean +-35 %")
        ax.errorbar(
            [0],
            [m],
            yerr=[[m - r["mean_p2_5"]], [r["mean_p97_5"] - m]],
            fmt="o",
            color="C0",
            capsize=6,
            label="predicted mean, 95 %",
        )
        ax.plot(
            [0],
            [r["measured"]],
            "x",
            color="C3" if not r["within_tolerance"] else "C2",
            markersize=10,
            mew=2,
            label="measured",
        )
        ax.set_xlim(-1, 1)
        ax.set_xticks([])
        statistic = "" if r.get("statistic", "mean") == "mean" else f" ({r['statistic']})"
        ax.set_title(f"{r['study']}\n{r['observable']}{statistic} d{r['day']:g}", fontsize=7)
    spare = list(axes.flat)[n:]
    for ax in spare:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    (spare[0] if spare else axes.flat[0]).legend(
        handles, labels, fontsize=8 if spare else 6, loc="center" if spare else "best"
    )
    fig.suptitle(
        f"leave-one-group-out: {100 * result.fraction_within_tolerance:.0f} % within tolerance, "
        f"coverage {100 * result.coverage:.0f} %, median interval width "
        f"{100 * result.median_relative_interval_width:.0f} % of the predicted mean",
        fontsize=10,
    )
    fig.tight_layout(rect=(0.0, 0.0, 1.0, 1.0 - 0.5 / height))  # half an inch for the title
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)
