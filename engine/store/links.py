"""Personal links in the store: who a pair's people are, and the revocations of their links.

Links themselves are signed tokens stored nowhere (:mod:`engine.delivery.links`); only their
revocations are rows. Every function takes the Connection of the caller's unit of work and never
commits: the service that calls it decides what one transaction is.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, func, insert, or_, select

from engine.store.tables import link_revocations, relationships


class PairPeople(NamedTuple):
    """Who a relationship's mentee and mentor are now, and where it stands."""

    mentee_id: int
    mentor_id: int | None
    phase: str


def pair_people(conn: Connection, rel_id: int) -> PairPeople | None:
    """The mentee, mentor and phase of relationship ``rel_id``; ``None`` if there is none."""
    columns = (relationships.c.mentee_id, relationships.c.mentor_id, relationships.c.phase)
    row = conn.execute(select(*columns).where(relationships.c.id == rel_id)).first()
    return None if row is None else PairPeople(*row)


def insert_revocation(
    conn: Connection,
    *,
    relationship_id: int | None,
    participant_id: int | None,
    revoked_at: datetime,
    revoked_by: str,
    reason: str | None,
) -> int:
    """Record a revocation of the links of a relationship or of a person; returns its id."""
    values = {
        "relationship_id": relationship_id,
        "participant_id": participant_id,
        "revoked_at": revoked_at,
        "revoked_by": revoked_by,
        "reason": reason,
    }
    statement = insert(link_revocations).values(values).returning(link_revocations.c.id)
    return int(conn.execute(statement).scalar_one())


def latest_revocation(conn: Connection, rel_id: int, participant_id: int) -> datetime | None:
    """When the links of relationship ``rel_id``, or of the person ``participant_id``, were last revoked."""
    matches = or_(
        link_revocations.c.relationship_id == rel_id, link_revocations.c.participant_id == participant_id
    )
    found = conn.execute(select(func.max(link_revocations.c.revoked_at)).where(matches)).scalar()
    return found if isinstance(found, datetime) else None
