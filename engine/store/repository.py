"""Reading and writing the store with SQLAlchemy Core, in bulk where it matters.

Every function takes the Connection of the caller's unit of work and never
commits: the service that calls it decides what one transaction is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Connection, Row, Select, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from engine.domain.relationships import AuditEntry, Relationship
from engine.errors import ConflictError
from engine.policy.vocabulary import RECORD_TRIGGERS
from engine.store.tables import (
    audit_entries,
    meetings,
    outbox,
    participants,
    policy_versions,
    relationships,
    survey_responses,
)

if TYPE_CHECKING:
    from engine.policy.model import Policy

CHUNK = 900  # ids per IN (...) list: under SQLite's variable limit on old builds too


def chunks(ids: Sequence[int], size: int = CHUNK) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def relationship(conn: Connection, rel_id: int, *, lock: bool = False) -> Relationship | None:
    query = select(relationships).where(relationships.c.id == rel_id)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    return None if row is None else Relationship.model_construct(**row)


def relationships_by_id(conn: Connection, ids: Sequence[int]) -> dict[int, Relationship]:
    found: dict[int, Relationship] = {}
    for part in chunks(ids):
        rows = conn.execute(select(relationships).where(relationships.c.id.in_(part))).mappings()
        found.update((row["id"], Relationship.model_construct(**row)) for row in rows)
    return found


class RelationshipRow(NamedTuple):
    """What moving a relationship reads of it: a light row, for batches of thousands."""

    id: int
    mentor_id: int | None
    phase: str
    phase_entered_at: datetime
    version: int
    audit_seq: int
    audit_head: str
    policy_name: str


_ROW_COLUMNS = [relationships.c[name] for name in RelationshipRow._fields]


def relationship_rows(
    conn: Connection, ids: Sequence[int], *, lock: bool = False
) -> dict[int, RelationshipRow]:
    """Like :func:`relationships_by_id` (same order), reading only what a phase change needs.

    ``lock`` holds the rows (PostgreSQL) until commit, so that appends to their chains are serialised.
    """
    found: dict[int, RelationshipRow] = {}
    for part in chunks(ids):
        query = select(*_ROW_COLUMNS).where(relationships.c.id.in_(part)).order_by(relationships.c.id)
        if lock and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        for row in conn.execute(query):
            found[row.id] = RelationshipRow._make(row)
    return found


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


def ids_of_policy(policy_name: str) -> Select[tuple[int]]:
    """A subquery: the ids of the relationships opened under the policy ``policy_name``."""
    return select(relationships.c.id).where(relationships.c.policy_name == policy_name)


def relationships_per_policy(conn: Connection, *, created_by: datetime | None = None) -> dict[str, int]:
    """How many relationships each policy (by name) has opened, by ``created_by`` if given."""
    query = select(relationships.c.policy_name, func.count()).group_by(relationships.c.policy_name)
    if created_by is not None:
        query = query.where(relationships.c.created_at <= created_by)
    return {str(name): int(count) for name, count in conn.execute(query)}


def active_mentee_count(conn: Connection, mentor_id: int, terminal: Iterable[str]) -> int:
    query = select(func.count()).where(
        relationships.c.mentor_id == mentor_id, relationships.c.phase.not_in(list(terminal))
    )
    return int(conn.execute(query).scalar_one())


def participants_by_id(conn: Connection, ids: Iterable[int], *, lock: bool = False) -> dict[int, Row[Any]]:
    """Participants by id, in bulk (an unknown id is absent); ``lock`` holds the rows (PostgreSQL)."""
    found: dict[int, Row[Any]] = {}
    for part in chunks(sorted(set(ids))):
        query = select(participants).where(participants.c.id.in_(part))
        if lock and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        found.update((row.id, row) for row in conn.execute(query))
    return found


def active_mentee_counts(
    conn: Connection, mentor_ids: Iterable[int], terminal: Iterable[str]
) -> dict[int, int]:
    """Per mentor: how many relationships not in a terminal phase they have (absent: none)."""
    counts: dict[int, int] = {}
    for part in chunks(sorted(set(mentor_ids))):
        query = (
            select(relationships.c.mentor_id, func.count())
            .where(relationships.c.mentor_id.in_(part), relationships.c.phase.not_in(list(terminal)))
            .group_by(relationships.c.mentor_id)
        )
        counts.update((int(mentor), int(count)) for mentor, count in conn.execute(query))
    return counts


MeetingStats = tuple[int, bool, datetime | None]
"""Meetings held, whether a kickoff was held, and when the last meeting was."""


def meeting_stats(conn: Connection, ids: Sequence[int]) -> dict[int, MeetingStats]:
    """Per relationship: meetings held, whether a kickoff was held, last meeting time."""
    stats: dict[int, MeetingStats] = {}
    kickoffs = func.sum((meetings.c.kind == "kickoff").cast(meetings.c.id.type))
    for part in chunks(ids):
        query = (
            select(meetings.c.relationship_id, func.count(), kickoffs, func.max(meetings.c.held_on))
            .where(meetings.c.relationship_id.in_(part))
            .group_by(meetings.c.relationship_id)
        )
        for rid, count, kicks, last in conn.execute(query):
            stats[rid] = (count, bool(kicks), last)
    return stats


def trained_mentors(conn: Connection, mentor_ids: Iterable[int]) -> set[int]:
    ids = sorted(set(mentor_ids))
    found: set[int] = set()
    for part in chunks(ids):
        query = select(participants.c.id).where(participants.c.id.in_(part), participants.c.trained)
        found.update(conn.execute(query).scalars())
    return found


SurveyAnswerRow = tuple[str, str, datetime]
"""A survey answered: which survey, by whom (mentor or mentee), when."""


def survey_answers(
    conn: Connection, rels: Sequence[Relationship | RelationshipRow]
) -> dict[int, list[SurveyAnswerRow]]:
    """Per relationship, the surveys answered since it entered its current phase (absent: none)."""
    entered = {r.id: r.phase_entered_at for r in rels}
    answered: dict[int, list[SurveyAnswerRow]] = defaultdict(list)
    for part in chunks(sorted(entered)):
        query = select(
            survey_responses.c.relationship_id,
            survey_responses.c.survey,
            survey_responses.c.respondent,
            survey_responses.c.answered_at,
        ).where(survey_responses.c.relationship_id.in_(part))
        for rid, survey, who, at in conn.execute(query):
            if at >= entered[rid]:
                answered[rid].append((survey, who, at))
    return dict(answered)


def stay_starts(conn: Connection, ids: Sequence[int]) -> dict[int, int]:
    """Per relationship, the seq of the audit entry that began its stay in its current phase.

    That is its last entry that moved it (or created it): entries that record a
    meeting or a survey answer come later in the chain without starting a stay.
    """
    starts: dict[int, int] = {}
    for part in chunks(sorted(set(ids))):
        query = (
            select(audit_entries.c.relationship_id, func.max(audit_entries.c.seq))
            .where(audit_entries.c.relationship_id.in_(part), audit_entries.c.trigger.not_in(RECORD_TRIGGERS))
            .group_by(audit_entries.c.relationship_id)
        )
        starts.update((int(rid), int(seq)) for rid, seq in conn.execute(query))
    return starts


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


def insert_relationships(conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert relationship rows; their new ids, in the order of ``rows``."""
    if not rows:
        return []
    statement = insert(relationships).returning(relationships.c.id, sort_by_parameter_order=True)
    return [int(rel_id) for rel_id in conn.execute(statement, rows).scalars()]


