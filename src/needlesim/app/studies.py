"""Studies: run a bundled or uploaded study's virtual cohort in the background.

An upload is parsed in memory (safe YAML, size-limited, validated as a study);
nothing is written to disk. The run reports progress and can be cancelled;
when done the page shows predicted against measured and offers the
per-patient table as CSV or Parquet.
"""

from __future__ import annotations

import base64
import io
import time
from typing import Any

import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html, no_update

from ..config import ConfigError, Study
from ..outcomes.labels import label
from . import services
from .common import GRAPH_CONFIG, field, fmt, number, style_figure
from .state import JOBS, SETTINGS, Job

PREFIX = "studies"
MAX_PATIENTS = 500


def layout() -> html.Div:
    bundled = services.bundled_studies()
    return html.Div(
        [
            html.H1("Studies"),
            html.P(
                "Run a published study's virtual cohort and compare the prediction with what "
                "was measured. Pick a bundled study or upload a study file (YAML, study format "
                "of DESIGN.md).",
                className="lead",
            ),
            html.Div(
                [
                    html.Div(
                        [
                            field(
                                "Bundled study",
                                dcc.Dropdown(
                                    id="studies-bundled",
                                    options=[{"label": k, "value": k} for k in bundled],
                                    value=next(iter(bundled), None),
                                    clearable=True,
                                ),
                                "studies-bundled",
                            ),
                            dcc.Upload(
                                html.Div(["or drop a study file here / ", html.A("choose one")]),
                                id="studies-upload",
                                className="upload",
                                max_size=services.MAX_UPLOAD_BYTES,
                            ),
                            html.Div(id="studies-upload-name", className="field-hint"),
                            html.Div(
                                id="studies-upload-error", className="field-error", role="alert"
                            ),
                            field(
                                "Virtual patients",
                                number("studies-n", 20, 1),
                                "studies-n",
                                f"2 to {MAX_PATIENTS}",
                            ),
                            html.Div(
                                [
                                    html.Button(
                                        "Run the cohort",
                                        id="studies-run",
                                        className="primary",
                                        n_clicks=0,
                                    ),
                                    html.Button(
                                        "Cancel", id="studies-cancel", n_clicks=0, disabled=True
                                    ),
                                ],
                                className="buttons",
                            ),
                            html.Progress(id="studies-progress", max="100", value="0"),
                            html.Div(id="studies-status", className="status", role="status"),
                        ],
                        className="card",
                    ),
                ],
                className="form-row",
            ),
            dcc.Store(id="studies-text"),
            dcc.Store(id="studies-job"),
            dcc.Store(id="studies-finished"),
            dcc.Interval(id="studies-poll", interval=500, disabled=True),
            html.Div(id="studies-result"),
            dcc.Download(id="studies-download"),
        ]
    )


@callback(
    Output("studies-text", "data"),
    Output("studies-upload-name", "children"),
    Output("studies-upload-error", "children"),
    Input("studies-upload", "contents"),
    State("studies-upload", "filename"),
    prevent_initial_call=True,
)
def _on_upload(contents: str | None, filename: str | None) -> tuple[Any, ...]:
    if not contents:
        return None, "", ""
    try:
        raw = base64.b64decode(contents.split(",", 1)[1])
        text = raw.decode("utf-8")
        services.parse(text, Study, filename or "upload")
    except ConfigError as exc:
        return None, "", exc.render()
    except (UnicodeDecodeError, ValueError, IndexError):
        return None, "", f"{filename}: not a UTF-8 text file"
    return {"text": text, "name": filename}, f"uploaded {filename}", ""


def _study(bundled: str | None, uploaded: dict[str, Any] | None) -> Study:
    if uploaded:
        study: Study = services.parse(uploaded["text"], Study, uploaded.get("name") or "upload")
        return study
    path = services.bundled_studies().get(bundled or "")
    if path is None:
        from ..config import Problem

        raise ConfigError([Problem("study", "pick a bundled study or upload one")])
    found = services.load(path)
    if not isinstance(found, Study):
        from ..config import Problem

        raise ConfigError([Problem("study", f"{path.name} is not a study")])
    return found


@callback(
    Output("studies-job", "data"),
    Output("studies-poll", "disabled"),
    Output("studies-cancel", "disabled"),
    Output("studies-status", "children"),
    Output("studies-n-error", "children"),
    Input("studies-run", "n_clicks"),
    State("studies-bundled", "value"),
    State("studies-text", "data"),
    State("studies-n", "value"),
    prevent_initial_call=True,
)
def _on_run(_: int, bundled: str | None, uploaded: Any, n: Any) -> tuple[Any, ...]:
    if not isinstance(n, int | float) or not 2 <= n <= MAX_PATIENTS or int(n) != n:
        return (
            no_update,
            True,
            True,
            "",
            f"{n!r} is not allowed; allowed: whole numbers 2 to {MAX_PATIENTS}",
        )
    try:
        study = _study(bundled, uploaded)
    except ConfigError as exc:
        return no_update, True, True, exc.render(), ""

    def work(job: Job) -> services.StudyRun:
        return services.run_study(
            study,
            int(n),
            progress=job.report,
            evaluator=SETTINGS["cohort_evaluator"] or SETTINGS["evaluator"],
        )

    job = JOBS.start("study", work)
    return {"job": job.id}, False, False, f"Running {study.name} with {int(n)} patients…", ""


