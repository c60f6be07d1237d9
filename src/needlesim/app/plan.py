"""Plan: the clinician's page. Screen a patient, recommend a course, explain it, print it.

The planner runs in the background (it searches every candidate course on a
virtual cohort of the patient's profile); the page polls it. For the
recommended course and the two alternatives it shows the predicted improvement
over time as a band (the virtual patients' 95 % range, and the 95 % interval of
their mean, mean ± 1.96 sd/√n), the PIH risk as an icon array, downtime,
after-care and why. Plans are cached by their inputs.
"""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import plotly.graph_objects as go
from dash import Input, Output, State, callback, clientside_callback, dcc, html, no_update

from ..config import ConfigError, Patient, validate
from ..outcomes.labels import label
from . import services
from .common import GRAPH_CONFIG, errors_by_field, field, patient_fields, risk_picture, style_figure
from .state import CACHE, JOBS, SETTINGS, Job

PREFIX = "plan"
FIELDS = ["age", "sex", "fitzpatrick", "region", "indication", "severity"]
PATHS = {
    "age_years": "plan-age",
    "sex": "plan-sex",
    "fitzpatrick": "plan-fitzpatrick",
    "region": "plan-region",
    "indication": "plan-indication",
    "baseline_severity": "plan-severity",
}
ERROR_IDS = [*PATHS.values(), "plan-history"]


def layout() -> html.Div:
    kinds = {"absolute": "do not treat", "relative": "caution"}
    history = [
        {"label": f"{rid.replace('_', ' ')} ({kinds.get(kind, kind)})", "value": rid}
        for rid, kind in services.history_ids()
    ]
    return html.Div(
        [
            html.H1("Plan a course"),
            html.P(
                "Enter the patient. The planner screens the history against the safety rules, "
                "then compares courses on virtual patients of this profile and recommends one.",
                className="lead no-print",
            ),
            html.Div(
                [
                    html.Div([html.H3("Patient"), *patient_fields(PREFIX)], className="card"),
                    html.Div(
                        [
                            html.H3("History and screening"),
                            field(
                                "Medical history (from the safety rules)",
                                dcc.Dropdown(
                                    id="plan-history",
                                    options=history,
                                    value=[],
                                    multi=True,
                                    placeholder="none",
                                ),
                                "plan-history",
                            ),
                            dcc.Checklist(
                                id="plan-override",
                                options=[
                                    {
                                        "label": " allow needles beyond the region's limit "
                                        "(flagged)",
                                        "value": "on",
                                    }
                                ],
                                value=[],
                            ),
                            html.Button(
                                "Plan the course", id="plan-run", className="primary", n_clicks=0
                            ),
                            html.Div(id="plan-form-error", className="field-error", role="alert"),
                            html.Div(id="plan-status", className="status", role="status"),
                        ],
                        className="card",
                    ),
                ],
                className="form-row no-print",
            ),
            dcc.Store(id="plan-job"),
            dcc.Store(id="plan-finished"),
            dcc.Interval(id="plan-poll", interval=700, disabled=True),
            html.Div(id="plan-result"),
        ]
    )


def _patient(values: list[Any]) -> Patient:
    age, sex, fitz, region, indication, severity = values
    data = {
        "age_years": age,
        "sex": sex,
        "fitzpatrick": fitz,
        "region": region,
        "indication": indication,
        "baseline_severity": severity,
    }
    result: Patient = validate(Patient, data)
    return result


def compute(patient: Patient, history: list[str], override: bool, job: Job | None = None) -> Any:
    """The plan, with the band of each course (cached by the inputs)."""
    key = ("plan", patient.model_dump_json(), tuple(history), override, str(SETTINGS["evaluator"]))
    found = CACHE.get(key)
    if found is not None:
        return found
    data = services.plan(
        patient, history=history, override_depth=override, evaluator=SETTINGS["evaluator"]
    )
    if job:
        job.report(1.0)
    CACHE.put(key, data)
    return data


