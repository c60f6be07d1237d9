"""HTML reports are self-contained and escape what they show."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from needlesim.report import Figure, Section, Table, write_html


def test_report_embeds_images_and_escapes_text(tmp_path: Path) -> None:
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    png = tmp_path / "p.png"
    fig.savefig(png)
    plt.close(fig)
    section = Section(
        "Results <b>",
        paragraphs=["collagen I & III"],
        tables=[Table(["observable", "mean"], [["x", 1.5]])],
        figures=[Figure(png, "a plot")],
    )
    out = write_html(tmp_path / "r.html", "Report", [section], facts=[("seed", "7")])
    html = out.read_text()
    assert "data:image/png;base64," in html
    assert "Results &lt;b&gt;" in html and "collagen I &amp; III" in html
    assert 'src="http' not in html and "<link" not in html  # nothing fetched from outside
