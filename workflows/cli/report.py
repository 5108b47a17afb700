"""``mentorflow report`` and ``mentorflow insights``: how the program is doing, and what to change."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from workflows.cli.common import (
    DatabaseOption,
    PolicyOption,
    check_choice,
    load_policy,
    open_store,
    parse_moment,
    settings,
)
from workflows.cli.output import in_flags

SinceOption = Annotated[
    str | None,
    typer.Option("--since", help="Only relationships open at some time since this date (YYYY-MM-DD)."),
]
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="Replay the history up to this date: the program as it stood then."),
]
OutputOption = Annotated[Path | None, typer.Option("--output", help="File to write (default: stdout).")]


def _moments(timezone: str, since: str | None, as_of: str | None) -> tuple[datetime | None, datetime | None]:
    start = parse_moment(since, "--since", timezone) if since else None
    moment = parse_moment(as_of, "--as-of", timezone, end_of_day=True) if as_of else None
    return start, moment


def _write(text: str, output: Path | None, what: str) -> None:
    """Print ``text``, or write it to ``output`` whole (a partial file never takes its place).

    ``text`` is the engine's rendering: the fields it names are shown as flags.
    """
    text = in_flags(text)
    if output is None:
        typer.echo(text, nl=False)
        return
    partial = output.with_name(output.name + ".partial")
    try:
        partial.write_text(text, encoding="utf-8")
        partial.replace(output)
    except OSError as exc:
        from engine.errors import InputError

        partial.unlink(missing_ok=True)
        raise InputError(f"--output: cannot write {output}: {exc.strerror or exc}") from None
    typer.echo(f"{output}: {what} written", err=True)


def report(
    format: Annotated[str, typer.Option("--format", help="html, md or json")] = "html",
    output: OutputOption = None,
    since: SinceOption = None,
    as_of: AsOfOption = None,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """The program report: funnel, time in phase, engagement, satisfaction, goals, drop-out, matching.

    HTML is one self-contained file with charts; Markdown and JSON carry the same
    figures, and the JSON lists the relationships each figure counts.
    """
    from engine.clock import SystemClock
    from engine.reporting.build import report as build
    from engine.reporting.render import FORMATS, render

    check_choice(format, "--format", FORMATS)
    chosen = settings(database, policy)
    loaded = load_policy(chosen)
    start, moment = _moments(loaded.program.timezone, since, as_of)
    data = build(open_store(chosen), loaded, SystemClock().now(), as_of=moment, since=start)
    _write(render(data, format), output, f"{format} report on {data['scope']['value']} relationship(s)")


def insights(
    format: Annotated[str, typer.Option("--format", help="text or json")] = "text",
    output: OutputOption = None,
    since: SinceOption = None,
    as_of: AsOfOption = None,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """What to change: which matching criteria predicted good pairs (and a reweighting), which
    phases stall, which pairs need attention now."""
    from zoneinfo import ZoneInfo

    from engine.clock import SystemClock
    from engine.reporting.build import program_insights
    from engine.reporting.insight_text import insights_data, insights_text

    check_choice(format, "--format", ("text", "json"))
    chosen = settings(database, policy)
    loaded = load_policy(chosen)
    start, moment = _moments(loaded.program.timezone, since, as_of)
    found, names = program_insights(
        open_store(chosen), loaded, SystemClock().now(), as_of=moment, since=start
    )
    zone = ZoneInfo(loaded.program.timezone)
    if format == "json":
        text = json.dumps(insights_data(found, names, zone), indent=2, ensure_ascii=False) + "\n"
    else:
        text = insights_text(found, names, zone)
    _write(text, output, "insights")
