"""Reports a person reads: self-contained HTML with tables and embedded plots."""

from .html import Figure, Section, Table, render_html, write_html

__all__ = ["Figure", "Section", "Table", "render_html", "write_html"]
