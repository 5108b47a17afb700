"""The participants: finding them by reference, in bulk, and writing what an import or a training changes.

Every function takes the Connection of the caller's unit of work and never
commits: the service that calls it decides what one transaction is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, RowMapping, insert, select, update

from engine.domain.participants import Participant
from engine.store.batches import chunks
from engine.store.tables import LIST_FIELDS, participants, relationships


def participant_by_ref(conn: Connection, ref: str, *, lock: bool = False) -> Row[Any] | None:
    """A participant by id, external id or email; ``lock`` holds the row (PostgreSQL) until commit."""
    matches = (participants.c.external_id == ref) | (participants.c.email == ref.lower())
    if ref.isdigit():
        matches = matches | (participants.c.id == int(ref))
    query = select(participants).where(matches)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    rows = conn.execute(query).all()
    exact = [r for r in rows if r.external_id == ref or r.email == ref.lower()]
    found = exact or rows
    return found[0] if found else None


def participants_by_id(conn: Connection, ids: Iterable[int], *, lock: bool = False) -> dict[int, Row[Any]]:
    """Participants by id, in bulk (an unknown id is absent); ``lock`` holds the rows (PostgreSQL)."""
    found: dict[int, Row[Any]] = {}
    for part in chunks(sorted(set(ids))):
        query = select(participants).where(participants.c.id.in_(part))
        if lock and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        found.update((row.id, row) for row in conn.execute(query))
    return found


def all_participants(conn: Connection) -> list[RowMapping]:
    """Every participant row, as a mapping of its columns."""
    return list(conn.execute(select(participants)).mappings())


def all_as_domain(conn: Connection) -> dict[int, Participant]:
    """Every participant by id, as the domain sees them (lists as tuples)."""
    found: dict[int, Participant] = {}
    for row in conn.execute(select(participants)).mappings():
        values = {name: row[name] for name in Participant.model_fields}
        values.update({name: tuple(row[name] or ()) for name in LIST_FIELDS})
        found[int(row["id"])] = Participant.model_construct(**values)
    return found


def insert_participant(conn: Connection, values: Mapping[str, Any], now: datetime) -> int:
    """Insert a participant with these column values; its new id."""
    result = conn.execute(insert(participants).values(**values, created_at=now, updated_at=now))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def update_participant(
    conn: Connection, participant_id: int, values: Mapping[str, Any], now: datetime
) -> None:
    """Set these column values on a participant."""
    conn.execute(
        update(participants).where(participants.c.id == participant_id).values(**values, updated_at=now)
    )


def mark_trained(conn: Connection, participant_id: int, now: datetime) -> None:
    """Record that a mentor finished the mentor training."""
    update_participant(conn, participant_id, {"trained": True}, now)


def trained_mentors(conn: Connection, mentor_ids: Iterable[int]) -> set[int]:
    ids = sorted(set(mentor_ids))
    found: set[int] = set()
    for part in chunks(ids):
        query = select(participants.c.id).where(participants.c.id.in_(part), participants.c.trained)
        found.update(conn.execute(query).scalars())
    return found


def mentee_goals(conn: Connection, rel_ids: Sequence[int]) -> dict[int, list[str]]:
    """Per relationship, the development goals of its mentee, in order."""
    goals: dict[int, list[str]] = {}
    for part in chunks(sorted(set(rel_ids))):
        query = (
            select(relationships.c.id, participants.c.goals)
            .join(participants, participants.c.id == relationships.c.mentee_id)
            .where(relationships.c.id.in_(part))
        )
        goals.update((int(rid), list(found or [])) for rid, found in conn.execute(query))
    return goals