@callback(
    Output("studies-cancel", "disabled", allow_duplicate=True),
    Output("studies-status", "children", allow_duplicate=True),
    Input("studies-cancel", "n_clicks"),
    State("studies-job", "data"),
    prevent_initial_call=True,
)
def _on_cancel(_: int, store: dict[str, Any] | None) -> tuple[Any, ...]:
    if JOBS.cancel((store or {}).get("job")):
        return True, "Cancelling…"
    return True, no_update


@callback(
    Output("studies-progress", "value"),
    Output("studies-status", "children", allow_duplicate=True),
    Output("studies-finished", "data"),
    Output("studies-poll", "disabled", allow_duplicate=True),
    Output("studies-cancel", "disabled", allow_duplicate=True),
    Input("studies-poll", "n_intervals"),
    State("studies-job", "data"),
    prevent_initial_call=True,
)
def _on_poll(_: int, store: dict[str, Any] | None) -> tuple[Any, ...]:
    """Fast: progress and status only; :func:`_on_finished` draws the result."""
    job = JOBS.get((store or {}).get("job"))
    if job is None:
        return no_update, "", no_update, True, True
    pct = f"{100 * job.progress:.0f}"
    if job.state == "running":
        elapsed = time.time() - job.started
        status = f"Running… {pct} % ({elapsed:.0f} s)"
        return pct, status, no_update, False, job.cancel.is_set()
    if job.state == "cancelled":
        return pct, f"Cancelled at {pct} %.", job.id, True, True
    if job.state == "failed":
        return pct, "Failed.", job.id, True, True
    return "100", "Done.", job.id, True, True


@callback(
    Output("studies-result", "children"),
    Input("studies-finished", "data"),
    prevent_initial_call=True,
)
def _on_finished(job_id: str | None) -> Any:
    job = JOBS.get(job_id)
    if job is None:
        return no_update
    if job.state == "failed":
        return html.Div(job.error, className="alert refusal")
    if job.state != "done":
        return html.Div()
    return _result(job.result)


def _result(run: services.StudyRun) -> html.Div:
    rows = []
    for p in run.predictions:
        lab = label(p["observable"])
        inside = None if p["measured"] is None else p["p2_5"] <= p["measured"] <= p["p97_5"]
        rows.append(
            html.Tr(
                [
                    html.Td(lab.label),
                    html.Td(lab.unit),
                    html.Td(f"{p['day']:g}", className="num"),
                    html.Td(fmt(p["mean"]), className="num"),
                    html.Td(f"{fmt(p['p2_5'])} to {fmt(p['p97_5'])}", className="num"),
                    html.Td(fmt(p["measured"]), className="num"),
                    html.Td("" if inside is None else ("yes" if inside else "no")),
                ]
            )
        )
    head = [
        "Outcome",
        "Unit",
        "Day",
        "Predicted mean",
        "95 % of patients",
        "Measured",
        "Measured inside the range?",
    ]
    return html.Div(
        [
            html.H2(f"{run.name}: predicted against measured"),
            html.Div(
                "TEST DOUBLE: these numbers do not come from the healing model.",
                className="alert refusal",
            )
            if run.test_double
            else None,
            dcc.Graph(figure=_figure(run), config=GRAPH_CONFIG),
            html.Table(
                [html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(rows)],
                className="data",
                id="studies-table",
            ),
            html.Div(
                [
                    html.Button("Download patients (CSV)", id="studies-csv", n_clicks=0),
                    html.Button("Download patients (Parquet)", id="studies-parquet", n_clicks=0),
                ],
                className="buttons",
            ),
        ],
        id="studies-done",
    )


def _figure(run: services.StudyRun) -> go.Figure:
    fig = go.Figure()
    names = [f"{label(p['observable']).label}, day {p['day']:g}" for p in run.predictions]
    means = [p["mean"] for p in run.predictions]
    fig.add_trace(
        go.Scatter(
            x=means,
            y=names,
            mode="markers",
            name="predicted (95 % of patients)",
            marker={"color": "#1f5f8b", "size": 10},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [p["p97_5"] - p["mean"] for p in run.predictions],
                "arrayminus": [p["mean"] - p["p2_5"] for p in run.predictions],
            },
        )
    )
    measured = [
        (p["measured"], n)
        for p, n in zip(run.predictions, names, strict=True)
        if p["measured"] is not None
    ]
    if measured:
        fig.add_trace(
            go.Scatter(
                x=[m for m, _ in measured],
                y=[n for _, n in measured],
                mode="markers",
                name="measured",
                marker={"color": "#c0392b", "symbol": "diamond", "size": 12},
            )
        )
    units = {label(p["observable"]).unit for p in run.predictions}
    fig.update_xaxes(title=units.pop() if len(units) == 1 else "value (unit in the table)")
    return style_figure(fig, "", 180 + 40 * len(names))


@callback(
    Output("studies-download", "data"),
    Input("studies-csv", "n_clicks"),
    Input("studies-parquet", "n_clicks"),
    State("studies-job", "data"),
    prevent_initial_call=True,
)
def _on_download(csv: int, parquet: int, store: dict[str, Any] | None) -> Any:
    from dash import ctx

    job = JOBS.get((store or {}).get("job"))
    if job is None or job.state != "done" or not (csv or parquet):
        return no_update
    table = job.result.patients
    name = job.result.name
    if ctx.triggered_id == "studies-parquet":
        buffer = io.BytesIO()
        table.to_parquet(buffer, index=False)
        return dcc.send_bytes(buffer.getvalue(), f"{name}-patients.parquet")
    return dcc.send_data_frame(table.to_csv, f"{name}-patients.csv", index=False)


__all__ = ["layout"]
