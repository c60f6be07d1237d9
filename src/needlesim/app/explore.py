"""Explore: one patient, two protocols (A and B) side by side, and what happens in the skin.

Shows the punctures of the first session and their depth against the layers,
growth factors, cells and matrix per layer over time (sessions marked), and the
clinical observables at key days with readable names and units; with B on, the
difference B - A.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html, no_update

from ..config import ConfigError, RunConfig
from ..outcomes.labels import LABELS, LAYER_LABELS, label
from . import services
from .common import (
    COLOURS,
    GRAPH_CONFIG,
    dropdown,
    errors_by_field,
    field,
    fmt,
    number,
    patient_fields,
    session_marks,
    style_figure,
)
from .state import CACHE

PREFIX = "explore"
ARMS = ("a", "b")
PROTOCOL_FIELDS = ("device", "needle", "passes", "sessions", "interval")
GROUPS: dict[str, tuple[str, ...]] = {
    "Growth factors": ("tgf_beta1", "tgf_beta3", "pdgf", "fgf_kgf", "vegf"),
    "Cells": (
        "neutrophils",
        "macrophages_inflammatory",
        "macrophages_repair",
        "fibroblasts",
        "myofibroblasts",
    ),
    "Collagen and elastin": ("collagen_I", "collagen_III", "tropoelastin", "elastin_old"),
}
SPECIES_LABELS = {
    "tgf_beta1": "TGF-β1",
    "tgf_beta3": "TGF-β3",
    "pdgf": "PDGF",
    "fgf_kgf": "FGF-2/KGF",
    "vegf": "VEGF",
    "neutrophils": "Neutrophils",
    "macrophages_inflammatory": "M1 macrophages",
    "macrophages_repair": "M2 macrophages",
    "fibroblasts": "Fibroblasts",
    "myofibroblasts": "Myofibroblasts",
    "collagen_I": "Collagen I",
    "collagen_III": "Collagen III",
    "tropoelastin": "Tropoelastin",
    "elastin_old": "Mature elastin",
}
PATIENT_PATHS = {
    "patient.age_years": f"{PREFIX}-age",
    "patient.sex": f"{PREFIX}-sex",
    "patient.fitzpatrick": f"{PREFIX}-fitzpatrick",
    "patient.region": f"{PREFIX}-region",
    "patient.indication": f"{PREFIX}-indication",
    "patient.baseline_severity": f"{PREFIX}-severity",
}


def _arm_paths(arm: str) -> dict[str, str]:
    p = f"{PREFIX}-{arm}"
    return {
        "protocol.device.type": f"{p}-device",
        "protocol.device.needle_length_mm": f"{p}-needle",
        "protocol.device.passes": f"{p}-passes",
        "protocol.device.stamps_per_cm2": f"{p}-passes",
        "protocol.sessions": f"{p}-sessions",
        "protocol.interval_days": f"{p}-interval",
    }


def _protocol_form(arm: str, needle: float, sessions: int) -> html.Div:
    p = f"{PREFIX}-{arm}"
    return html.Div(
        [
            html.H3(f"Protocol {arm.upper()}"),
            field(
                "Device",
                dropdown(f"{p}-device", ["roller", "pen", "stamp"], "roller"),
                f"{p}-device",
            ),
            field(
                "Needle length (mm)",
                number(f"{p}-needle", needle),
                f"{p}-needle",
                "0.1 to 3 mm",
            ),
            field("Passes per session", number(f"{p}-passes", 8, 1), f"{p}-passes"),
            field("Sessions", number(f"{p}-sessions", sessions, 1), f"{p}-sessions"),
            field(
                "Interval between sessions (days)",
                number(f"{p}-interval", 28),
                f"{p}-interval",
            ),
        ],
        className=f"protocol arm-{arm}",
    )


def layout() -> html.Div:
    return html.Div(
        [
            html.H1("Explore a course"),
            html.P(
                "Choose a patient and up to two protocols. The model shows the needle "
                "punctures, what happens in each skin layer, and the clinical outcome.",
                className="lead",
            ),
            html.Div(
                [
                    html.Div([html.H3("Patient"), *patient_fields(PREFIX)], className="card"),
                    html.Div(_protocol_form("a", 1.5, 3), className="card"),
                    html.Div(
                        [
                            _protocol_form("b", 0.5, 3),
                            dcc.Checklist(
                                id=f"{PREFIX}-compare",
                                options=[{"label": " compare with B", "value": "on"}],
                                value=[],
                            ),
                        ],
                        className="card",
                    ),
                ],
                className="form-row",
            ),
            html.Button("Run", id=f"{PREFIX}-run", className="primary", n_clicks=0),
            html.Div(id=f"{PREFIX}-form-error", className="field-error", role="alert"),
            dcc.Store(id=f"{PREFIX}-shown"),
            dcc.Loading(html.Div(id=f"{PREFIX}-results"), type="default"),
        ]
    )


def _config(arm: str, patient: dict[str, Any], values: list[Any]) -> dict[str, Any]:
    device, needle, passes, sessions, interval = values
    dev: dict[str, Any] = {"type": device, "needle_length_mm": needle}
    if device != "stamp":
        dev["passes"] = passes
    return {
        "name": f"explore-{arm}",
        "patient": patient,
        "protocol": {"device": dev, "sessions": sessions, "interval_days": interval},
        "simulation": {"seed": 1},
    }


def _key(data: dict[str, Any]) -> tuple[str, str]:
    import json

    return ("explore", json.dumps(data, sort_keys=True))


def _simulate(data: dict[str, Any]) -> Any:
    """A validated course, cached by its inputs (a repeated run answers at once)."""
    key = _key(data)
    found = CACHE.get(key)
    if found is None:
        from ..config import validate

        config = validate(RunConfig, data)
        course = services.simulate(config)
        first = course.devices[0] if course.devices else services.device(config, 0)
        found = (course, first)
        CACHE.put(key, found)
    return found


def _puncture_figure(dev: Any, arm: str) -> go.Figure:
    channels = dev.punctures.select(dev.punctures.pierced)
    side_mm = dev.punctures.sample_side_um / 1000.0
    zoom = min(5.0, side_mm)
    lo = (side_mm - zoom) / 2.0
    x, y = channels.x_um / 1000.0, channels.y_um / 1000.0
    keep = (x >= lo) & (x <= lo + zoom) & (y >= lo) & (y <= lo + zoom)
    fig = go.Figure(
        go.Scattergl(
            x=x[keep] - lo,
            y=y[keep] - lo,
            mode="markers",
            marker={
                "size": 5,
                "color": channels.penetration_depth_um[keep],
                "colorscale": "Viridis",
                "colorbar": {"title": "depth (µm)"},
            },
            hovertemplate="%{marker.color:.0f} µm<extra></extra>",
        )
    )
    fig.update_xaxes(title="mm", range=[0, zoom], constrain="domain")
    fig.update_yaxes(title="mm", range=[0, zoom], scaleanchor="x")
    return style_figure(fig, f"{arm}: punctures of session 1 (central {zoom:g} × {zoom:g} mm)", 340)


def _depth_figure(results: dict[str, Any]) -> go.Figure:
    """Needle penetration of every arm (box over the channels) on the layers, to scale."""
    fig = go.Figure()
    first = next(iter(results.values()))[1]
    tops = np.concatenate([[0.0], np.cumsum(first.skin.thickness_um)])
    deepest = max(
        float(np.max(dev.punctures.penetration_depth_um, initial=0.0))
        for _, dev in results.values()
    )
    bottom_um = min(float(tops[-1]), max(float(tops[4]) + 300.0, 1.2 * deepest))
    names = list(LAYER_LABELS.values())
    shades = ("#f5e6d3", "#f0c9a8", "#e8a88c", "#d98b73", "#f7e7a1")
    for i, name in enumerate(names):
        top, bottom = float(tops[i]), float(min(tops[i + 1], bottom_um))
        if top >= bottom_um:
            break
        thick = (bottom - top) / bottom_um > 0.06  # room for a label
        fig.add_hrect(y0=top, y1=bottom, fillcolor=shades[i], line_width=0, layer="below")
        if thick:  # the name in the middle of the layer
            fig.add_annotation(
                x=1.0, xref="paper", xanchor="right", y=(top + bottom) / 2, yanchor="middle",
                showarrow=False, text=name, font={"size": 11},
            )  # fmt: skip
    fig.add_annotation(
        x=1.0, xref="paper", xanchor="right", y=0, yanchor="bottom", showarrow=False,
        text=f"epidermis {tops[2]:.0f} µm", font={"size": 11},
    )  # fmt: skip
    for k, (arm, (_, dev)) in enumerate(results.items()):
        depth = dev.punctures.select(dev.punctures.pierced).penetration_depth_um
        fig.add_trace(
            go.Box(y=depth, name=f"Protocol {arm}", marker_color=COLOURS[k], boxpoints=False)
        )
    fig.update_yaxes(title="depth below the surface (µm)", range=[bottom_um, -0.04 * bottom_um])
    fig.update_layout(showlegend=False)
    return style_figure(fig, "Needle depth against the skin layers", 340)


def _layer_figure(results: dict[str, Any], group: str, layer: int) -> go.Figure:
    species = GROUPS[group]
    names = services.species_names()
    fig = go.Figure()
    for k, (arm, (course, _)) in enumerate(results.items()):
        traj = course.trajectory
        for j, name in enumerate(species):
            i = names.index(name)
            base = float(traj.baseline[0, layer, i]) or 1.0
            fig.add_trace(
                go.Scatter(
                    x=traj.days,
                    y=traj.state[0, :, layer, i] / base,
                    name=f"{SPECIES_LABELS[name]} ({arm})",
                    line={
                        "color": COLOURS[j % len(COLOURS)],
                        "dash": "solid" if k == 0 else "dash",
                    },
                )
            )
        if k == 0:
            session_marks(fig, course.session_days)
    fig.update_xaxes(title="day from the first session")
    fig.update_yaxes(title="fold of the resting level", type="log")
    title = f"{group}, {list(LAYER_LABELS.values())[layer].lower()} (dotted lines: sessions)"
    return style_figure(fig, title, 360)


def _key_days(course: Any) -> list[float]:
    sessions = course.session_days
    last = float(sessions[-1]) if len(sessions) else 0.0
    end = float(course.trajectory.days[-1])
    return sorted({d for d in (last + 7.0, last + 28.0, last + 90.0, end) if d <= end + 1e-9})


def _observables_table(results: dict[str, Any]) -> html.Table:
    arms = list(results)
    first = results[arms[0]][0]
    days = _key_days(first)
    head = [html.Th("Outcome"), html.Th("Unit")]
    for arm in arms:
        head += [html.Th(f"{arm}, day {d:g}") for d in days]
    if len(arms) == 2:
        head += [html.Th(f"B − A, day {days[-1]:g}")]
    rows = []
    for name, lab in LABELS.items():
        cells = [
            html.Td([lab.label, html.Br(), html.Small(lab.direction_text())]),
            html.Td(lab.unit),
        ]
        values = []
        for arm in arms:
            course = results[arm][0]
            at = [course.at(d).get(name, float("nan")) for d in days]
            values.append(at[-1])
            cells += [html.Td(fmt(v), className="num") for v in at]
        if len(arms) == 2:
            diff = values[1] - values[0]
            better = label(name).better
            cls = "num"
            if better and abs(diff) > 1e-9:
                cls += " better" if (diff < 0) == (better == "lower") else " worse"
            cells.append(html.Td(f"{diff:+.3g}", className=cls))
        rows.append(html.Tr(cells))
    return html.Table(
        [html.Thead(html.Tr(head)), html.Tbody(rows)], className="data", id=f"{PREFIX}-observables"
    )


def _outcome_figure(results: dict[str, Any], name: str) -> go.Figure:
    fig = go.Figure()
    for k, (arm, (course, _)) in enumerate(results.items()):
        days = course.trajectory.days
        fig.add_trace(
            go.Scatter(
                x=days,
                y=course.observables[name],
                name=f"Protocol {arm}",
                line={"color": COLOURS[k]},
            )
        )
        if k == 0:
            session_marks(fig, course.session_days)
    lab = label(name)
    fig.update_xaxes(title="day from the first session")
    fig.update_yaxes(title=lab.unit)
    return style_figure(fig, f"{lab.label} ({lab.direction_text()})", 320)


def _results(results: dict[str, Any], group: str, layer: int, outcome: str) -> html.Div:
    arms = list(results)
    maps = [
        dcc.Graph(figure=_puncture_figure(results[a][1], f"Protocol {a}"), config=GRAPH_CONFIG)
        for a in arms
    ]
    return html.Div(
        [
            html.H2("Needles and skin"),
            html.Div(
                [*maps, dcc.Graph(figure=_depth_figure(results), config=GRAPH_CONFIG)],
                className="grid",
            ),
            html.H2("Clinical outcome"),
            html.Div(
                [
                    field(
                        "Outcome",
                        dcc.Dropdown(
                            id=f"{PREFIX}-outcome",
                            options=[{"label": v.label, "value": k} for k, v in LABELS.items()],
                            value=outcome,
                            clearable=False,
                        ),
                        f"{PREFIX}-outcome",
                    ),
                ],
                className="inline-fields",
            ),
            dcc.Graph(
                id=f"{PREFIX}-outcome-graph",
                figure=_outcome_figure(results, outcome),
                config=GRAPH_CONFIG,
            ),
            _observables_table(results),
            html.H2("Inside the skin"),
            html.Div(
                [
                    field(
                        "Quantity",
                        dropdown(f"{PREFIX}-group", list(GROUPS), group),
                        f"{PREFIX}-group",
                    ),
                    field(
                        "Layer",
                        dcc.Dropdown(
                            id=f"{PREFIX}-layer",
                            options=[
                                {"label": v, "value": i}
                                for i, v in enumerate(LAYER_LABELS.values())
                            ],
                            value=layer,
                            clearable=False,
                        ),
                        f"{PREFIX}-layer",
                    ),
                ],
                className="inline-fields",
            ),
            dcc.Graph(
                id=f"{PREFIX}-layer-graph",
                figure=_layer_figure(results, group, layer),
                config=GRAPH_CONFIG,
            ),
        ],
        id=f"{PREFIX}-done",
    )


PATIENT_IDS = ["age", "sex", "fitzpatrick", "region", "indication", "severity"]
ERROR_IDS = [f"{PREFIX}-{f}" for f in PATIENT_IDS] + [
    f"{PREFIX}-{arm}-{f}" for arm in ARMS for f in PROTOCOL_FIELDS
]


def _inputs() -> list[State]:
    states = [State(f"{PREFIX}-{f}", "value") for f in PATIENT_IDS]
    states += [State(f"{PREFIX}-{a}-{f}", "value") for a in ARMS for f in PROTOCOL_FIELDS]
    return states


def run(
    compare: list[str], values: list[Any]
) -> tuple[dict[str, Any] | None, dict[str, list[str]], dict[str, Any]]:
    """Simulate the chosen arms; ``(results, errors by field id, configs by arm)``."""
    age, sex, fitz, region, indication, severity = values[:6]
    patient = {
        "age_years": age,
        "sex": sex,
        "fitzpatrick": fitz,
        "region": region,
        "indication": indication,
        "baseline_severity": severity,
    }
    arms = ARMS if "on" in (compare or []) else ARMS[:1]
    configs = {}
    errors: dict[str, list[str]] = {}
    for k, arm in enumerate(ARMS):
        if arm not in arms:
            continue
        data = _config(arm, patient, values[6 + 5 * k : 11 + 5 * k])
        configs[arm.upper()] = data
        try:
            from ..config import validate

            validate(RunConfig, data)
        except ConfigError as exc:
            paths = {**PATIENT_PATHS, **_arm_paths(arm)}
            for key, msgs in errors_by_field(exc, paths, f"{PREFIX}-form").items():
                errors.setdefault(key, [])
                errors[key] += [m for m in msgs if m not in errors[key]]
    if errors:
        return None, errors, configs
    return {arm: _simulate(data) for arm, data in configs.items()}, {}, configs


def _shown(configs: dict[str, Any] | None) -> dict[str, Any] | None:
    """The results shown on this page (from the cache; recomputed if evicted)."""
    if not configs:
        return None
    return {arm: _simulate(data) for arm, data in configs.items()}


@callback(
    Output(f"{PREFIX}-results", "children"),
    Output(f"{PREFIX}-shown", "data"),
    Output(f"{PREFIX}-form-error", "children"),
    *[Output(f"{i}-error", "children") for i in ERROR_IDS],
    Input(f"{PREFIX}-run", "n_clicks"),
    State(f"{PREFIX}-compare", "value"),
    *_inputs(),
    prevent_initial_call=True,
)
def _on_run(_: int, compare: list[str], *values: Any) -> tuple[Any, ...]:
    try:
        results, errors, configs = run(compare, list(values))
    except ConfigError as exc:
        return (no_update, no_update, exc.render(), *[""] * len(ERROR_IDS))
    messages = ["; ".join(errors.get(i, [])) for i in ERROR_IDS]
    form = "; ".join(errors.get(f"{PREFIX}-form", []))
    if results is None:
        return (html.Div(), None, form or "Please correct the fields marked in red.", *messages)
    body = _results(results, "Collagen and elastin", 2, _default_outcome(values[4]))
    return (body, configs, "", *messages)


def _default_outcome(indication: str) -> str:
    return services.primary_outcome(indication)


@callback(
    Output(f"{PREFIX}-layer-graph", "figure"),
    Input(f"{PREFIX}-group", "value"),
    Input(f"{PREFIX}-layer", "value"),
    State(f"{PREFIX}-shown", "data"),
    prevent_initial_call=True,
)
def _on_layer(group: str, layer: int, configs: dict[str, Any] | None) -> Any:
    results = _shown(configs)
    return no_update if results is None else _layer_figure(results, group, int(layer))


@callback(
    Output(f"{PREFIX}-outcome-graph", "figure"),
    Input(f"{PREFIX}-outcome", "value"),
    State(f"{PREFIX}-shown", "data"),
    prevent_initial_call=True,
)
def _on_outcome(name: str, configs: dict[str, Any] | None) -> Any:
    results = _shown(configs)
    return no_update if results is None else _outcome_figure(results, name)


__all__ = ["layout", "run"]
