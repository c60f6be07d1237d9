"""Summary of a cohort folder: statistics per observable and day, and distribution plots.

For every (arm,) observable and output day: ``mean``, ``sd`` (n - 1), ``p2_5`` and
``p97_5`` (linear-interpolated quantiles) and ``n`` (patients with a finite value).
Columns are read one observable at a time, so memory stays at one column of the
cohort. Observables the evaluator left empty (all NaN) are omitted.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .evaluator import OBSERVABLES
from .parts import cohort_dataset

PLOT_POINTS_MAX = 20_000
"""At most this many values per (arm, observable, day) go into the plots."""


def _finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def cohort_statistics(
    out_dir: Path, observables: Sequence[str] | None = None, plot_points: int = PLOT_POINTS_MAX
) -> tuple[list[dict[str, Any]], dict[str, dict[str, dict[float, NDArray[np.float64]]]]]:
    """Statistics records and plot samples (``{observable: {arm: {day: values}}}``)."""
    dataset = cohort_dataset(out_dir)
    has_arm = "arm" in dataset.schema.names
    names = [o for o in (observables or OBSERVABLES) if o in dataset.schema.names]
    rng = np.random.default_rng(0)
    records: list[dict[str, Any]] = []
    samples: dict[str, dict[str, dict[float, NDArray[np.float64]]]] = {}
    for name in names:
        columns = ["arm", "day", name] if has_arm else ["day", name]
        frame = dataset.to_table(columns=columns).to_pandas()
        if not has_arm:
            frame["arm"] = ""
        if not frame[name].notna().any():
            continue
        grouped = frame.groupby(["arm", "day"], sort=True)[name]
        stats = grouped.agg(["mean", "std", "count"])
        q = grouped.quantile([0.025, 0.975]).unstack()
        for (arm, day), row in stats.iterrows():
            record: dict[str, Any] = {"arm": arm} if has_arm else {}
            record |= {
                "observable": name,
                "day": float(day),
                "mean": _finite_or_none(row["mean"]),
                "sd": _finite_or_none(row["std"]),
                "p2_5": _finite_or_none(q.loc[(arm, day), 0.025]),
                "p97_5": _finite_or_none(q.loc[(arm, day), 0.975]),
                "n": int(row["count"]),
            }
            records.append(record)
        per_arm: dict[str, dict[float, NDArray[np.float64]]] = {}
        for (arm, day), values in grouped:
            array = values.dropna().to_numpy(dtype=np.float64)
            if array.size > plot_points:
                array = rng.choice(array, size=plot_points, replace=False)
            per_arm.setdefault(str(arm), {})[float(day)] = array
        samples[name] = per_arm
    return records, samples


def summarize_cohort(
    out_dir: Path, header: dict[str, Any], *, plots: bool = True
) -> tuple[Path, pd.DataFrame]:
    """Write ``summary.json`` (and ``histograms.png``, ``violins.png``) next to the parts."""
    from ..io import write_json
    from .plots import plot_histograms, plot_violins

    out_dir = Path(out_dir)
    records, samples = cohort_statistics(out_dir)
    path = write_json(out_dir / "summary.json", {**header, "stats": records})
    if plots and samples:
        title = f"{header.get('study', 'cohort')}: n = {header.get('n', '?')}"
        if header.get("test_double"):
            title += " (analytic test double, not model results)"
        plot_histograms(samples, out_dir / "histograms.png", title)
        plot_violins(samples, out_dir / "violins.png", title)
    return path, pd.DataFrame.from_records(records)
