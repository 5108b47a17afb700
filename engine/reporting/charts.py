"""The report's charts as small inline SVG, drawn from the report's data: no library, no network.

Each function takes a part of the report (as :func:`engine.metrics.program_report`
returns it) and returns one ``<svg>`` element. Every data mark (a bar, a box,
a point, a line) has ``class="mark"``, so a test can tell a chart that shows
data from one that says there is none. Text uses the viewer's sans-serif font.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from engine.policy.surveys import RESPONDENTS

WIDTH = 640
LABEL = 120  # left margin for category labels
MONTH_LABEL = 56  # room a month label (2026-03) needs on an axis
FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12"'
INK, MUTED, GRID = "#1f2933", "#616e7c", "#e4e7eb"
MENTEE, MENTOR, ACCENT = "#2f6fdf", "#e07b39", "#1f9d74"


class _Svg:
    """An SVG document under construction."""

    def __init__(self, height: int, title: str) -> None:
        self.height = height
        self.title = title
        self.parts: list[str] = []

    def add(self, element: str) -> None:
        self.parts.append(element)

    def text(self, x: float, y: float, words: str, *, anchor: str = "start", color: str = INK) -> None:
        self.add(
            f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{color}">{escape(words)}</text>'
        )

    def rect(
        self, x: float, y: float, w: float, h: float, color: str, tip: str, *, mark: bool = True
    ) -> None:
        kind = ' class="mark"' if mark else ""
        self.add(
            f'<rect{kind} x="{x:.1f}" y="{y:.1f}" width="{max(w, 0.0):.1f}" height="{h:.1f}" '
            f'fill="{color}"><title>{escape(tip)}</title></rect>'
        )

    def line(self, x1: float, y1: float, x2: float, y2: float, color: str = GRID, extra: str = "") -> None:
        self.add(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{color}"{extra}/>')

    def empty(self, message: str) -> str:
        self.text(WIDTH / 2, self.height / 2, message, anchor="middle", color=MUTED)
        self.parts[-1] = self.parts[-1].replace("<text ", '<text class="empty" ', 1)
        return self.render()

    def render(self) -> str:
        body = "".join(self.parts)
        return (
            f'<svg viewBox="0 0 {WIDTH} {self.height}" width="{WIDTH}" height="{self.height}" '
            f'role="img" {FONT}><title>{escape(self.title)}</title>{body}</svg>'
        )


def _scale(value: float, top: float, span: float) -> float:
    return 0.0 if top <= 0 else value / top * span


def funnel(rows: Sequence[Mapping[str, Any]]) -> str:
    """Per phase, the pairs that ever reached it, with those in it now darker."""
    svg = _Svg(30 + 26 * len(rows), "Phase funnel: relationships that reached each phase, and in it now")
    top = max((row["value"] for row in rows), default=0)
    if not top:
        return svg.empty("no relationships yet")
    span = WIDTH - LABEL - 150
    for i, row in enumerate(rows):
        y = 10 + 26 * i
        reached, now = row["value"], row["current"]["value"]
        svg.text(LABEL - 8, y + 14, row["phase"], anchor="end")
        svg.rect(LABEL, y, _scale(reached, top, span), 18, "#b7cdf4", f"{row['phase']}: {reached} reached")
        svg.rect(LABEL, y, _scale(now, top, span), 18, MENTEE, f"{row['phase']}: {now} now")
        svg.text(LABEL + _scale(reached, top, span) + 6, y + 14, f"{reached} reached, {now} now", color=MUTED)
    return svg.render()


def time_in_phase(rows: Sequence[Mapping[str, Any]]) -> str:
    """Per phase, the middle half of the completed stays (25th to 75th percentile) and the median."""
    svg = _Svg(40 + 26 * len(rows), "Time in phase: days, 25th to 75th percentile, median marked")
    measured = [row for row in rows if row["value"] is not None]
    top = max((row["p75"] for row in measured), default=0.0) or 1.0
    if not measured:
        return svg.empty("no completed stays yet")
    span = WIDTH - LABEL - 150
    for i, row in enumerate(rows):
        y = 10 + 26 * i
        svg.text(LABEL - 8, y + 14, row["phase"], anchor="end")
        if row["value"] is None:
            svg.text(LABEL, y + 14, "no completed stays", color=MUTED)
            continue
        low, mid, high = (_scale(row[k], top, span) for k in ("p25", "value", "p75"))
        median, p25, p75 = (_days(row[k]) for k in ("value", "p25", "p75"))
        tip = f"{row['phase']}: median {median} days ({p25}-{p75}), {row['n']} stays"
        svg.rect(LABEL + low, y + 2, max(high - low, 2.0), 14, "#b7cdf4", tip)
        svg.rect(LABEL + mid - 1.5, y, 3, 18, INK, tip)
        svg.text(LABEL + high + 8, y + 14, f"median {median} d, n = {row['n']}", color=MUTED)
    _axis_days(svg, 20 + 26 * len(rows), top, span)
    return svg.render()


def _days(value: float) -> str:
    """Days as a label shows them: whole days from 10 up, else one decimal."""
    return f"{round(value) if value >= 10 else round(value, 1):g}"


def _axis_days(svg: _Svg, y: float, top: float, span: float) -> None:
    svg.line(LABEL, y - 6, LABEL + span, y - 6)
    for fraction in (0, 0.5, 1):
        svg.text(LABEL + span * fraction, y + 8, f"{top * fraction:.0f} d", anchor="middle", color=MUTED)


def satisfaction(data: Mapping[str, Mapping[str, Any]]) -> str:
    """How many pairs gave each satisfaction score (1-5), mentees and mentors side by side."""
    svg = _Svg(250, "Satisfaction: latest answer per pair, 1 (low) to 5 (high)")
    counts = {who: [d["value"] or 0 for d in data[who]["distribution"]] for who in RESPONDENTS}
    top = max(max(values) for values in counts.values())
    if not top:
        return svg.empty("no satisfaction answers yet")
    base, height, group = 210, 160, (WIDTH - 80) / 5
    svg.line(40, base, WIDTH - 40, base, MUTED)
    for score in range(5):
        x = 40 + group * score
        svg.text(x + group / 2, base + 16, str(score + 1), anchor="middle")
        for j, (who, color) in enumerate((("mentee", MENTEE), ("mentor", MENTOR))):
            value = counts[who][score]
            h = _scale(value, top, height)
            svg.rect(x + group * 0.15 + j * group * 0.35, base - h, group * 0.33, h, color,
                     f"{who}s answering {score + 1}: {value}")  # fmt: skip
            if value:
                svg.text(x + group * 0.31 + j * group * 0.35, base - h - 4, str(value), anchor="middle",
                         color=MUTED)  # fmt: skip
    for j, (who, color) in enumerate((("mentees", MENTEE), ("mentors", MENTOR))):
        svg.rect(WIDTH - 150 + j * 70, 8, 10, 10, color, who, mark=False)
        svg.text(WIDTH - 136 + j * 70, 17, who)
    return svg.render()


def adherence(months: Sequence[Mapping[str, Any]]) -> str:
    """Check-in adherence per month (held, up to what the cadence expects, over expected)."""
    svg = _Svg(220, "Cadence adherence over time: check-ins held against the cadence, per month")
    if not months:
        return svg.empty("no time in a phase with a check-in cadence yet")
    left, right, top, bottom = 60, WIDTH - 40, 20, 180
    for level in (0, 0.5, 1):
        y = bottom - (bottom - top) * level
        svg.line(left, y, right, y)
        svg.text(left - 6, y + 4, f"{level:.0%}", anchor="end", color=MUTED)
    step = (right - left) / max(len(months) - 1, 1)
    every = math.ceil(MONTH_LABEL / step) if len(months) > 1 else 1  # labels that do not overlap
    points = []
    for i, month in enumerate(months):
        x = left + step * i if len(months) > 1 else (left + right) / 2
        y = bottom - (bottom - top) * float(month["value"])
        points.append((x, y))
        tip = f"{month['month']}: {month['value']:.0%} ({month['held']} held, {month['expected']:g} expected)"
        hollow = "" if month.get("complete", True) else ' fill-opacity="0.2"'
        svg.add(f'<circle class="mark" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{ACCENT}"{hollow}>'
                f"<title>{escape(tip)}</title></circle>")  # fmt: skip
        if i % every == 0:
            svg.text(x, bottom + 18, month["month"], anchor="middle", color=MUTED)
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        svg.add(f'<polyline class="mark" points="{path}" fill="none" stroke="{ACCENT}" stroke-width="2"/>')
    return svg.render()


def score_vs_satisfaction(data: Mapping[str, Any]) -> str:
    """Each matched pair: the match score of its proposal against the pair's later satisfaction."""
    svg = _Svg(270, "Match score against later satisfaction, one point per pair")
    points = data["points"]
    if not points:
        return svg.empty("no matched pair with a proposal score has answered a survey yet")
    left, right, top, bottom = 60, WIDTH - 30, 30, 220
    for level in (1, 2, 3, 4, 5):
        y = bottom - (bottom - top) * (level - 1) / 4
        svg.line(left, y, right, y)
        svg.text(left - 6, y + 4, str(level), anchor="end", color=MUTED)
    for score in (0, 0.25, 0.5, 0.75, 1):
        svg.text(left + (right - left) * score, bottom + 18, f"{score:g}", anchor="middle", color=MUTED)
    for point in points:
        x = left + (right - left) * float(point["score"])
        y = bottom - (bottom - top) * (float(point["satisfaction"]) - 1) / 4
        tip = (
            f"relationship {point['relationship']}: score {point['score']:g}, "
            f"satisfaction {point['satisfaction']:g}"
        )
        svg.add(f'<circle class="mark" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{MENTEE}" fill-opacity="0.6">'
                f"<title>{escape(tip)}</title></circle>")  # fmt: skip
    svg.text(left - 6, top - 14, "satisfaction", anchor="middle", color=MUTED)
    svg.text(right, bottom + 40, "match score of the approved proposal", anchor="end", color=MUTED)
    return svg.render()


def all_charts(report: Mapping[str, Any]) -> dict[str, str]:
    """Every chart of the report, by name (the HTML template places them)."""
    return {
        "funnel": funnel(report["funnel"]),
        "time_in_phase": time_in_phase(report["time_in_phase"]),
        "satisfaction": satisfaction(report["satisfaction"]),
        "adherence": adherence(report["engagement"]["by_month"]),
        "score_vs_satisfaction": score_vs_satisfaction(report["match_score_vs_satisfaction"]),
    }
