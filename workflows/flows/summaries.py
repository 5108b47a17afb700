"""What a cadence or delivery run did, in words: the lines ``mentorflow tick`` prints and a flow run
logs, and the Markdown of a run's artifact. This module does not import Prefect.

What goes to Prefect names people by the store's ids only: relationships and participants by id,
never by name, and a delivery error with anything that looks like an email address masked
(:func:`without_addresses`); the whole error stays in the store (``mentorflow outbox list``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.services.delivery import DeliverySummary
    from engine.services.tick import TickSummary

PROBLEM = re.compile(r"^outbox (\d+) \(([^,]+), attempt (\d+)\): (.*)$", re.DOTALL)
SHOWN = 50  # rows of a table in an artifact
ADDRESS = re.compile(r"<?[^\s<>()\[\]{}\",;]*@[^\s<>()\[\]{}\"',;:]*>?")
"""An email address (``zoe@example.com``, ``<zoe@example.com>``), or any other word with an ``@`` in
it (a URL's user and password): what a delivery error shown in Prefect has masked."""
MASKED = "[address]"


def tick_line(summary: TickSummary) -> str:
    """The cadence's summary in one line."""
    moved = ", ".join(f"{trigger} {n}" for trigger, n in sorted(summary.advanced.items())) or "none"
    conflicts = f", {summary.conflicts} conflict(s)" if summary.conflicts else ""
    invited = f"; {summary.invited} invited to group sessions" if summary.invited else ""
    return (
        f"{summary.examined} due relationship(s) examined; advanced: {moved}; "
        f"{summary.reminders} reminder(s), {summary.escalations} escalation(s), "
        f"{summary.surveys_sent} survey(s) sent, {summary.survey_reminders} survey reminder(s), "
        f"{summary.deadlines_fired} deadline(s) fired{conflicts}{invited}"
    )


def delivery_line(summary: DeliverySummary) -> str:
    """Delivery's summary in one line."""
    return (
        f"{summary.claimed} outbox row(s) due: {summary.delivered} delivered ({summary.handed_over()}), "
        f"{summary.retrying} to retry, {summary.parked} parked, {summary.skipped} skipped"
    )


def problems(summary: DeliverySummary) -> list[dict[str, Any]]:
    """The rows to retry or parked, one dict each (outbox id, action, attempt, and the error without
    addresses)."""
    rows = []
    for text in summary.problems:
        found = PROBLEM.match(text)
        if found:
            error = without_addresses(found[4])
            rows.append(
                {"outbox": int(found[1]), "action": found[2], "attempt": int(found[3]), "error": error}
            )
    return rows


def without_addresses(text: str) -> str:
    """``text`` with each email address in it replaced by ``[address]``: a delivery error may quote the
    recipient's (an SMTP server's refusal does), and what a run logs or shows in Prefect must not."""
    return ADDRESS.sub(MASKED, text)


def cadence_markdown(
    title: str, summary: TickSummary, overdue: Sequence[dict[str, Any]], total_overdue: int
) -> str:
    """The cadence run's artifact: what moved, by trigger; the messages it wrote; what is overdue now,
    each pair by its relationship id and its mentee's and mentor's participant ids (``overdue``'s
    ``relationship``, ``mentee``, ``mentor``: ids, the mentor's ``None`` for a pair without one)."""
    lines = [f"# {title}", "", tick_line(summary), "", "## Moved, by trigger", ""]
    moved = sorted(summary.advanced.items())
    lines += _table(["trigger", "relationships"], moved) if moved else ["Nothing moved."]
    lines += ["", "## Messages written, by kind", ""]
    kinds = [
        ("reminder", summary.reminders),
        ("escalation", summary.escalations),
        ("survey", summary.surveys_sent),
        ("survey reminder", summary.survey_reminders),
    ]
    lines += _table(["kind", "messages"], [(k, n) for k, n in kinds if n]) or ["None."]
    lines += ["", f"## Overdue now: {total_overdue}", ""]
    rows = [(o["relationship"], o["mentee"], _id(o["mentor"]), o["what"]) for o in overdue[:SHOWN]]
    header = ["relationship", "mentee id", "mentor id", "overdue"]
    lines += _table(header, rows) if rows else ["Nothing overdue."]
    if total_overdue > SHOWN:
        lines.append(f"\n(first {SHOWN} of {total_overdue}; `mentorflow status` lists them all)")
    return "\n".join(lines) + "\n"


def delivery_markdown(title: str, summary: DeliverySummary, by_kind: dict[str, dict[str, int]]) -> str:
    """The delivery run's artifact: rows by outcome, the outbox by kind and status, the problems (their
    errors without addresses)."""
    lines = [f"# {title}", "", delivery_line(summary), "", "## Outbox by kind and status", ""]
    statuses = sorted({status for counts in by_kind.values() for status in counts})
    rows = [(kind, *(counts.get(s, 0) for s in statuses)) for kind, counts in sorted(by_kind.items())]
    lines += _table(["kind", *statuses], rows) if rows else ["The outbox is empty."]
    found = problems(summary)
    if found:
        lines += ["", "## To retry or parked", ""]
        lines += _table(
            ["outbox", "kind", "attempt", "error"],
            [(p["outbox"], p["action"], p["attempt"], p["error"]) for p in found[:SHOWN]],
        )
    return "\n".join(lines) + "\n"


def _id(value: int | None) -> str:
    return "-" if value is None else str(value)


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    body = [f"| {' | '.join(_cell(v) for v in row)} |" for row in rows]
    if not body:
        return []
    return [f"| {' | '.join(header)} |", f"|{'---|' * len(header)}", *body]


def _cell(value: Any) -> str:
    text = str(value).replace("\n", " ").replace("|", "\\|")
    return text.replace("<", "&lt;").replace(">", "&gt;")