def set_chain_heads(conn: Connection, heads: list[tuple[int, int, str]]) -> None:
    """Point relationships at the last entry of their chain: (id, seq, hash) each."""
    if not heads:
        return
    statement = (
        update(relationships)
        .where(relationships.c.id == bindparam("b_id"))
        .values(audit_seq=bindparam("b_seq"), audit_head=bindparam("b_head"))
    )
    conn.execute(statement, [{"b_id": i, "b_seq": seq, "b_head": head} for i, seq, head in heads])


def apply_moves(
    conn: Connection,
    updates: list[dict[str, Any]],
    entries: list[dict[str, Any]],
    effects: list[dict[str, Any]],
) -> None:
    """Write phase changes, their audit entries and outbox rows; refuse if any row moved meanwhile.

    Each update carries ``b_id`` and ``b_version`` (the version read); the
    ``WHERE version = :b_version`` check makes two writers of one row unable to
    both succeed, and takes the row lock that serialises the chain append.
    """
    if not updates:
        return
    statement = (
        update(relationships)
        .where(relationships.c.id == bindparam("b_id"), relationships.c.version == bindparam("b_version"))
        .values(
            phase=bindparam("phase"),
            phase_entered_at=bindparam("phase_entered_at"),
            due_at=bindparam("due_at"),
            mentor_id=bindparam("mentor_id"),
            version=relationships.c.version + 1,
            audit_seq=bindparam("audit_seq"),
            audit_head=bindparam("audit_head"),
        )
    )
    result = conn.execute(statement, updates)
    if result.rowcount != len(updates):
        raise ConflictError(
            f"{len(updates) - result.rowcount} of {len(updates)} relationship(s) were changed by "
            "another writer meanwhile; nothing was written (run the command again)"
        )
    append(conn, entries, effects)


