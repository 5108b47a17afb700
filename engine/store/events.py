"""The event feed in the store: every audit entry and participant entry, in one numbered order.

The entries are the events: each is written in the transaction of the change it records, so an event
exists exactly when its change committed. ``events`` gives each a *position* once it is committed,
in the order they became visible, with nothing skipped: :func:`publish` numbers the entries written
up to a *horizon* below which no transaction still writes. On SQLite one transaction writes at a
time, so every entry visible is below it. On PostgreSQL each writing transaction holds a shared
advisory lock (:data:`WRITERS_LOCK`, taken as it begins: :func:`engine.store.database.open_engine`);
the horizon is read while holding it exclusively, when no writer is between its inserts and its
commit. Entries of one relationship (or participant) get positions in their chain's order: a later
entry is written only after the earlier one committed (the row's version check), so its id is larger.

Every function takes the Connection of the caller's unit of work and never commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, func, insert, select, text
from sqlalchemy.exc import OperationalError

from engine.store.api_tables import events, subscriptions
from engine.store.database import WRITERS_LOCK
from engine.store.tables import audit_entries, participant_entries, participants, relationships

PUBLISH_LOCK = 7_215_064_212
"""The advisory lock that lets one publisher at a time number entries (PostgreSQL)."""
AUDIT, PARTICIPANT = "audit", "participant"


def horizon(conn: Connection, wait_ms: int = 2000) -> tuple[int, int] | None:
    """The largest audit entry id and participant entry id below which every entry is committed (or
    never will be); ``None`` on PostgreSQL when a writer held on for ``wait_ms`` (try again later).
    Call it in a transaction of its own: on PostgreSQL it holds back writers until that commits."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"SET LOCAL lock_timeout = '{int(wait_ms)}ms'"))
        try:
            with conn.begin_nested():
                conn.execute(select(func.pg_advisory_xact_lock(WRITERS_LOCK)))
        except OperationalError:
            return None
    top_audit = conn.execute(select(func.coalesce(func.max(audit_entries.c.id), 0))).scalar_one()
    top_people = conn.execute(select(func.coalesce(func.max(participant_entries.c.id), 0))).scalar_one()
    return int(top_audit), int(top_people)


def published_up_to(conn: Connection) -> tuple[int, int, int]:
    """The last position, and the last audit and participant entry ids that have one."""
    e = events.c
    last = conn.execute(select(func.coalesce(func.max(e.position), 0))).scalar_one()
    by_source = dict(conn.execute(select(e.source, func.max(e.entry_id)).group_by(e.source)).all())
    return int(last), int(by_source.get(AUDIT) or 0), int(by_source.get(PARTICIPANT) or 0)


def lock_publisher(conn: Connection) -> None:
    """Let this transaction be the only one numbering entries (SQLite writes one at a time anyway)."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(PUBLISH_LOCK)))


def unpublished(
    conn: Connection, after: tuple[int, int], upto: tuple[int, int], limit: int
) -> list[tuple[str, int, datetime]]:
    """Up to ``limit`` entries of each kind after ``after`` and up to ``upto`` (audit id, participant
    entry id), as (kind, id, at), each kind in id order."""
    a, p = audit_entries.c, participant_entries.c
    audit = conn.execute(
        select(a.id, a.at).where(a.id > after[0], a.id <= upto[0]).order_by(a.id).limit(limit)
    ).all()
    people = conn.execute(
        select(p.id, p.at).where(p.id > after[1], p.id <= upto[1]).order_by(p.id).limit(limit)
    ).all()
    return [(AUDIT, int(i), at) for i, at in audit] + [(PARTICIPANT, int(i), at) for i, at in people]


def number(conn: Connection, first: int, entries: Sequence[tuple[str, int]]) -> None:
    """Give ``entries`` (kind, id) the positions ``first``, ``first`` + 1, ... in their order."""
    rows = [
        {"position": first + i, "source": kind, "entry_id": entry} for i, (kind, entry) in enumerate(entries)
    ]
    if rows:
        conn.execute(insert(events), rows)


class EventRow(NamedTuple):
    """An event as the feed reads it: its position, and its entry's columns (of either kind)."""

    position: int
    source: str
    entry_id: int
    at: datetime
    actor: str
    kind: str  # the audit entry's trigger, or the participant entry's cause
    subject_id: int  # the relationship, or the participant
    seq: int
    from_phase: str | None
    to_phase: str | None
    policy_name: str | None
    data: Any  # the audit entry's data, or the participant entry's field names
    mentee_id: int | None  # a relationship's mentee (who never changes)