@callback(
    Output("plan-job", "data"),
    Output("plan-poll", "disabled"),
    Output("plan-status", "children"),
    Output("plan-form-error", "children"),
    *[Output(f"{i}-error", "children") for i in ERROR_IDS],
    Input("plan-run", "n_clicks"),
    *[State(f"plan-{f}", "value") for f in FIELDS],
    State("plan-history", "value"),
    State("plan-override", "value"),
    prevent_initial_call=True,
)
def _on_plan(_: int, *values: Any) -> tuple[Any, ...]:
    *patient_values, history, override = values
    blank = [""] * len(ERROR_IDS)
    try:
        patient = _patient(list(patient_values))
    except ConfigError as exc:
        found = errors_by_field(exc, {**PATHS, "history": "plan-history"}, "plan-form")
        messages = ["; ".join(found.get(i, [])) for i in ERROR_IDS]
        form = "; ".join(found.get("plan-form", [])) or "Please correct the fields marked in red."
        return (None, True, "", form, *messages)
    job = JOBS.start("plan", lambda j: compute(patient, list(history or []), "on" in override, j))
    return (
        {"job": job.id, "patient": patient.model_dump(mode="json")},
        False,
        "Searching courses…",
        "",
        *blank,
    )


@callback(
    Output("plan-finished", "data"),
    Output("plan-status", "children", allow_duplicate=True),
    Output("plan-poll", "disabled", allow_duplicate=True),
    Input("plan-poll", "n_intervals"),
    State("plan-job", "data"),
    prevent_initial_call=True,
)
def _on_poll(_: int, store: dict[str, Any] | None) -> tuple[Any, ...]:
    """Fast: only the status. The result is drawn by :func:`_on_finished` (a slow answer
    to a poll would be dropped by the browser when the next poll starts)."""
    job = JOBS.get((store or {}).get("job"))
    if job is None:
        return no_update, "", True
    if job.state == "running":
        elapsed = time.time() - job.started
        return no_update, f"Searching courses on virtual patients… {elapsed:.0f} s", False
    return job.id, "", True


@callback(
    Output("plan-result", "children"),
    Input("plan-finished", "data"),
    prevent_initial_call=True,
)
def _on_finished(job_id: str | None) -> Any:
    job = JOBS.get(job_id)
    if job is None:
        return no_update
    if job.state != "done":
        return html.Div(job.error or job.state, className="alert refusal")
    return render(job.result)


clientside_callback(
    "function(n) { if (n) { window.print(); } return ''; }",
    Output("plan-print-done", "children"),
    Input("plan-print", "n_clicks"),
    prevent_initial_call=True,
)


def _course_title(protocol: dict[str, Any]) -> str:
    return (
        f"{protocol['device'].capitalize()}, {protocol['needle_length_mm']:g} mm needles, "
        f"{protocol['sessions']} sessions every {protocol['interval_days']:g} days"
    )


def _band_figure(course: dict[str, Any]) -> go.Figure:
    bands = course.get("band") or {"rows": [], "observable": ""}
    rows = np.asarray(bands["rows"], dtype=float).reshape(-1, 6)
    lab = label(bands["observable"])
    fig = go.Figure()
    if rows.size:
        day = rows[:, 0]
        fig.add_trace(
            go.Scatter(
                mode="lines",
                x=day,
                y=rows[:, 3],
                line={"width": 0},
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                mode="lines",
                x=day,
                y=rows[:, 2],
                fill="tonexty",
                line={"width": 0},
                fillcolor="rgba(31,95,139,0.15)",
                name="95 % of patients like this",
            )
        )
        fig.add_trace(
            go.Scatter(
                mode="lines",
                x=day,
                y=rows[:, 5],
                line={"width": 0},
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                mode="lines",
                x=day,
                y=rows[:, 4],
                fill="tonexty",
                line={"width": 0},
                fillcolor="rgba(31,95,139,0.40)",
                name="95 % interval of the average",
            )
        )
        fig.add_trace(
            go.Scatter(
                mode="lines",
                x=day,
                y=rows[:, 1],
                line={"color": "#1f5f8b", "width": 2},
                name="average",
            )
        )
    p = course["protocol"]
    for s in range(int(p["sessions"])):
        fig.add_vline(x=s * float(p["interval_days"]), line={"dash": "dot", "color": "#999"})
    fig.update_xaxes(title="day from the first session")
    fig.update_yaxes(title=lab.unit)
    return style_figure(fig, f"{lab.label} over time ({lab.direction_text()})", 280)


