"""Validation: what the model currently has. The packaged calibration's targets against the
posterior predictive interval of the study mean, and the leave-one-study-out
cross-validation where it has been run."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from dash import dcc, html

from ..outcomes.labels import label
from . import services
from .common import GRAPH_CONFIG, fmt, style_figure


def _position(t: dict[str, Any]) -> float:
    """Where the measured value lies in the 95 % interval of the predicted study mean
    (0: its lower end, 1: its upper end; outside [0, 1]: a miss)."""
    lo, hi = float(t["mean_p2_5"]), float(t["mean_p97_5"])
    return float((t["measured"] - lo) / (hi - lo)) if hi > lo else 0.5


def _calibration_figure(
    targets: list[dict[str, Any]], title: str = "Calibration targets (in-sample)"
) -> go.Figure:
    """Where each measured value lies in the 95 % interval of its predicted study mean."""
    fig = go.Figure()
    names = [f"{t['study']}: {_outcome(t)[0]}" for t in targets]
    fig.add_vrect(
        x0=0,
        x1=1,
        fillcolor="rgba(39,174,96,0.15)",
        line_width=0,
        annotation_text="inside the 95 % interval of the predicted study mean",
        annotation_position="top left",
    )
    fig.add_trace(
        go.Scatter(
            x=[_position(t) for t in targets],
            y=names,
            mode="markers",
            name="measured",
            marker={"color": "#1f5f8b", "size": 10},
        )
    )
    fig.update_xaxes(title="measured value's place in the interval (0 = lower end, 1 = upper end)")
    return style_figure(fig, title, 140 + 26 * len(targets))


def _outcome(t: dict[str, Any]) -> tuple[str, str]:
    """Readable name and unit of what a target reports (a share of patients for fractions)."""
    name = label(t["observable"])
    if str(t.get("statistic", "mean")).startswith("fraction"):
        return f"{name.label}: share of patients", "share of patients"
    return name.label, name.unit


def _interval(t: dict[str, Any], lo: str = "mean_p2_5", hi: str = "mean_p97_5") -> str:
    return f"{fmt(t[lo])} to {fmt(t[hi])}"


def _measurement_table(
    items: list[dict[str, Any]], table_id: str, with_unit: bool = False
) -> html.Table:
    """One row per measurement: measured against the predicted study mean and its interval
    (the calibration's in-sample targets and the cross-validation's held-out ones alike)."""
    head = ["Study", "Outcome", *(["Unit"] if with_unit else []), "Day", "Measured"]
    head += ["Predicted mean", "95 % interval", "Within"]
    rows = [
        html.Tr(
            [
                html.Td(t["study"]),
                html.Td(_outcome(t)[0]),
                *([html.Td(_outcome(t)[1])] if with_unit else []),
                html.Td(f"{t['day']:g}", className="num"),
                html.Td(fmt(t["measured"]), className="num"),
                html.Td(fmt(t["mean"]), className="num"),
                html.Td(_interval(t), className="num"),
                html.Td("yes" if t["within_tolerance"] else "no"),
            ]
        )
        for t in items
    ]
    return html.Table(
        [html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(rows)],
        className="data",
        id=table_id,
    )


def _cross_validation_part() -> Any:
    cv = services.cross_validation()
    if cv is None:
        return html.P(
            "No cross-validation here: `needlesim validate studies/calibration "
            "--cross-validate` refits without each study and predicts it (docs/validation.md).",
            className="muted",
        )
    rows = cv.measurements
    within = sum(bool(r["within_tolerance"]) for r in rows)
    figures = [f"{within} of {len(rows)} held-out measurements within tolerance"]
    if "coverage" in cv.summary:
        figures.append(
            f"{100 * cv.summary['coverage']:.0f} % inside the 95 % interval of the predicted "
            "study mean"
        )
    if "median_relative_interval_width" in cv.summary:
        figures.append(
            f"median interval width {100 * cv.summary['median_relative_interval_width']:.0f} % "
            "of the predicted mean"
        )
    return html.Div(
        [
            html.P(
                "Each study left out of the fit in turn, then predicted: "
                + "; ".join(figures)
                + f". From {cv.source}. Within tolerance: inside the interval, or within "
                "35 % of the predicted mean.",
                id="cross-validation-summary",
            ),
            dcc.Graph(
                figure=_calibration_figure(rows, "Cross-validation (held out)"),
                config=GRAPH_CONFIG,
            ),
            _measurement_table(rows, "cross-validation-table"),
        ]
    )


def layout() -> html.Div:
    data = services.calibration_report()
    targets = data.get("targets", [])
    within = sum(bool(t["within_tolerance"]) for t in targets)
    return html.Div(
        [
            html.H1("Validation"),
            html.P(
                f"The packaged calibration ({data.get('date', 'undated')}, needlesim "
                f"{data.get('needlesim_version', '?')}; Bayesian, docs/calibration.md): "
                f"{within} of {len(targets)} measurements within tolerance of the posterior "
                f"predictive study mean. Fitted to the studies in {data.get('studies', '?')}: "
                "these are in-sample; the held-out figure is the cross-validation below.",
                className="lead",
            ),
            dcc.Graph(figure=_calibration_figure(targets), config=GRAPH_CONFIG)
            if targets
            else None,
            _measurement_table(targets, "validation-table", with_unit=True),
            html.H2("Cross-validation (leave one study out)"),
            _cross_validation_part(),
        ]
    )


__all__ = ["layout"]
