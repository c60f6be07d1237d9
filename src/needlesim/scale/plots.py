"""Distribution plots of a cohort: histograms at the last day, violins over days."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import NDArray

from ..io import atomic_path

Samples = Mapping[str, Mapping[str, Mapping[float, NDArray[np.float64]]]]
"""``{observable: {arm: {day: values}}}`` (arm ``""`` for a single-protocol study)."""

_NCOLS = 4


def _grid(count: int) -> tuple[Figure, list[Axes]]:
    rows = max(1, math.ceil(count / _NCOLS))
    cols = min(_NCOLS, max(count, 1))
    fig = Figure(figsize=(4.2 * cols, 3.0 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    fig.subplots_adjust(left=0.05, right=0.98, bottom=0.06, top=1 - 0.45 / rows, hspace=0.45)
    flat = list(axes.ravel())
    for ax in flat[count:]:
        ax.set_visible(False)
    return fig, flat


def save_figure(fig: Figure, path: Path) -> Path:
    """Save ``fig`` as PNG atomically (pyplot-free: no GUI backend, no global state)."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    return path


def plot_histograms(samples: Samples, path: Path, title: str) -> Path:
    """One histogram per observable at its last output day, arms overlaid."""
    names = list(samples)
    fig, axes = _grid(len(names))
    for ax, name in zip(axes, names, strict=False):
        ax.set_title(name, fontsize=9)
        last = {arm: (max(by_day), by_day[max(by_day)]) for arm, by_day in samples[name].items()}
        pooled = np.concatenate([v[np.isfinite(v)] for _, v in last.values()])
        if pooled.size == 0:
            continue
        lo, hi = float(pooled.min()), float(pooled.max())
        bins = np.linspace(lo, hi, 41).tolist() if hi > lo else [lo - 0.5, hi + 0.5]
        for arm, (day, values) in last.items():
            label = f"{arm} day {day:g}".strip()
            ax.hist(values, bins=bins, alpha=0.55, histtype="stepfilled", label=label)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6)
    fig.suptitle(title, fontsize=11)
    return save_figure(fig, path)


def plot_violins(samples: Samples, path: Path, title: str) -> Path:
    """One panel per observable: a violin per output day (and arm)."""
    names = list(samples)
    fig, axes = _grid(len(names))
    for ax, name in zip(axes, names, strict=False):
        data: list[NDArray[np.float64]] = []
        labels: list[str] = []
        for arm, by_day in samples[name].items():
            for day in sorted(by_day):
                values = by_day[day]
                if values.size == 0 or not np.isfinite(values).any():
                    continue
                data.append(values[np.isfinite(values)])
                labels.append(f"{arm}\n{day:g}".strip())
        if data:
            ax.violinplot(data, showmedians=True)
            ax.set_xticks(range(1, len(labels) + 1), labels, fontsize=6)
        ax.set_title(name, fontsize=9)
        ax.tick_params(axis="y", labelsize=7)
    fig.suptitle(f"{title} (x: day)", fontsize=11)
    return save_figure(fig, path)
