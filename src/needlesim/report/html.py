"""Self-contained HTML reports: inline CSS, images embedded as base64 PNG.

A report is a title, a few key-value facts, and sections; a section holds
paragraphs, tables (header + rows) and figures. One file, readable offline.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, select_autoescape

from .. import __version__
from ..io import write_text

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
 body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2330;background:#f6f4f1}
 header{background:#3b2f4a;color:#fff;padding:1.4rem 2rem}
 header h1{margin:0;font-size:1.5rem} header p{margin:.3rem 0 0;opacity:.85}
 main{max-width:1100px;margin:0 auto;padding:1rem 2rem 3rem}
 section{background:#fff;border-radius:8px;padding:1rem 1.4rem;margin:1rem 0;
         box-shadow:0 1px 3px rgba(0,0,0,.08)}
 h2{font-size:1.15rem;margin:.2rem 0 .8rem;color:#3b2f4a}
 table{border-collapse:collapse;width:100%;font-size:.92rem;margin:.5rem 0}
 th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #e4e0da}
 th{background:#f1ede8} td.num{text-align:right;font-variant-numeric:tabular-nums}
 .facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:.6rem}
 .fact{background:#f1ede8;border-radius:6px;padding:.5rem .8rem}
 .fact b{display:block;font-size:1.15rem} .fact span{font-size:.8rem;color:#5a5f6b}
 figure{margin:.8rem 0} figure img{max-width:100%;border:1px solid #e4e0da;border-radius:4px}
 figcaption{font-size:.85rem;color:#5a5f6b} .note{font-size:.85rem;color:#5a5f6b}
 footer{font-size:.8rem;color:#5a5f6b;text-align:center;padding:1rem}
</style></head><body>
<header><h1>{{ title }}</h1>{% if subtitle %}<p>{{ subtitle }}</p>{% endif %}</header>
<main>
{% if facts %}<section><div class="facts">
{% for label, value in facts %}<div class="fact"><b>{{ value }}</b><span>{{ label }}</span></div>
{% endfor %}</div></section>{% endif %}
{% for s in sections %}<section><h2>{{ s.title }}</h2>
{% for p in s.paragraphs %}<p>{{ p }}</p>{% endfor %}
{% for t in s.tables %}<table><thead><tr>{% for h in t.header %}<th>{{ h }}</th>{% endfor %}</tr>
</thead><tbody>{% for row in t.rows %}<tr>{% for cell in row %}
<td{% if cell is number %} class="num"{% endif %}>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>{% if t.note %}<p class="note">{{ t.note }}</p>{% endif %}{% endfor %}
{% for f in s.figures %}<figure><img alt="{{ f.caption }}" src="{{ f.data_uri }}">
<figcaption>{{ f.caption }}</figcaption></figure>{% endfor %}
</section>{% endfor %}
</main>
<footer>needlesim {{ version }} · {{ created }}{% if provenance %} · {{ provenance }}{% endif %}</footer>
</body></html>
"""


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
    return env.from_string(_TEMPLATE).render(
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
