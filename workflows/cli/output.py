"""How every command prints: tables, JSON, and the engine's texts in the CLI's own terms.

The engine names input fields (`` `mentor` ``, see :func:`engine.errors.field`),
never command-line flags; :func:`in_flags` shows each as the flag that sets it
here. Every engine text a command prints (errors, notes, refusal reasons,
delivery problems) goes through it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any, Literal

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
    "close": "--close",
    "correct": "--correct",
    "until": "--until",
}
"""Each field the engine names, and the option of ``mentorflow`` that gives it."""


def in_flags(text: str) -> str:
    """An engine text with each field it names shown as its command-line flag."""
    from engine.errors import in_terms_of

    return in_terms_of(text, FLAGS)


def say(text: str, *, err: bool = False) -> None:
    """Print an engine text (a note, a reason, a problem) in the CLI's terms."""
    typer.echo(in_flags(text), err=err)


def paragraph(text: str) -> None:
    """An engine text or a line of the CLI's own, in the CLI's terms, wrapped between words to the
    terminal's width (the lines around a table fit where the table does)."""
    from rich.text import Text

    console().print(Text(in_flags(text)))


def console(err: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=err, highlight=False)


def print_json(document: Any, *, ascii: bool = False) -> None:
    """``document`` as indented JSON (only ASCII if ``ascii``), times as the audit history writes them,
    the fields the engine's texts in it name shown as flags."""
    text = json.dumps(document, indent=2, ensure_ascii=ascii, default=json_value)
    typer.echo(in_flags(text))


BORDER = 1
"""The characters a boxed table spends per column beside its cells: one space each side and a rule."""
ALL_FIELDS = "--format json shows all"


@dataclass(frozen=True)
class Column:
    """A column of a table: its header, the row key it shows, how much it matters and how narrow it may get.

    ``priority``: 0 for what identifies a row (never dropped), higher for what matters less; when the
    terminal is too narrow the columns of the highest priority go first. ``min_width``: below this a cell
    is cut with an ellipsis no further (never below the header, whose words are never split).
    """

    header: str
    priority: int = 1
    min_width: int = 8
    justify: Literal["left", "right"] = "left"
    key: str = ""
    """The row's key it shows, when not the header."""

    @property
    def field(self) -> str:
        return self.key or self.header


def print_table(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], *, title: str, more: str = ALL_FIELDS
) -> None:
    """A table that fits the terminal: the least important columns dropped while the rest would not fit
    at their minimum widths (one dim line says how many, and where to see them), long cells cut with
    "…", no cell ever wrapped."""
    from rich.table import Table
    from rich.text import Text

    out = console()
    kept = _fitting(columns, rows, out.width)
    table = Table(title=None)
    for index, width in kept:
        column = columns[index]
        table.add_column(
            column.header, justify=column.justify, width=width, no_wrap=True, overflow="ellipsis"
        )
    for row in rows:
        table.add_row(*(Text(row[index]) for index, _ in kept))
    if title:
        out.print(Text(title))
    out.print(table)
    hidden = [c.header for i, c in enumerate(columns) if i not in dict(kept)]
    if hidden:
        out.print(Text(f"({len(hidden)} column(s) hidden: {', '.join(hidden)}; {more})", style="dim"))


def _fitting(columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int) -> list[tuple[int, int]]:
    """(index, width) of the columns shown in ``width`` characters: the most important ones, each as
    wide as its longest cell where room allows, the widest cut first where it does not."""
    from rich.cells import cell_len

    natural = [max([cell_len(c.header), *(cell_len(r[i]) for r in rows)]) for i, c in enumerate(columns)]
    least = [min(natural[i], max(c.min_width, cell_len(c.header))) for i, c in enumerate(columns)]
    room = width - BORDER
    shown = list(range(len(columns)))
    while sum(least[i] + 2 + BORDER for i in shown) > room:
        droppable = [i for i in shown if columns[i].priority > 0]
        if not droppable:
            break
        shown.remove(max(droppable, key=lambda i: (columns[i].priority, i)))
    widths = {i: natural[i] for i in shown}
    for _ in range(sum(widths[i] + 2 + BORDER for i in shown) - room):
        cut = [i for i in shown if widths[i] > least[i]]
        if not cut:
            break
        widths[max(cut, key=lambda i: widths[i] - least[i])] -= 1
    return [(i, widths[i]) for i in shown]


def print_rows(
    rows: list[dict[str, Any]],
    columns: list[str] | list[Column],
    format: str,
    *,
    title: str,
    zone: tzinfo | None = None,
) -> None:
    """``rows`` as JSON (every key) or as a table of ``columns`` titled ``title``, times in ``zone``."""
    if format == "json":
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False, default=json_value))
        return
    chosen = [c if isinstance(c, Column) else Column(c) for c in columns]
    print_table(chosen, [[cell(row.get(c.field), zone) for c in chosen] for row in rows], title=title)


def cell(value: Any, zone: tzinfo | None = None) -> str:
    """A table cell: empty for nothing, a time as :func:`engine.clock.shown` writes it (in ``zone``)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        from engine.clock import shown

        return shown(value, zone or UTC)
    return str(value)


def moments_of(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with each ISO 8601 time in it (as its JSON carries them) read back, for a table to show."""
    return {key: _moment(value) if isinstance(value, str) else value for key, value in row.items()}


def _moment(text: str) -> datetime | str:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    return moment if moment.tzinfo is not None and "T" in text else text


def json_value(value: Any) -> Any:
    """What JSON cannot hold itself: a time as the audit history writes it, anything else as text."""
    from engine.domain.audit import iso

    return iso(value) if isinstance(value, datetime) else str(value)
