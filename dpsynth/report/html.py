"""Self-contained HTML for reports: escaping, tables and a complete page with inline CSS.

Pages load nothing from outside (a Content-Security-Policy forbids it), so a report can be mailed
or archived as one file. Output is well-formed XML as well as HTML, so tests can parse it.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from dpsynth.report.axes import format_number

# Characters XML 1.0 forbids (C0 controls except tab/newline/CR, surrogates, U+FFFE/U+FFFF).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

_CSS = """
:root { color-scheme: light; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a;
  background: #fff; max-width: 60rem; margin: 2rem auto; padding: 0 1.25rem; overflow-wrap: break-word; }
h1 { font-size: 1.8rem; line-height: 1.2; margin: 0 0 .5rem; }
h2 { font-size: 1.3rem; margin: 2rem 0 .75rem; border-bottom: 1px solid #ddd; padding-bottom: .25rem; }
p.lead { font-size: 1.1rem; color: #444; margin-top: 0; }
p.verdict { font-size: 1.6rem; font-weight: 700; margin: .25rem 0; }
p.warning { border-left: 4px solid #b00020; padding-left: .75rem; }
div.table-wrap { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: .75rem 0; font-size: .9rem; }
th, td { border-bottom: 1px solid #e3e3e3; padding: .3rem .7rem; text-align: left; vertical-align: top; }
th { background: #f4f4f4; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
svg { max-width: 100%; height: auto; display: block; margin: .75rem 0; }
div.figure { overflow-x: auto; }
details { margin: .75rem 0; }
summary { cursor: pointer; font-weight: 600; }
@media (max-width: 480px) {
  body { margin: 1rem auto; padding: 0 .75rem; }
  th, td { padding: .25rem .4rem; }
  div.figure > svg { min-width: 40rem; }
}
@media print {
  @page { margin: 14mm 12mm; }
  body { margin: 0; max-width: none; padding: 0; font-size: 10pt; }
  h1 { font-size: 16pt; }
  h2 { font-size: 12.5pt; margin: 1.1rem 0 .4rem; break-after: avoid; }
  div.table-wrap, div.figure { overflow: visible; }
  table { font-size: 8.5pt; width: 100%; margin: .4rem 0; }
  th, td { padding: .12rem .35rem; }
  tr, svg, p.verdict { break-inside: avoid; }
  svg { max-height: 8.5cm; width: auto; margin: .4rem 0; }
}
"""


def escape(text: object) -> str:
    """Text made safe for HTML and XML content and attribute values (quotes included).

    Characters XML cannot hold at all (most control characters) are dropped.
    """
    return html.escape(_XML_INVALID.sub("", str(text)), quote=True)


def paragraph(text: object) -> str:
    """One escaped paragraph."""
    return f"<p>{escape(text)}</p>"


def _cell(value: Any) -> tuple[str, bool]:
    """Escaped cell text and whether it is a number (numbers are right-aligned)."""
    if value is None:
        return "—", False
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        is_missing = isinstance(value, (float, np.floating)) and math.isnan(value)
        return ("—" if is_missing else escape(format_number(value))), True
    return escape(value), False


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """An HTML table of ``rows``; ``columns`` defaults to every key in first-seen order.

    Numbers get 4 significant digits and are right-aligned; a missing key, ``None`` or NaN shows
    as a dash. Every header and cell is escaped. The table sits in a block that scrolls sideways
    on its own when it is wider than the screen, so the page never does.
    """
    if columns is None:
        columns = list(dict.fromkeys(key for row in rows for key in row))
    if not columns:
        return '<p class="empty">No rows.</p>'
    head = "".join(f'<th scope="col">{escape(c)}</th>' for c in columns)
    body = []
    for row in rows:
        cells = []
        for column in columns:
            text, numeric = _cell(row.get(column))
            cells.append(f'<td class="num">{text}</td>' if numeric else f"<td>{text}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    # The wrapper scrolls a table wider than a phone's screen inside itself, not the whole page.
    return f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def figure(chart: str) -> str:
    """A chart that keeps a readable size on a phone: its block scrolls sideways, not the page."""
    return f'<div class="figure">{chart}</div>'


def details(summary: object, body: str) -> str:
    """A block collapsed by default: ``summary`` is text (escaped here), ``body`` HTML from this package."""
    return f"<details><summary>{escape(summary)}</summary>\n{body}\n</details>"


def _slug(text: str, used: set[str]) -> str:
    """A unique ASCII anchor id for a section heading."""
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"
    slug, n = base, 2
    while slug in used:
        slug, n = f"{base}-{n}", n + 1
    used.add(slug)
    return slug


def page(title: str, sections: Sequence[tuple[str, str]], *, lead: str = "") -> str:
    """A complete HTML document: ``title`` and ``lead`` are text (escaped here); each section is
    ``(heading, body)`` where ``heading`` is text and ``body`` is HTML built from this package's
    blocks (:func:`table`, :func:`paragraph`, the SVG charts), which escape their own input."""
    used: set[str] = set()
    parts = []
    for heading, body in sections:
        slug = _slug(str(heading), used)
        parts.append(f'<section id="{slug}"><h2>{escape(heading)}</h2>\n{body}\n</section>')
    lead_html = f'<p class="lead">{escape(lead)}</p>\n' if lead else ""
    csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8" />\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}" />\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1" />\n'
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>{escape(title)}</h1>\n{lead_html}</header>\n<main>\n"
        + "\n".join(parts)
        + "\n</main>\n</body>\n</html>\n"
    )
