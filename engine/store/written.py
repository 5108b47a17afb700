"""What a transaction wrote after a mark: the audit entries and outbox rows added since.

Every function takes the Connection of the caller's unit of work and never
commits. ``policy plan`` marks where the tables end, rehearses a tick, and reads
what the tick added before the rehearsal rolls it back.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import Connection, func, select

from engine.store.tables import audit_entries, outbox


class Mark(NamedTuple):
    """Where the audit and outbox tables end: their highest ids (0 when empty)."""

    audit: int
    outbox: int


class Written(NamedTuple):
    """One row added since a mark: a phase change (trigger) or a message (action)."""

    relationship_id: int | None
    kind: str  # the audit entry's trigger, or the outbox row's action
    detail: dict[str, Any]


def mark(conn: Connection) -> Mark:
    """Where the audit and outbox tables end now."""
    last_entry = conn.execute(select(func.max(audit_entries.c.id))).scalar()
    last_message = conn.execute(select(func.max(outbox.c.id))).scalar()
    return Mark(int(last_entry or 0), int(last_message or 0))


def entries_since(conn: Connection, since: Mark) -> list[Written]:
    """The audit entries added after ``since``, oldest first, with their phases."""
    columns = (audit_entries.c.relationship_id, audit_entries.c.trigger, audit_entries.c.from_phase,
               audit_entries.c.to_phase)  # fmt: skip
    query = select(*columns).where(audit_entries.c.id > since.audit).order_by(audit_entries.c.id)
    return [
        Written(row.relationship_id, row.trigger, {"from": row.from_phase, "to": row.to_phase})
        for row in conn.execute(query)
    ]


def messages_since(conn: Connection, since: Mark) -> list[Written]:
    """The outbox rows added after ``since``, oldest first, with their parameters."""
    query = (
        select(outbox.c.relationship_id, outbox.c.action, outbox.c.params)
        .where(outbox.c.id > since.outbox)
        .order_by(outbox.c.id)
    )
    return [Written(row.relationship_id, row.action, dict(row.params)) for row in conn.execute(query)]
