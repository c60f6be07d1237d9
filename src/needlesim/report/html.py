"""Self-contained HTML reports: inline CSS, images embedded as base64 PNG.

A report is a title, a few key-value facts, and sections; a section holds
paragraphs, tables (header + rows) and figures. One file, readable offline.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path

from jinja2 import Environment, select_autoescape

from .. import __version__
from ..io import write_text


@cache
def _template_text() -> str:
    return resources.files("needlesim.report").joinpath("templates/report.html.j2").read_text()


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[object]]
    note: str = ""


@dataclass(frozen=True)
class Figure:
    """A PNG embedded in the page."""

    path: Path
    caption: str

    @property
    def data_uri(self) -> str:
        data = base64.b64encode(Path(self.path).read_bytes()).decode("ascii")
        return f"data:image/png;base64,{data}"


@dataclass
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)


def render_html(
    title: str,
    sections: list[Section],
    *,
    subtitle: str = "",
    facts: list[tuple[str, str]] | None = None,
    provenance: str = "",
) -> str:
    """The report as one HTML string (escaped; images inline)."""
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    return env.from_string(_template_text()).render(
        title=title,
        subtitle=subtitle,
        facts=facts or [],
        sections=sections,
        version=__version__,
        created=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        provenance=provenance,
    )


def write_html(
    target: str | Path,
    title: str,
    sections: list[Section],
    *,
    subtitle: str = "",
    facts: list[tuple[str, str]] | None = None,
    provenance: str = "",
) -> Path:
    """Render and write a report atomically."""
    html = render_html(title, sections, subtitle=subtitle, facts=facts, provenance=provenance)
    return write_text(target, html)