def append(conn: Connection, entries: list[dict[str, Any]], effects: list[dict[str, Any]]) -> None:
    """Insert audit entries and the outbox rows they cause (a known idempotency key is skipped)."""
    if entries:
        conn.execute(audit_entries.insert(), entries)
    if effects:
        conn.execute(_insert_ignoring_duplicates(conn), effects)


_OUTBOX_INSERTS = {
    "postgresql": postgresql.insert(outbox).on_conflict_do_nothing(index_elements=["idempotency_key"]),
    "sqlite": sqlite.insert(outbox).on_conflict_do_nothing(index_elements=["idempotency_key"]),
}


def _insert_ignoring_duplicates(conn: Connection) -> Any:
    """An outbox insert that skips a row whose idempotency key is already there."""
    return _OUTBOX_INSERTS[conn.dialect.name]


def history(conn: Connection, rel_id: int) -> list[AuditEntry]:
    query = (
        select(audit_entries).where(audit_entries.c.relationship_id == rel_id).order_by(audit_entries.c.id)
    )
    return [AuditEntry.model_construct(**row) for row in conn.execute(query).mappings()]


def entries(
    conn: Connection,
    since: datetime | None = None,
    *,
    by_relationship: bool = False,
    until: datetime | None = None,
    policy_name: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Every audit entry as a mapping, streamed, in insertion order (or grouped by relationship).

    With ``policy_name``, only the entries of the relationships opened under that policy.
    """
    query = select(audit_entries)
    if policy_name is not None:
        query = query.where(audit_entries.c.relationship_id.in_(ids_of_policy(policy_name)))
    if since is not None:
        query = query.where(audit_entries.c.at >= since)
    if until is not None:
        query = query.where(audit_entries.c.at <= until)
    order = (
        (audit_entries.c.relationship_id, audit_entries.c.id) if by_relationship else (audit_entries.c.id,)
    )
    result = conn.execution_options(yield_per=2000).execute(query.order_by(*order)).mappings()
    for row in result:
        yield dict(row)


def record_policy_version(conn: Connection, policy: Policy, now: datetime) -> None:
    """Keep a snapshot of each policy version used, so an auditor can read what applied.

    The policy's normalised content is built only for a version not seen before.
    """
    digest = policy.digest
    exists = conn.execute(select(policy_versions.c.digest).where(policy_versions.c.digest == digest)).first()
    if exists is None:
        label, content = str(policy.version), policy.normalised()
        conn.execute(
            policy_versions.insert().values(
                digest=digest, name=policy.policy, label=label, content=content, first_used_at=now
            )
        )