_a, _p, _e, _r = audit_entries.c, participant_entries.c, events.c, relationships.c


def feed(conn: Connection, after: int, limit: int) -> list[EventRow]:
    """Up to ``limit`` events after position ``after``, in position order."""
    rel_events = (
        select(
            _e.position, _e.source, _e.entry_id, _a.at, _a.actor, _a.trigger, _a.relationship_id, _a.seq,
            _a.from_phase, _a.to_phase, _a.policy_name, _a.data, _r.mentee_id,
        )
        .join(audit_entries, _a.id == _e.entry_id)
        .join(relationships, _r.id == _a.relationship_id)
        .where(_e.source == AUDIT, _e.position > after)
        .order_by(_e.position)
        .limit(limit)
    )  # fmt: skip
    people_events = (
        select(
            _e.position, _e.source, _e.entry_id, _p.at, _p.actor, _p.cause, _p.participant_id, _p.seq,
            _p.fields,
        )
        .join(participant_entries, _p.id == _e.entry_id)
        .where(_e.source == PARTICIPANT, _e.position > after)
        .order_by(_e.position)
        .limit(limit)
    )  # fmt: skip
    found = [EventRow._make(row) for row in conn.execute(rel_events)]
    found += [
        EventRow(pos, src, entry, at, actor, cause, pid, seq, None, None, None, fields, None)
        for pos, src, entry, at, actor, cause, pid, seq, fields in conn.execute(people_events)
    ]
    return sorted(found)[:limit]


def names(conn: Connection, ids: Sequence[int]) -> dict[int, str]:
    """The names of the participants of ``ids`` (for a subscriber configured to receive them)."""
    if not ids:
        return {}
    rows = conn.execute(
        select(participants.c.id, participants.c.name).where(participants.c.id.in_(list(ids)))
    )
    return {int(pid): str(name) for pid, name in rows}


class SubscriptionRow(NamedTuple):
    name: str
    position: int
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    parked_at: datetime | None


def subscription(conn: Connection, name: str, *, lock: bool = False) -> SubscriptionRow | None:
    """A subscriber's delivery state (``lock``: held until commit, so one deliverer serves it at once)."""
    s = subscriptions.c
    query = select(s.name, s.position, s.attempts, s.next_attempt_at, s.last_error, s.parked_at).where(
        s.name == name
    )
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    row = conn.execute(query).first()
    return None if row is None else SubscriptionRow(*row)


def add_subscription(conn: Connection, name: str, position: int) -> None:
    conn.execute(insert(subscriptions).values(name=name, position=position, attempts=0))


def save_subscription(conn: Connection, row: SubscriptionRow) -> None:
    s = subscriptions.c
    conn.execute(
        subscriptions.update()
        .where(s.name == row.name)
        .values(position=row.position, attempts=row.attempts, next_attempt_at=row.next_attempt_at,
                last_error=row.last_error, parked_at=row.parked_at)
    )  # fmt: skip


def all_subscriptions(conn: Connection) -> list[SubscriptionRow]:
    s = subscriptions.c
    query = select(s.name, s.position, s.attempts, s.next_attempt_at, s.last_error, s.parked_at)
    return [SubscriptionRow(*row) for row in conn.execute(query.order_by(s.name))]
