"""How every command prints: tables, JSON, and the engine's texts in the CLI's own terms.

The engine names input fields (`` `mentor` ``, see :func:`engine.errors.field`),
never command-line flags; :func:`in_flags` shows each as the flag that sets it
here. Every engine text a command prints (errors, notes, refusal reasons,
delivery problems) goes through it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console

FLAGS = {
    "mentor": "--mentor",
    "reason": "--reason",
    "policy": "--policy",
    "database": "--database",
    "anchor": "--anchor",
    "since": "--since",
    "as_of": "--as-of",
    "all_failed": "--all-failed",
    "delimiter": "--delimiter",
    "phase": "--phase",
    "on": "--on",
    "override": "--override",
    "again": "--again",
}
"""Each field the engine names, and the option of ``mentorflow`` that gives it."""


def in_flags(text: str) -> str:
    """An engine text with each field it names shown as its command-line flag."""
    from engine.errors import in_terms_of

    return in_terms_of(text, FLAGS)


def say(text: str, *, err: bool = False) -> None:
    """Print an engine text (a note, a reason, a problem) in the CLI's terms."""
    typer.echo(in_flags(text), err=err)


def console(err: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=err, highlight=False)


def print_json(document: Any, *, ascii: bool = False) -> None:
    """``document`` as indented JSON (only ASCII if ``ascii``), times as the audit history writes them,
    the fields the engine's texts in it name shown as flags."""
    text = json.dumps(document, indent=2, ensure_ascii=ascii, default=json_value)
    typer.echo(in_flags(text))


def print_rows(rows: list[dict[str, Any]], columns: list[str], format: str, *, title: str) -> None:
    """``rows`` as JSON (every key) or as a table of ``columns`` titled ``title``."""
    if format == "json":
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False, default=json_value))
        return
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(cell(row.get(c)) for c in columns))
    console().print(table)


def cell(value: Any) -> str:
    """A table cell: empty for nothing, a time to the minute."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def json_value(value: Any) -> Any:
    """What JSON cannot hold itself: a time as the audit history writes it, anything else as text."""
    from engine.domain.audit import iso

    return iso(value) if isinstance(value, datetime) else str(value)
