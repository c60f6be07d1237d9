"""Pieces every page shares: form fields with an error slot, errors by field, figure styling."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from typing import Any

from dash import dcc, html

from ..config import ConfigError, Indication, Region, Severity, Sex
from ..outcomes.labels import icon_array_svg, risk_sentence

GRAPH_CONFIG: Any = {"displaylogo": False, "responsive": True}
"""Plotly config: no logo link; nothing is fetched (plotly.js is served by the app)."""

COLOURS = ("#1f5f8b", "#c0392b", "#27ae60", "#8e44ad", "#d35400", "#7f8c8d")
"""A: blue, B: red, then the other series."""


def options(values: Iterable[str], readable: bool = True) -> list[dict[str, str]]:
    """Dropdown options with readable labels (``atrophic_acne_scars`` -> Atrophic acne scars)."""
    return [
        {"label": v.replace("_", " ").capitalize() if readable else v, "value": v} for v in values
    ]


def field(label: str, control: Any, field_id: str, hint: str = "") -> html.Div:
    """A labelled control with an error slot ``<field_id>-error`` under it."""
    return html.Div(
        [
            html.Label(label, htmlFor=field_id, className="field-label"),
            control,
            html.Div(hint, className="field-hint") if hint else None,
            html.Div(id=f"{field_id}-error", className="field-error", role="alert"),
        ],
        className="field",
    )


def number(field_id: str, value: float, step: float | str = "any") -> Any:
    """A number box. Bounds are checked by the model (so the message is the CLI's),
    not by the browser (which would silently drop an out-of-range value)."""
    return dcc.Input(id=field_id, type="number", value=value, step=step)


def dropdown(field_id: str, values: Sequence[str], value: str | None, **kw: Any) -> Any:
    return dcc.Dropdown(id=field_id, options=options(values), value=value, clearable=False, **kw)


def patient_fields(prefix: str, fitzpatrick: int = 3) -> list[html.Div]:
    """Age, sex, Fitzpatrick type, region, indication and severity (ids ``<prefix>-age`` ...)."""
    return [
        field("Age (years)", number(f"{prefix}-age", 35), f"{prefix}-age", "16 to 90"),
        field("Sex", dropdown(f"{prefix}-sex", [s.value for s in Sex], "female"), f"{prefix}-sex"),
        field(
            "Fitzpatrick skin type",
            dcc.Dropdown(
                id=f"{prefix}-fitzpatrick",
                options=[
                    {"label": f"Type {r}", "value": i}
                    for i, r in enumerate(("I", "II", "III", "IV", "V", "VI"), start=1)
                ],
                value=fitzpatrick,
                clearable=False,
            ),
            f"{prefix}-fitzpatrick",
        ),
        field(
            "Region",
            dropdown(f"{prefix}-region", [r.value for r in Region], "cheek"),
            f"{prefix}-region",
        ),
        field(
            "Indication",
            dropdown(f"{prefix}-indication", [i.value for i in Indication], "atrophic_acne_scars"),
            f"{prefix}-indication",
        ),
        field(
            "Severity",
            dropdown(f"{prefix}-severity", [s.value for s in Severity], "moderate"),
            f"{prefix}-severity",
        ),
    ]


def errors_by_field(exc: ConfigError, fields: dict[str, str], default: str) -> dict[str, list[str]]:
    """The messages of ``exc`` keyed by form field id.

    ``fields`` maps a config path (``patient.age_years``) to a field id; a problem
    whose path is not in it goes to ``default``. Each message is the CLI's
    (``<value> is out of range; allowed: ...``).
    """
    found: dict[str, list[str]] = {}
    for problem in exc.problems:
        target = fields.get(problem.path, default)
        text = problem.message if problem.path in fields else str(problem)
        found.setdefault(target, []).append(text)
    return found


def svg_image(svg: str, alt: str) -> html.Img:
    """An inline SVG as an <img> (data URI: nothing is fetched)."""
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return html.Img(src=f"data:image/svg+xml;base64,{data}", alt=alt, className="icon-array")


def risk_picture(probability: float | None, what: str = "get dark marks (PIH)") -> html.Div:
    """ "About N in 100 patients like this ..." with its icon array."""
    if probability is None:
        return html.Div("No prediction of this risk from the model.", className="muted")
    sentence = risk_sentence(probability, what)
    return html.Div(
        [svg_image(icon_array_svg(probability), sentence), html.P(sentence, className="risk")],
        className="risk-picture",
    )


def style_figure(fig: Any, title: str = "", height: int = 320) -> Any:
    """Plain styling shared by every plot (system fonts, white background)."""
    fig.update_layout(
        title={"text": title, "x": 0.0, "font": {"size": 14}},
        height=height,
        margin={"l": 60, "r": 20, "t": 40 if title else 10, "b": 45},
        template="plotly_white",
        font={"family": "system-ui, -apple-system, 'Segoe UI', sans-serif", "size": 12},
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


def session_marks(
    fig: Any, session_days: Iterable[float], row: Any = None, col: Any = None
) -> None:
    """Dotted vertical lines at the sessions."""
    for day in session_days:
        kw = {"row": row, "col": col} if row is not None else {}
        fig.add_vline(x=float(day), line={"dash": "dot", "color": "#999", "width": 1}, **kw)


def fmt(value: float | None, digits: int = 3) -> str:
    """Three significant digits; a dash for missing values."""
    if value is None or value != value:
        return "–"
    return f"{value:.{digits}g}"
