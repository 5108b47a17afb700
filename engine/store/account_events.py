"""The account events of the coordinator pages in the store: appended, and read back newest first.

Every function takes the Connection of the caller's unit of work and never commits: an event is written
in the transaction of what it records (:mod:`engine.services.users`). The table is append-only (the
triggers of migration 0012 refuse UPDATE and DELETE), so there is nothing here to change one.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, insert, select

from engine.store.tables import account_events


class EventRow(NamedTuple):
    """An account event as stored."""

    id: int
    at: datetime
    account: str
    kind: str
    actor: str
    address: str | None
    detail: str | None


def insert_event(
    conn: Connection,
    at: datetime,
    account: str,
    kind: str,
    actor: str,
    address: str | None = None,
    detail: str | None = None,
) -> None:
    """Append an event; the texts are made printable and cut to their columns' lengths (a name typed
    into the login form may be longer, or hold a newline or a terminal's escape sequence)."""
    values = {
        "at": at, "account": _printable(account)[:100], "kind": kind, "actor": _printable(actor)[:200],
        "address": None if address is None else _printable(address)[:64],
        "detail": None if detail is None else _printable(detail)[:200],
    }  # fmt: skip
    conn.execute(insert(account_events).values(values))


def _printable(text: str) -> str:
    """``text`` with each character that is not printable (a control character, a line break, a
    direction override) replaced by U+FFFD, so that no event can rewrite the terminal or the table that
    shows it."""
    return "".join(c if c.isprintable() else "\ufffd" for c in text)


def events(conn: Connection, account: str | None, limit: int | None) -> list[EventRow]:
    """The events (of ``account`` only, if given), newest first, at most ``limit`` of them."""
    query = select(*account_events.c).order_by(account_events.c.at.desc(), account_events.c.id.desc())
    if account is not None:
        query = query.where(account_events.c.account == account)
    if limit is not None:
        query = query.limit(limit)
    return [EventRow(*row) for row in conn.execute(query)]
