"""Presenting a plan: rich terminal tables and a self-contained HTML report (jinja2)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..io import write_text
from .plan import TEST_DOUBLE_NOTE


def _plans(plan: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    if not plan.get("recommended"):
        return []
    named = [("recommended", plan["recommended"])]
    named += [(f"alternative {i + 1}", p) for i, p in enumerate(plan["alternatives"])]
    return named


def render_html(plan: dict[str, Any]) -> str:
    """The plan as one self-contained HTML page (inline CSS, no external resources)."""
    source = (
        resources.files("needlesim.planning")
        .joinpath("templates/plan.html.j2")
        .read_text(encoding="utf-8")
    )
    env = Environment(autoescape=select_autoescape(default=True), trim_blocks=True)
    template = env.from_string(source)
    return template.render(plan=plan, plans=_plans(plan), test_double_note=TEST_DOUBLE_NOTE)


def write_html(plan: dict[str, Any], path: Path) -> Path:
    """Write :func:`render_html` to ``path`` atomically."""
    return write_text(path, render_html(plan))


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def print_plan(plan: dict[str, Any], console: Console) -> None:
    """Screening, plans, rationale and after-care as rich tables."""
    p = plan["patient"]
    head = (
        f"{p['age_years']:g}-year-old {p['sex']}, Fitzpatrick {p['fitzpatrick']}, "
        f"{p['region']}, {p['indication'].replace('_', ' ')} ({p['baseline_severity']})"
    )
    if plan["test_double"]:
        head += "\n[bold yellow]analytic TEST DOUBLE: numbers are invented, not model results"
    console.print(Panel(head, title="needlesim plan"))
    if plan["refused"]:
        lines = [
            f"[bold red]REFUSED[/]: {r['id'].replace('_', ' ')} ({r['label']}; {r['source']})"
            for r in plan["reasons"]
        ]
        console.print(Panel("\n".join(lines), title="screening", border_style="red"))
    if plan["precautions"]:
        table = Table(title="precautions")
        for col in ("rule", "precaution", "label", "source"):
            table.add_column(col)
        for r in plan["precautions"]:
            rule = r["id"].replace("_", " ") + (" (from skin type)" if r["automatic"] else "")
            table.add_row(rule, r["precaution"] or "", r["label"], r["source"])
        console.print(table)
    plans = _plans(plan)
    if plans:
        obs = plan["objective"]["observable"]
        table = Table(title=f"plans ({obs}: {plan['objective']['better']} is better)")
        for col in ("", "course", f"{obs}\nmean [95%]", "PIH risk", "downtime d", "flags"):
            table.add_column(col, justify="right" if col in ("PIH risk", "downtime d") else "left")
        for name, q in plans:
            o = q["predicted"].get(obs)
            outcome = f"{o['mean']:.3g} [{o['p2_5']:.3g}, {o['p97_5']:.3g}]" if o else "-"
            c = q["protocol"]
            course = (
                f"{c['device']} {c['needle_length_mm']:g} mm, {c['sessions']} sessions "
                f"every {c['interval_days']:g} d"
            )
            table.add_row(
                name, course, outcome, _pct(q["pih_risk"]), f"{q['downtime_days']:g}",
                f"⚑ {len(q['flags'])}" if q["flags"] else "",
            )  # fmt: skip
        console.print(table)
        for name, q in plans:
            for flag in q["flags"]:
                console.print(f"[bold #c05000]⚑ {name}:[/] {flag}", highlight=False)
        care = Table(title="after-care (recommended plan)")
        for col in ("topic", "advice", "source"):
            care.add_column(col)
        for a in plan["recommended"]["aftercare"]:
            src = (
                a["label"] if a["label"] in ("practice", "plan") else f"{a['label']}: {a['source']}"
            )
            care.add_row(a["topic"], a["advice"], src)
        console.print(care)
    why = Group(*[Text(f"• {line}") for line in plan["rationale"]])
    console.print(Panel(why, title="why"))
