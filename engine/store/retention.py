"""Personal data past a policy's retention, in the store: finding it, counting it, erasing it.

Set-based throughout: one statement per kind finds the relationships with something due, one counts
what is due, and one ``UPDATE ... RETURNING`` per kind erases it for a batch of relationships (the
rows it returns say how much of each relationship it erased). What is erased is set to NULL (a survey
answer's ``free_text``, a meeting's ``notes``, a settled message's ``last_error`` and its deliveries'
``address``) or taken out of a settled message's ``params`` (the keys :data:`PERSONAL_PARAMS` names);
the rows themselves stay, with their ids, times and kinds. Every function takes the Connection of the
caller's unit of work and never commits.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    Select,
    Table,
    Text,
    and_,
    exists,
    func,
    literal_column,
    not_,
    or_,
    select,
    union,
    update,
)

from engine.policy.vocabulary import PURGE
from engine.store.batches import chunks
from engine.store.outbox import DELIVERED, FAILED, SKIPPED
from engine.store.tables import (
    audit_entries,
    meetings,
    outbox,
    outbox_deliveries,
    participants,
    relationships,
    survey_responses,
)

SETTLED = (DELIVERED, FAILED, SKIPPED)
"""The statuses of a message that will not be sent again unless an operator requeues it."""
PERSONAL_PARAMS = (("participant",), ("help", "note"))
"""The paths in an outbox row's ``params`` that hold personal data: a leaver's external id or email (the
coordinator's notice of a leave), a participant's own words (a request for help). Delivery reads them
while a row is unsettled; the other keys (recipient, phase, survey, ...) say nothing of a person."""
LEFT = "left"


def _of_policy(column: ColumnElement[Any], policy: str) -> ColumnElement[bool]:
    """``column`` (a relationship id) names a relationship of ``policy``."""
    return column.in_(select(relationships.c.id).where(relationships.c.policy_name == policy))


def _survey_text(cutoff: datetime) -> ColumnElement[bool]:
    s = survey_responses.c
    return and_(s.free_text.is_not(None), s.answered_at <= cutoff)


def _meeting_notes(cutoff: datetime) -> ColumnElement[bool]:
    m = meetings.c
    return and_(m.notes.is_not(None), m.recorded_at <= cutoff)


def personal_params(dialect: str) -> ColumnElement[bool]:
    """Whether an outbox row's ``params`` hold any of :data:`PERSONAL_PARAMS` (a JSON null is none)."""
    if dialect == "postgresql":
        found = [f"(outbox.params::jsonb #>> '{{{','.join(path)}}}') IS NOT NULL" for path in PERSONAL_PARAMS]
    else:
        found = [f"json_extract(outbox.params, '$.{'.'.join(path)}') IS NOT NULL" for path in PERSONAL_PARAMS]
    return or_(*(literal_column(text, Boolean) for text in found))


def without_personal_params(dialect: str) -> Any:
    """``params`` with the keys of :data:`PERSONAL_PARAMS` taken out."""
    if dialect == "postgresql":
        removed = "".join(f" #- '{{{','.join(path)}}}'" for path in PERSONAL_PARAMS)
        return literal_column(f"(outbox.params::jsonb{removed})::json")
    paths = ", ".join(f"'$.{'.'.join(path)}'" for path in PERSONAL_PARAMS)
    return literal_column(f"json_remove(outbox.params, {paths})")


def _message_bodies(cutoff: datetime, dialect: str) -> ColumnElement[bool]:
    """A settled message written at or before ``cutoff`` that still holds something personal."""
    o, d = outbox.c, outbox_deliveries.c
    addressed = exists().where(d.outbox_id == o.id, d.address.is_not(None))
    return and_(
        o.status.in_(SETTLED),
        o.created_at <= cutoff,
        o.relationship_id.is_not(None),
        or_(personal_params(dialect), o.last_error.is_not(None), addressed),
    )


def _due_ids(conn: Connection, cutoffs: dict[str, datetime | None], policy: str) -> list[Select[Any]]:
    """One query per kind with a cutoff: the ids of the relationships of ``policy`` with some of it due."""
    dialect = conn.dialect.name
    queries: list[Select[Any]] = []
    if (cut := cutoffs.get("survey_text")) is not None:
        s = survey_responses.c
        queries.append(
            select(s.relationship_id).where(_survey_text(cut), _of_policy(s.relationship_id, policy))
        )
    if (cut := cutoffs.get("meeting_notes")) is not None:
        m = meetings.c
        queries.append(
            select(m.relationship_id).where(_meeting_notes(cut), _of_policy(m.relationship_id, policy))
        )
    if (cut := cutoffs.get("message_bodies")) is not None:
        o = outbox.c
        queries.append(
            select(o.relationship_id).where(
                _message_bodies(cut, dialect), _of_policy(o.relationship_id, policy)
            )
        )
    return queries


def due_relationships(
    conn: Connection, cutoffs: dict[str, datetime | None], policy: str, limit: int
) -> list[int]:
    """Up to ``limit`` relationships of ``policy`` with survey text, meeting notes or message bodies
    written at or before their kind's cutoff, the lowest ids first."""
    queries = _due_ids(conn, cutoffs, policy)
    if not queries:
        return []
    ids = union(*queries).subquery()
    column = ids.c[0]
    found = conn.execute(select(column).order_by(column).limit(limit)).scalars()
    return [int(rid) for rid in found]


def due_counts(conn: Connection, cutoffs: dict[str, datetime | None], policy: str) -> dict[str, int]:
    """How many survey answers, meetings and messages of ``policy``'s relationships hold text past their
    kind's cutoff (a kind without a cutoff is absent)."""
    found: dict[str, int] = {}
    s, m, o = survey_responses.c, meetings.c, outbox.c
    for kind, table, column in (
        ("survey_text", survey_responses, s.relationship_id),
        ("meeting_notes", meetings, m.relationship_id),
        ("message_bodies", outbox, o.relationship_id),
    ):
        cut = cutoffs.get(kind)
        if cut is not None:
            due = _due(kind, cut, conn.dialect.name)
            query = select(func.count()).select_from(table).where(due, _of_policy(column, policy))
            found[kind] = int(conn.execute(query).scalar_one())
    return found


def _due(kind: str, cutoff: datetime, dialect: str) -> ColumnElement[bool]:
    if kind == "survey_text":
        return _survey_text(cutoff)
    if kind == "meeting_notes":
        return _meeting_notes(cutoff)
    return _message_bodies(cutoff, dialect)


def purge_survey_text(conn: Connection, ids: Sequence[int], cutoff: datetime) -> Counter[int]:
    """Erase the free text of the answers of ``ids`` given at or before ``cutoff``; how many, by
    relationship."""
    return _nulled(conn, survey_responses, "free_text", ids, _survey_text(cutoff))


def purge_meeting_notes(conn: Connection, ids: Sequence[int], cutoff: datetime) -> Counter[int]:
    """Erase the notes of the meetings of ``ids`` recorded at or before ``cutoff``; how many, by
    relationship."""
    return _nulled(conn, meetings, "notes", ids, _meeting_notes(cutoff))


def _nulled(
    conn: Connection, table: Table, column: str, ids: Sequence[int], expired: ColumnElement[bool]
) -> Counter[int]:
    """Set ``column`` of the rows of ``table`` of the relationships ``ids`` that ``expired`` selects to
    NULL; how many, by relationship."""
    purged = Counter[int]()
    for part in chunks(ids):
        statement = (
            update(table)
            .where(table.c.relationship_id.in_(part), expired)
            .values({column: None})
            .returning(table.c.relationship_id)
        )
        purged.update(int(rid) for rid in conn.execute(statement).scalars())
    return purged


def purge_message_bodies(conn: Connection, ids: Sequence[int], cutoff: datetime) -> Counter[int]:
    """Take the personal parts out of the settled messages of ``ids`` written at or before ``cutoff``
    (``params``' personal keys, ``last_error``, the deliveries' addresses); how many per relationship."""
    o, d, dialect, purged = outbox.c, outbox_deliveries.c, conn.dialect.name, Counter[int]()
    for part in chunks(ids):
        statement = (
            update(outbox)
            .where(o.relationship_id.in_(part), _message_bodies(cutoff, dialect))
            .values(params=without_personal_params(dialect), last_error=None)
            .returning(o.id, o.relationship_id)
        )
        rows = conn.execute(statement).all()
        purged.update(int(rid) for _, rid in rows)
        for messages in chunks([int(oid) for oid, _ in rows]):
            conn.execute(
                update(outbox_deliveries)
                .where(d.outbox_id.in_(messages), d.address.is_not(None))
                .values(address=None)
            )
    return purged


def _closed(policy: str, phases: frozenset[str], cutoff: datetime) -> ColumnElement[bool]:
    """A relationship of ``policy`` in one of ``phases`` (its closed ones) since ``cutoff`` or earlier."""
    r = relationships.c
    return and_(r.policy_name == policy, r.phase.in_(sorted(phases)), r.phase_entered_at <= cutoff)


def _forgotten(dialect: str) -> ColumnElement[bool]:
    """An audit entry of the relationship that says a purge forgot it (``purged.closed_relationships``)."""
    e = audit_entries.c
    if dialect == "postgresql":
        said = literal_column("(audit_entries.data::jsonb #>> '{purged,closed_relationships}')", Text)
    else:
        said = literal_column("json_extract(audit_entries.data, '$.purged.closed_relationships')", Text)
    return exists().where(e.relationship_id == relationships.c.id, e.trigger == PURGE, said.is_not(None))


def closed_relationships(
    conn: Connection, policy: str, phases: frozenset[str], cutoff: datetime, limit: int | None = None
) -> list[int]:
    """The relationships of ``policy`` closed at or before ``cutoff`` that no purge has forgotten yet, the
    lowest ids first."""
    r = relationships.c
    query = select(r.id).where(_closed(policy, phases, cutoff), not_(_forgotten(conn.dialect.name)))
    return [int(rid) for rid in conn.execute(query.order_by(r.id).limit(limit)).scalars()]


def left_participants(
    conn: Connection, policy: str, phases: frozenset[str], cutoff: datetime, limit: int | None = None
) -> list[int]:
    """The participants who left at or before ``cutoff`` (their row unchanged since), not erased yet, whose
    relationships are all of ``policy`` and closed under it since ``cutoff`` or earlier (or who have none:
    any program's purge erases a leaver who never had a pair)."""
    p, r = participants.c, relationships.c
    theirs = or_(r.mentee_id == p.id, r.mentor_id == p.id)
    query = (
        select(p.id)
        .where(p.status == LEFT, p.erased_at.is_(None), p.updated_at <= cutoff)
        .where(not_(exists().where(theirs, not_(_closed(policy, phases, cutoff)))))
        .order_by(p.id)
        .limit(limit)
    )
    return [int(pid) for pid in conn.execute(query).scalars()]
