"""Personal links in the store: who a pair's people are, and the revocations of their links.

Links themselves are signed tokens stored nowhere (:mod:`engine.delivery.links`); only their
revocations are rows. Every function takes the Connection of the caller's unit of work and never
commits: the service that calls it decides what one transaction is.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from itertools import zip_longest
from typing import NamedTuple

from sqlalchemy import Connection, bindparam, func, insert, or_, select

from engine.store.batches import chunks
from engine.store.rendered import DriverQuery
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


_r, _v = relationships.c, link_revocations.c
_PAIRS = DriverQuery(select(_r.id, _r.mentee_id, _r.mentor_id, _r.phase), _r.id)
_REVOKED = (
    select(_v.relationship_id, _v.participant_id, func.max(_v.revoked_at))
    .where(or_(_v.relationship_id.in_(bindparam("rels", expanding=True)),
               _v.participant_id.in_(bindparam("people", expanding=True))))
    .group_by(_v.relationship_id, _v.participant_id)
)  # fmt: skip
"""Built once: a batch of links is read with the same two statements, only their lists of ids differ (the
pairs through the driver, one compiled query per slice size)."""


def pairs_people(conn: Connection, rel_ids: Collection[int]) -> dict[int, PairPeople]:
    """:func:`pair_people` of every relationship of ``rel_ids`` that exists, by id: one statement per
    slice of ids (:data:`~engine.store.batches.CHUNK`), however many."""
    found: dict[int, PairPeople] = {}
    for part in chunks(sorted(set(rel_ids))):
        found.update((int(rel_id), PairPeople(*rest)) for rel_id, *rest in _PAIRS.rows(conn, part))
    return found


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


def latest_revocations(
    conn: Connection, rel_ids: Collection[int], participant_ids: Collection[int]
) -> tuple[dict[int, datetime], dict[int, datetime]]:
    """When the links of each relationship of ``rel_ids``, and of each person of ``participant_ids``, were
    last revoked (those never revoked are absent): one grouped statement per slice of ids (one for a
    batch of up to :data:`~engine.store.batches.CHUNK` of each)."""
    wanted_rels, wanted_people = set(rel_ids), set(participant_ids)
    rels, people = sorted(wanted_rels), sorted(wanted_people)
    by_rel: dict[int, datetime] = {}
    by_person: dict[int, datetime] = {}
    slices = zip_longest(chunks(rels), chunks(people), fillvalue=())
    for rel_part, people_part in slices:
        rows = conn.execute(_REVOKED, {"rels": list(rel_part), "people": list(people_part)})
        for rel, person, at in rows:
            if not isinstance(at, datetime):
                continue
            if rel in wanted_rels:
                by_rel[rel] = max(at, by_rel.get(rel, at))
            if person in wanted_people:
                by_person[person] = max(at, by_person.get(person, at))
    return by_rel, by_person
