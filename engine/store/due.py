"""What the cadence tick reads and writes of the store: due relationships, notices already sent, next looks.

Every function takes the Connection of the caller's unit of work and never
commits: :mod:`engine.services.tick` decides what one transaction is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, bindparam, select, update

from engine.store.batches import CHUNK, chunks
from engine.store.relationships import RelationshipRow
from engine.store.tables import outbox, relationships


def due_ids(conn: Connection, now: datetime, *, policy_name: str, limit: int | None = None) -> list[int]:
    """The relationships of the policy ``policy_name`` whose ``due_at`` has passed, the longest-waiting
    first (through the ``due_at`` index; the policy is a filter on the rows it finds)."""
    query = (
        select(relationships.c.id)
        .where(relationships.c.due_at <= now, relationships.c.policy_name == policy_name)
        .order_by(relationships.c.due_at, relationships.c.id)
        .limit(limit)
    )
    return list(conn.execute(query).scalars())


def lock_due(conn: Connection, ids: Sequence[int], now: datetime, policy_name: str) -> list[RelationshipRow]:
    """The rows of ``ids`` of the policy ``policy_name`` still due, locked; on PostgreSQL rows another
    worker holds are skipped."""
    found: list[RelationshipRow] = []
    columns = [relationships.c[name] for name in RelationshipRow._fields]
    for part in chunks(list(ids)):
        query = (
            select(*columns)
            .where(
                relationships.c.id.in_(part),
                relationships.c.due_at <= now,
                relationships.c.policy_name == policy_name,
            )
            .order_by(relationships.c.id)
        )
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        found += [RelationshipRow._make(row) for row in conn.execute(query)]
    return found


def known_keys(conn: Connection, keys: Sequence[str]) -> set[str]:
    """The idempotency keys of ``keys`` that the outbox already holds."""
    known: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        part = keys[start : start + CHUNK]
        known.update(
            conn.execute(select(outbox.c.idempotency_key).where(outbox.c.idempotency_key.in_(part))).scalars()
        )
    return known


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


def set_due(conn: Connection, waits: Sequence[Wait]) -> int:
    """Set ``due_at`` of each relationship still at its expected version; how many were set."""
    params = [{"b_id": w.relationship_id, "b_version": w.expected_version, "due_at": w.due_at} for w in waits]
    return int(conn.execute(_SET_DUE, params).rowcount)
