"""The report written out: one self-contained HTML file with inline SVG charts, Markdown, or JSON.

All three carry the same figures, taken from the report data
(:func:`engine.metrics.program_report`); the JSON also lists, for every
figure, the relationships it counts. The HTML needs no network to view: its
style and charts are inline, and it loads no script, font or image. The
Markdown escapes the HTML and table markup of every text it takes from the
data (the ``md`` filter), so a reason holding ``<img src=...>`` is shown as text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined

from engine.clock import shown
from engine.domain.programs import others_note
from engine.reporting import charts
from engine.reporting.cells import markdown_text

FORMATS = ("html", "md", "json")
NO_DATA = "no data"


def number(value: Any, places: int = 1) -> str:
    """A figure for people: ``no data`` for ``None``, otherwise at most ``places`` decimals."""
    if value is None:
        return NO_DATA
    if isinstance(value, float):
        text = f"{value:.{places}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)


def percent(value: Any) -> str:
    return NO_DATA if value is None else f"{value:.0%}"


def local(moment: str, timezone: str) -> str:
    """An ISO 8601 time from the report, shown as every time is (:func:`engine.clock.shown`)."""
    return shown(datetime.fromisoformat(moment), ZoneInfo(timezone))


def _environment(autoescape: bool) -> Environment:
    env = Environment(
        loader=PackageLoader("engine.reporting", "templates"),
        autoescape=autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["number"] = number
    env.filters["percent"] = percent
    env.filters["local"] = local
    env.filters["others"] = others_note
    env.filters["md"] = markdown_text
    return env


def render(report: Mapping[str, Any], fmt: str) -> str:
    """The report in ``fmt`` (html, md or json)."""
    if fmt == "json":
        return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    if fmt == "html":
        template = _environment(autoescape=True).get_template("report.html.j2")
        return template.render(r=report, charts=charts.all_charts(report))
    if fmt == "md":
        return _environment(autoescape=False).get_template("report.md.j2").render(r=report)
    raise ValueError(f"unknown report format {fmt!r} (expected one of: {', '.join(FORMATS)})")
