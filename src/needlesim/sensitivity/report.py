"""Ranking the parameters: a bar plot per output and a table (CSV, JSON, terminal)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from rich.table import Table

from ..io import write_json, write_text
from ..scale.plots import save_figure


def ranked(indices: pd.DataFrame) -> pd.DataFrame:
    """Indices sorted by output, then rank (largest total index first)."""
    return indices.sort_values(["output", "rank"], kind="stable").reset_index(drop=True)


def plot_indices(indices: pd.DataFrame, path: Path, title: str) -> Path:
    """Horizontal bars of S1 and ST (with confidence half-widths), one panel per output."""
    outputs = list(pd.unique(indices["output"]))
    params = indices["parameter"].nunique()
    cols = min(2, len(outputs))
    rows = math.ceil(len(outputs) / cols)
    fig = Figure(figsize=(6.5 * cols, (0.35 * params + 1.4) * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False).ravel())
    for ax in axes[len(outputs) :]:
        ax.set_visible(False)
    for ax, name in zip(axes, outputs, strict=False):
        sub = indices[indices["output"] == name].sort_values("ST")
        y = np.arange(len(sub))
        ax.barh(y + 0.2, sub["ST"], 0.4, xerr=sub["ST_conf"], label="total (ST)", capsize=2)
        ax.barh(y - 0.2, sub["S1"], 0.4, xerr=sub["S1_conf"], label="first order (S1)", capsize=2)
        ax.set_yticks(y, sub["parameter"], fontsize=8)
        ax.axvline(0.0, color="grey", lw=0.6)
        ax.set_title(str(name), fontsize=9)
        ax.legend(fontsize=7, loc="lower right")
    fig.suptitle(title, fontsize=10)
    return save_figure(fig, path)


def rich_table(indices: pd.DataFrame, title: str) -> Table:
    """The ranking as a rich table."""
    table = Table(title=title)
    for col in ("output", "rank", "parameter", "S1", "±", "ST", "± "):
        table.add_column(col, justify="left" if col in ("output", "parameter") else "right")
    for row in ranked(indices).itertuples(index=False):
        table.add_row(
            str(row.output), str(row.rank), str(row.parameter), f"{row.S1:.3f}",
            f"{row.S1_conf:.3f}", f"{row.ST:.3f}", f"{row.ST_conf:.3f}",
        )  # fmt: skip
    return table


def write_indices(indices: pd.DataFrame, out_dir: Path, header: dict[str, Any]) -> list[Path]:
    """``sobol.csv``, ``sobol.json`` and ``sobol.png`` in ``out_dir``."""
    out_dir = Path(out_dir)
    table = ranked(indices)
    csv = write_text(out_dir / "sobol.csv", table.to_csv(index=False))
    attrs = {k: v for k, v in indices.attrs.items() if k != "S2"}
    json_path = write_json(
        out_dir / "sobol.json",
        {**header, **attrs, "indices": table.to_dict(orient="records")},
    )
    title = f"Sobol indices ({attrs.get('n_evaluations', '?')} evaluations)"
    if header.get("test_double"):
        title += ": analytic TEST DOUBLE, not model results"
    png = plot_indices(table, out_dir / "sobol.png", title)
    return [csv, json_path, png]
