"""What the cadence tick reads and writes of the store: due relationships, notices already sent, next looks.

Every function takes the Connection of the caller's unit of work and never
commits: :mod:`engine.services.tick` decides what one transaction is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, bindparam, select, update

from engine.store.batches import chunks
from engine.store.relationships import ROW_COLUMNS, RelationshipRow
from engine.store.rendered import DriverQuery, DriverStatement
from engine.store.tables import outbox, relationships


def due_ids(conn: Connection, now: datetime, *, policy_name: str, limit: int | None = None) -> list[int]:
    """The relationships of the policy ``policy_name`` whose ``due_at`` has passed, the longest-waiting
    first (read in that order from the index on ``policy_name, due_at, id``: only the program's due rows)."""
    query = (
        select(relationships.c.id)
        .where(relationships.c.due_at <= now, relationships.c.policy_name == policy_name)
        .order_by(relationships.c.due_at, relationships.c.id)
        .limit(limit)
    )
    return list(conn.execute(query).scalars())


_DUE = DriverQuery(
    select(*ROW_COLUMNS)
    .where(relationships.c.due_at <= bindparam("now"), relationships.c.policy_name == bindparam("policy"))
    .order_by(relationships.c.id),
    relationships.c.id,
    skip_locked=True,
)


def lock_due(conn: Connection, ids: Sequence[int], now: datetime, policy_name: str) -> list[RelationshipRow]:
    """The rows of ``ids`` of the policy ``policy_name`` still due, locked; on PostgreSQL rows another
    worker holds are skipped. Read through the driver, as
    :func:`engine.store.relationships.relationship_rows` reads them."""
    found: list[RelationshipRow] = []
    for part in chunks(list(ids)):
        rows = _DUE.rows(conn, part, lock=True, now=now, policy=policy_name)
        found += map(RelationshipRow._make, rows)
    return found


def known_keys(conn: Connection, keys: Sequence[str]) -> set[str]:
    """The idempotency keys of ``keys`` that the outbox already holds (read through the driver; no query
    for no keys)."""
    known: set[str] = set()
    for part in chunks(keys):
        known.update(key for (key,) in _KNOWN_KEYS.rows(conn, part))
    return known


_KNOWN_KEYS = DriverQuery(select(outbox.c.idempotency_key), outbox.c.idempotency_key)
"""The idempotency keys the outbox holds, by key."""


_SET_DUE = (
    update(relationships)
    .where(relationships.c.id == bindparam("b_id"), relationships.c.version == bindparam("b_version"))
    .values(due_at=bindparam("due_at"))
)


class Wait(NamedTuple):
    """A relationship that stays in its phase until ``due_at``, if still at ``expected_version``."""

    relationship_id: int
    expected_version: int
    due_at: datetime | None


_SET_DUES = DriverStatement(_SET_DUE, ("b_id", "b_version", "due_at"))  # a Wait's fields, in order


def set_due(conn: Connection, waits: Sequence[Wait]) -> int:
    """Set ``due_at`` of each relationship still at its expected version; how many were set (in one
    driver call, each distinct time rendered once)."""
    return _SET_DUES.execute(conn, waits)