def _improvement_text(course: dict[str, Any], objective: str) -> str:
    lab = label(objective)
    pred = course["predicted"].get(objective)
    if not pred:
        return f"{lab.label}: no prediction."
    return (
        f"{lab.label} on day {course['outcome_day']:g}: {pred['mean']:+.3g} "
        f"({lab.unit}); 95 % of patients like this between {pred['p2_5']:+.3g} and "
        f"{pred['p97_5']:+.3g}. {lab.direction_text().capitalize()}."
    )


def _course_card(course: dict[str, Any], title: str, objective: str, card_id: str) -> html.Div:
    flags = [html.Li(f, className="flag") for f in course.get("flags", [])]
    care = [
        html.Li(
            [
                html.B(a["topic"].replace("_", " ").capitalize() + ": "),
                a["advice"],
                html.Small(f" ({a['label']}: {a['source']})", className="muted"),
            ]
        )
        for a in course.get("aftercare", [])
    ]
    return html.Div(
        [
            html.H3([title, ": ", _course_title(course["protocol"])]),
            html.P(_improvement_text(course, objective), className="improvement"),
            dcc.Graph(figure=_band_figure(course), config=GRAPH_CONFIG),
            html.Div(
                [
                    html.Div(
                        [html.H4("Risk of dark marks (PIH)"), risk_picture(course.get("pih_risk"))]
                    ),
                    html.Div(
                        [
                            html.H4("Downtime"),
                            html.P(
                                f"About {max(1, round(course['downtime_days']))} days of visible "
                                "redness "
                                "and swelling after each session."
                            ),
                            html.H4("Why this course"),
                            html.P(course.get("why", "")),
                            html.Ul(flags) if flags else None,
                        ]
                    ),
                ],
                className="two-col",
            ),
            html.Details([html.Summary("After-care"), html.Ul(care)], open=title == "Recommended"),
        ],
        className="card course",
        id=card_id,
    )


def _finding(f: dict[str, Any]) -> html.Li:
    text = f["id"].replace("_", " ")
    if f.get("precaution"):
        text += f": {f['precaution']}"
    if f.get("note"):
        text += f" ({f['note']})"
    return html.Li([text, html.Small(f" — source: {f['source']}", className="muted")])


def render(data: dict[str, Any]) -> html.Div:
    """The plan as a page section (also what is printed)."""
    p = data["patient"]
    who = (
        f"{p['age_years']:g}-year-old {p['sex']}, Fitzpatrick type {p['fitzpatrick']}, "
        f"{p['indication'].replace('_', ' ')} on the {p['region']} ({p['baseline_severity']})"
    )
    parts: list[Any] = [
        html.Div(
            [
                html.H2("Treatment plan"),
                html.Button("Print this plan", id="plan-print", className="no-print"),
            ],
            className="plan-head",
        ),
        html.Span(id="plan-print-done", hidden=True),
        html.P(who, className="who"),
    ]
    if data.get("test_double") and data.get("recommended"):
        parts.append(
            html.Div(
                "TEST DOUBLE: these numbers do not come from the healing model.",
                className="alert refusal",
            )
        )
    if data["refused"]:
        parts.append(
            html.Div(
                [
                    html.H3("Do not treat"),
                    html.P("Screening found an absolute contraindication:"),
                    html.Ul([_finding(f) for f in data["reasons"]]),
                ],
                className="alert refusal",
                id="plan-refusal",
            )
        )
    if data["precautions"]:
        parts.append(
            html.Div(
                [html.H3("Precautions"), html.Ul([_finding(f) for f in data["precautions"]])],
                className="alert caution",
                id="plan-precautions",
            )
        )
    objective = data["objective"]["observable"]
    if data.get("recommended"):
        parts.append(
            _course_card(data["recommended"], "Recommended", objective, "plan-recommended")
        )
        for k, alt in enumerate(data["alternatives"], start=1):
            parts.append(_course_card(alt, f"Alternative {k}", objective, f"plan-alternative-{k}"))
    parts.append(
        html.Details(
            [
                html.Summary("How the planner chose"),
                html.Ul([html.Li(r) for r in data["rationale"]]),
            ],
            open=True,
        )
    )
    parts.append(html.P(data["disclaimer"], className="disclaimer"))
    return html.Div(parts, className="plan-output", id="plan-output")


def plan_json(data: dict[str, Any]) -> str:
    """The plan as JSON (what ``needlesim plan --json`` prints)."""
    return json.dumps(data)


__all__ = ["compute", "layout", "render"]
