"""Reads a page at a time, by id, for the API's lists: participants, relationships with their names.

Each page is one statement that reads by the primary key from where the previous page ended (``id >
after``), at most ``limit`` rows and one more to tell whether there is a next page, whatever the size of
the program. Every function takes the Connection of the caller's unit of work and never commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

from engine.store.batches import chunks
from engine.store.reads import participant_row
from engine.store.tables import participants, relationships

_mentee, _mentor = participants.alias("mentee"), participants.alias("mentor")


def participants_page(conn: Connection, after: int, limit: int, role: str | None) -> list[dict[str, Any]]:
    """Up to ``limit`` + 1 participants with an id above ``after`` (of ``role``, if given), by id."""
    query = select(participants).where(participants.c.id > after)
    if role is not None:
        query = query.where(participants.c.role == role)
    rows = conn.execute(query.order_by(participants.c.id).limit(limit + 1)).mappings().all()
    return [participant_row(row) for row in rows]


def relationships_page(
    conn: Connection,
    after: int,
    limit: int,
    *,
    phases: Sequence[str] | None = None,
    policy: str | None = None,
    ids: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """Up to ``limit`` + 1 relationships with an id above ``after``, by id, with their mentee's and
    mentor's ids and names: in ``phases``, of ``policy`` and among ``ids`` (sorted), where given."""
    r = relationships.c
    query = (
        select(
            r.id, r.mentee_id, _mentee.c.name.label("mentee"), r.mentor_id, _mentor.c.name.label("mentor"),
            r.phase, r.phase_entered_at, r.due_at, r.policy_name, r.version, r.created_at,
        )
        .join(_mentee, _mentee.c.id == r.mentee_id)
        .outerjoin(_mentor, _mentor.c.id == r.mentor_id)
        .where(r.id > after)
    )  # fmt: skip
    if phases is not None:
        query = query.where(r.phase.in_(list(phases)))
    if policy is not None:
        query = query.where(r.policy_name == policy)
    query = query.order_by(r.id).limit(limit + 1)
    if ids is None:
        return [dict(row) for row in conn.execute(query).mappings()]
    found: list[dict[str, Any]] = []
    for part in chunks(ids):  # sorted: each slice's rows follow the previous slice's
        found += (dict(row) for row in conn.execute(query.where(r.id.in_(part))).mappings())
        if len(found) > limit:
            break
    return found[: limit + 1]


def relationship_named(conn: Connection, rel_id: int) -> dict[str, Any] | None:
    """Relationship ``rel_id`` as :func:`relationships_page` shows it, or ``None``."""
    found = relationships_page(conn, rel_id - 1, 1)
    return found[0] if found and found[0]["id"] == rel_id else None
