"""Text that mentorflow writes for other programs to read: CSV cells a spreadsheet opens, Markdown.

A spreadsheet reads a CSV cell that starts with ``=``, ``+``, ``-`` or ``@``
(and, in some, a tab or a carriage return) as a formula: ``=HYPERLINK(...)`` in
a reason becomes a link, ``+cmd|...`` starts a program. As OWASP recommends,
such a cell is written with a single quote in front, which the spreadsheet reads
as "this is text". Only text is touched: a number is written as it is. Every
CSV mentorflow writes goes through :func:`csv_cell` (``audit export``, ``match
propose``); JSON output keeps the values as they are.

Markdown passes HTML through to whatever renders it, so text taken from data
(reasons, names) goes into a Markdown report through :func:`markdown_text`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")
"""A text cell that starts with one of these is read as a formula (OWASP; NUL: ASVS 1.2.10)."""


def csv_cell(value: Any) -> Any:
    """``value`` as a spreadsheet should see it: text that would start a formula gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    """Each of ``values`` through :func:`csv_cell`, for ``csv.writer``."""
    return [csv_cell(value) for value in values]


def csv_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """Each value of ``record`` through :func:`csv_cell`, for ``csv.DictWriter``."""
    return {name: csv_cell(value) for name, value in record.items()}


_MARKDOWN = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", "|": "\\|", "[": "\\[", "]": "\\]", "\\": "\\\\"}
)


def markdown_text(value: Any) -> str:
    """``value`` as inline Markdown text: HTML (``& < >``) escaped, so a ``<script>`` or ``<img>`` in a
    reason is shown, not run; ``|`` (a table's cell border), ``[ ]`` (links) and ``\\`` escaped; a line
    break becomes a space (a table row is one line)."""
    text = " ".join(str(value).splitlines())
    return text.translate(_MARKDOWN)
