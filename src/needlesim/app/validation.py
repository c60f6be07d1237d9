"""Validation: what the model currently has. The calibration targets before and after the
fit, and the leave-one-study-out cross-validation where it has been run."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from dash import dcc, html

from ..outcomes.labels import label
from . import services
from .common import GRAPH_CONFIG, fmt, style_figure


def _calibration_figure(targets: list[dict[str, Any]]) -> go.Figure:
    fig = go.Figure()
    names = [f"{t['study']}: {label(t['observable']).label}" for t in targets]

    def rel(t: dict[str, Any], key: str) -> float:
        """Distance from the measurement in units of its tolerance."""
        tol = t["tolerance_above"] if t[key] >= t["measured"] else t["tolerance_below"]
        return float((t[key] - t["measured"]) / tol) if tol else 0.0

    fig.add_vrect(
        x0=-1,
        x1=1,
        fillcolor="rgba(39,174,96,0.15)",
        line_width=0,
        annotation_text="within tolerance",
        annotation_position="top left",
    )
    fig.add_trace(
        go.Scatter(
            x=[rel(t, "before") for t in targets],
            y=names,
            mode="markers",
            name="before calibration",
            marker={"color": "#7f8c8d", "size": 9},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[rel(t, "after") for t in targets],
            y=names,
            mode="markers",
            name="after calibration",
            marker={"color": "#1f5f8b", "size": 11},
        )
    )
    fig.update_xaxes(title="(predicted − measured) / tolerance", zeroline=True)
    return style_figure(fig, "Calibration targets", 140 + 38 * len(targets))


def layout() -> html.Div:
    data = services.calibration_report()
    targets = data.get("targets", [])
    head = ["Study", "Outcome", "Unit", "Day", "Measured", "Tolerance", "Before", "After", "Within"]
    rows = [
        html.Tr(
            [
                html.Td(t["study"]),
                html.Td(label(t["observable"]).label),
                html.Td(label(t["observable"]).unit),
                html.Td(f"{t['day']:g}", className="num"),
                html.Td(fmt(t["measured"]), className="num"),
                html.Td(
                    f"−{fmt(t['tolerance_below'])} / +{fmt(t['tolerance_above'])}", className="num"
                ),
                html.Td(fmt(t["before"]), className="num"),
                html.Td(fmt(t["after"]), className="num"),
                html.Td("yes" if t["within_after"] else "no"),
            ]
        )
        for t in targets
    ]
    within = sum(bool(t["within_after"]) for t in targets)
    opt = data.get("optimizer", {})
    cv = services.cross_validation()
    if cv:
        cv_part: Any = html.Table(
            [
                html.Thead(html.Tr([html.Th(k) for k in cv[0]])),
                html.Tbody([html.Tr([html.Td(str(v)) for v in r.values()]) for r in cv]),
            ],
            className="data",
        )
    else:
        cv_part = html.P(
            "No cross-validation has been run here yet: `needlesim validate --cross-validate "
            "studies/calibration` refits without each study and predicts it.",
            className="muted",
        )
    return html.Div(
        [
            html.H1("Validation"),
            html.P(
                f"The packaged calibration ({data.get('date', 'undated')}, needlesim "
                f"{data.get('needlesim_version', '?')}): {within} of {len(targets)} targets "
                f"within tolerance after the fit (cost {opt.get('cost_before', '?')} → "
                f"{opt.get('cost_after', '?')}). Fitted to the studies in "
                f"{data.get('studies', '?')}; these are fitted values, not held-out predictions.",
                className="lead",
            ),
            dcc.Graph(figure=_calibration_figure(targets), config=GRAPH_CONFIG)
            if targets
            else None,
            html.Table(
                [html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(rows)],
                className="data",
                id="validation-table",
            ),
            html.H2("Cross-validation (leave one study out)"),
            cv_part,
        ]
    )


__all__ = ["layout"]
