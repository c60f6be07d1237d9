"""Plots of a simulated course: mediators, cells, collagen and elastin per layer over time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.axes import Axes

from ..anatomy import Layer
from ..biology.state import S
from ..config import Observable
from ..course import CourseResult
from .common import LAYER_LABELS, new_figure, save_atomic

DERMAL = (Layer.papillary_dermis, Layer.reticular_dermis)
MEDIATOR_LABELS = {
    S.fgf_kgf: "FGF/KGF",
    S.pdgf: "PDGF",
    S.tgf_beta1: "TGF-β1",
    S.tgf_beta3: "TGF-β3",
    S.vegf: "VEGF",
    S.cytokines: "IL-1/TNF",
}
LAYER_LINES = {Layer.papillary_dermis: "-", Layer.reticular_dermis: "--"}


def _sessions(ax: Axes, result: CourseResult) -> None:
    for i, day in enumerate(result.session_days):
        ax.axvline(day, color="0.55", lw=0.8, ls=":", label="session" if i == 0 else None)


def _series(result: CourseResult, species: S, layer: Layer) -> tuple[np.ndarray, np.ndarray]:
    traj = result.trajectory
    return traj.days, traj.state[0, :, layer, species]


def _relative(result: CourseResult, species: S, layer: Layer) -> tuple[np.ndarray, np.ndarray]:
    days, values = _series(result, species, layer)
    rest = result.trajectory.baseline[0, layer, species]
    return days, values / rest if rest > 0 else values


def plot_mediators(result: CourseResult, path: str | Path) -> Path:
    """Growth factors and cytokines (fold of rest) in the papillary dermis, first 30 days."""
    fig = new_figure(10.0, 4.2)
    ax_short, ax_long = fig.subplots(1, 2)
    first = result.session_days[0] if result.session_days.size else 0.0
    for species, colour in (
        (S.fgf_kgf, "#d95f02"),
        (S.pdgf, "#7570b3"),
        (S.tgf_beta1, "#1b9e77"),
        (S.tgf_beta3, "#66a61e"),
        (S.vegf, "#e7298a"),
        (S.cytokines, "#666666"),
    ):
        days, fold = _relative(result, species, Layer.papillary_dermis)
        label = MEDIATOR_LABELS[species]
        window = (days >= first) & (days <= first + 30)
        ax_short.plot(days[window] - first, fold[window], color=colour, label=label)
        ax_long.plot(days, fold, color=colour)
    ax_short.set(
        xlabel="days after the first session",
        ylabel="fold of rest level",
        title="After the first session (papillary dermis)",
    )
    ax_long.set(xlabel="day", title="Whole course")
    _sessions(ax_long, result)
    ax_short.legend(fontsize=8, ncol=2)
    for ax in (ax_short, ax_long):
        ax.axhline(1.0, color="0.8", lw=0.8)
        ax.grid(alpha=0.3)
    return save_atomic(fig, path)


def plot_cells(result: CourseResult, path: str | Path) -> Path:
    """Neutrophils, macrophages (both phenotypes), fibroblasts and myofibroblasts."""
    fig = new_figure(10.0, 4.2)
    ax_immune, ax_fib = fig.subplots(1, 2, sharex=True)
    layer = Layer.papillary_dermis
    for species, colour in (
        (S.neutrophils, "#e41a1c"),
        (S.macrophages_inflammatory, "#ff7f00"),
        (S.macrophages_repair, "#377eb8"),
    ):
        days, values = _series(result, species, layer)
        ax_immune.plot(days, values, color=colour, label=species.name.replace("_", " "))
    for species, colour in ((S.fibroblasts, "#4daf4a"), (S.myofibroblasts, "#984ea3")):
        for lay in DERMAL:
            days, values = _series(result, species, lay)
            ax_fib.plot(
                days,
                values,
                color=colour,
                ls=LAYER_LINES[lay],
                label=f"{species.name}, {LAYER_LABELS[lay]}",
            )
    ax_immune.set(
        xlabel="day",
        ylabel="resident macrophage density",
        title="Inflammatory cells (papillary dermis)",
    )
    ax_fib.set(
        xlabel="day",
        ylabel="young-adult fibroblast density",
        title="Fibroblasts and myofibroblasts",
    )
    for ax in (ax_immune, ax_fib):
        _sessions(ax, result)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    return save_atomic(fig, path)


def plot_matrix(result: CourseResult, path: str | Path) -> Path:
    """Collagen I and III and elastin (new and old) per dermal layer, % change from rest."""
    fig = new_figure(10.0, 4.2)
    ax_col, ax_ela = fig.subplots(1, 2, sharex=True)
    for species, colour, ax in (
        (S.collagen_I, "#b2182b", ax_col),
        (S.collagen_III, "#2166ac", ax_col),
        (S.tropoelastin, "#1b7837", ax_ela),
        (S.elastin_old, "#762a83", ax_ela),
    ):
        for lay in DERMAL:
            days, fold = _relative(result, species, lay)
            ax.plot(
                days,
                100 * (fold - 1),
                color=colour,
                ls=LAYER_LINES[lay],
                label=f"{species.name.replace('_', ' ')}, {LAYER_LABELS[lay]}",
            )
    ax_col.set(xlabel="day", ylabel="change from rest (%)", title="Collagen")
    ax_ela.set(xlabel="day", title="Elastic material")
    for ax in (ax_col, ax_ela):
        _sessions(ax, result)
        ax.axhline(0, color="0.6", lw=0.8)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    return save_atomic(fig, path)


def plot_outcomes(result: CourseResult, path: str | Path) -> Path:
    """Clinical and histological observables over the course."""
    fig = new_figure(10.0, 4.2)
    ax_hist, ax_clin = fig.subplots(1, 2, sharex=True)
    days = result.trajectory.days
    for name, colour in (
        (Observable.dermal_collagen_change_pct, "#b2182b"),
        (Observable.epidermal_thickness_change_pct, "#f4a582"),
        (Observable.total_elastin_change_pct, "#762a83"),
    ):
        ax_hist.plot(days, result.observables[name], color=colour, label=name)
    for name, colour in (
        (Observable.scar_depth_change_pct, "#2166ac"),
        (Observable.scar_score_change_pct, "#4393c3"),
        (Observable.melasma_index_change_pct, "#8c510a"),
    ):
        ax_clin.plot(days, result.observables[name], color=colour, label=name)
    ax_hist.set(xlabel="day", ylabel="% change from baseline", title="Histology")
    ax_clin.set(xlabel="day", title="Clinical scores (negative = better)")
    for ax in (ax_hist, ax_clin):
        _sessions(ax, result)
        ax.axhline(0, color="0.6", lw=0.8)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    return save_atomic(fig, path)
