"""Writing a simulated course: zarr trajectories, summary JSON, PNG plots, HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..anatomy import LAYER_NAMES
from ..biology.state import SPECIES, SPECIES_NAMES
from ..config import Observable
from ..course import CourseResult
from ..io import write_json, write_zarr
from ..io.provenance import provenance
from ..outcomes.labels import label, observable_unit, risk_sentence
from .html import Figure, Section, Table, write_html


def key_days(result: CourseResult) -> list[float]:
    """Days a reader wants: after the first session, after the last, and the end."""
    if result.config.simulation.output_days is not None:
        return [float(d) for d in result.output_days]
    end = float(result.trajectory.days[-1])
    sessions = result.session_days
    first = float(sessions[0]) if sessions.size else 0.0
    last = float(sessions[-1]) if sessions.size else 0.0
    days = [first + 1, first + 7, last + 28, last + 90, last + 180, end]
    return sorted({round(d, 6) for d in days if d <= end})


def to_dataset(result: CourseResult) -> xr.Dataset:
    """States per species ``(day, layer)`` and observables ``(day)`` at the output days."""
    traj = result.trajectory
    idx = traj.at_days(result.output_days)
    days = traj.days[idx]
    data: dict[str, Any] = {}
    for i, info in enumerate(SPECIES):
        data[info.name] = (
            ("day", "layer"),
            traj.state[0, idx, :, i],
            {"units": info.unit, "long_name": info.description},
        )
        data[f"{info.name}_rest"] = (("layer",), traj.baseline[0, :, i], {"units": info.unit})
    for name, values in result.observables.items():
        data[name] = (("day",), values[idx], {"units": observable_unit(name)})
    attrs = {
        **provenance(result.config, result.config.simulation.seed),
        "name": result.config.name,
        "fidelity": result.config.simulation.fidelity.value,
        "session_days": [float(d) for d in result.session_days],
        "species": list(SPECIES_NAMES),
    }
    return xr.Dataset(
        data,
        coords={
            "day": ("day", days, {"units": "days from the first session"}),
            "layer": ("layer", list(LAYER_NAMES)),
            "thickness_um": ("layer", np.asarray(result.skin.thickness_um), {"units": "um"}),
        },
        attrs=attrs,
    )


def summary(result: CourseResult) -> dict[str, Any]:
    """The JSON summary: provenance, inputs, per-session injury, observables at key days."""
    config = result.config
    days = key_days(result)
    sessions = [
        {
            "day": float(day),
            "device": dev.device.type,
            "needle_length_mm": dev.device.needle_length_mm,
            "passes": dev.device.passes,
            "channel_density_per_cm2": dev.summary.channel_density_per_cm2,
            "effective_depth_um": dev.summary.effective_depth_um,
            "layers_reached": list(dev.summary.layers_reached),
            "bleeding_fraction": dev.summary.bleeding_fraction,
        }
        for day, dev in zip(result.session_days, result.devices, strict=True)
    ]
    return {
        "name": config.name,
        **provenance(config, config.simulation.seed),
        "fidelity": config.simulation.fidelity.value,
        "patient": config.patient.model_dump(mode="json"),
        "skin_thickness_um": result.skin.as_dict(),
        "sessions": sessions,
        "warnings": [w.to_dict() for w in result.warnings],
        "days": days,
        "observables": {
            name: {"unit": observable_unit(name), "values": [result.at(d)[name] for d in days]}
            for name in result.observables
        },
    }


def _fmt(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"


def write_course(result: CourseResult, folder: str | Path) -> dict[str, Any]:
    """Write every output of a course into ``folder``; returns the JSON summary."""
    from ..plots.course import plot_cells, plot_matrix, plot_mediators, plot_outcomes

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_zarr(to_dataset(result), folder / "trajectories.zarr")
    data = summary(result)
    write_json(folder / "summary.json", data)
    plots = {
        "outcomes.png": (plot_outcomes, "Histological and clinical observables over the course."),
        "matrix.png": (plot_matrix, "Collagen I and III and elastic material per dermal layer."),
        "mediators.png": (plot_mediators, "Growth factors and cytokines (fold of rest)."),
        "cells.png": (plot_cells, "Inflammatory cells, fibroblasts and myofibroblasts."),
    }
    figures = [Figure(fn(result, folder / name), caption) for name, (fn, caption) in plots.items()]
    write_report(result, data, figures, folder / "report.html")
    return data


def write_report(
    result: CourseResult, data: dict[str, Any], figures: list[Figure], target: Path
) -> Path:
    """The clinician-readable HTML report of one course."""
    patient = result.config.patient
    days = data["days"]
    end = len(days) - 1
    obs = data["observables"]
    facts = [
        ("patient", f"{patient.age_years:.0f} y, {patient.sex.value}, type {patient.fitzpatrick}"),
        ("region / indication", f"{patient.region.value} / {patient.indication.value}"),
        ("sessions", f"{len(result.session_days)}"),
        (
            f"dermal collagen, day {days[end]:.0f}",
            f"{obs[Observable.dermal_collagen_change_pct]['values'][end]:+.1f} %",
        ),
        ("risk of dark marks (PIH)", risk_sentence(max(obs[Observable.pih_incidence]["values"]))),
        ("channel closure", f"{obs[Observable.channel_closure_hours]['values'][0]:.0f} h"),
    ]
    table = Table(
        ["outcome", "unit", "better", *[f"day {d:g}" for d in days]],
        [
            [
                label(name).label,
                label(name).unit,
                label(name).better or "",
                *[_fmt(v) for v in entry["values"]],
            ]
            for name, entry in obs.items()
        ],
        note="Changes are (after - baseline) / baseline x 100 for this patient; grades are "
        "after - baseline (negative = better). One simulated patient: no interval; the "
        "Studies page and `needlesim study run` give the spread between patients.",
    )
    session_rows = [
        [
            f"{s['day']:g}",
            s["device"],
            s["needle_length_mm"],
            s["passes"],
            f"{s['channel_density_per_cm2']:.0f}",
            f"{s['effective_depth_um']:.0f}",
            ", ".join(s["layers_reached"]),
            f"{100 * s['bleeding_fraction']:.0f} %",
        ]
        for s in data["sessions"]
    ]
    skin_rows = [
        [name.replace("_", " "), f"{thick:.0f}", result.skin.sources.get(name, "")]
        for name, thick in data["skin_thickness_um"].items()
    ]
    sections = [
        Section("Predicted outcome", tables=[table]),
        Section("Course", figures=figures),
        Section(
            "Sessions",
            tables=[
                Table(
                    [
                        "day",
                        "device",
                        "needle (mm)",
                        "passes",
                        "channels /cm²",
                        "penetration (µm)",
                        "layers reached",
                        "pinpoint bleeding",
                    ],
                    session_rows,
                )
            ],
        ),
        Section("Skin", tables=[Table(["layer", "thickness (µm)", "source"], skin_rows)]),
        Section(
            "About these numbers",
            paragraphs=[
                "needlesim is a mechanistic model calibrated on published data; every parameter "
                "cites its source or says what it was fitted to (needlesim params). Predictions "
                "are for a typical patient with this profile, not a guarantee; inter-individual "
                "variation is shown by a virtual cohort (needlesim study run).",
            ],
        ),
    ]
    return write_html(
        target,
        f"needlesim · {result.config.name}",
        sections,
        subtitle="Simulated microneedling course (layered model)",
        facts=facts,
        provenance=f"config {data['config_hash']} · seed {data['seed']}",
    )
