"""What the report reads of the store: one policy's meetings and survey answers as known at a moment,
and the names of pairs.

Every function takes the Connection of the caller's unit of work; the audit
entries come from :func:`engine.store.audit.entries`.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from engine.policy.vocabulary import RECORD_MEETING, RECORD_SURVEY
from engine.store.batches import chunks
from engine.store.records import answer_fact, meeting_fact, retracted
from engine.store.relationships import ids_of_policy
from engine.store.tables import audit_entries, meetings, participants, relationships, survey_responses

MeetingRow = tuple[int, str, datetime]
"""A meeting held: relationship id, kind, held on."""

AnswerRow = tuple[int, str, str, datetime, dict[str, Any] | None]
"""A survey answered: relationship id, survey, respondent, answered at, the answers."""


def meetings_held(conn: Connection, policy_name: str, *, as_of: datetime | None = None) -> list[MeetingRow]:
    """Each meeting of the policy's relationships recorded by ``as_of`` (every one without), in the order
    they were recorded: only those that verify (the entry that recorded it says the same) and that were
    not retracted by then."""
    m, e = meetings.c, audit_entries.c
    query = (
        select(m.relationship_id, m.kind, m.held_on, m.entry_seq, e.data)
        .join(audit_entries, (e.relationship_id == m.relationship_id) & (e.seq == m.entry_seq))
        .where(m.relationship_id.in_(ids_of_policy(policy_name)), e.trigger == RECORD_MEETING)
    )
    if as_of is not None:
        query = query.where(m.recorded_at <= as_of)
    gone = retracted(conn, until=as_of)
    return [
        (rid, kind, on)
        for rid, kind, on, seq, data in conn.execute(query.order_by(m.id))
        if (rid, seq) not in gone and data == meeting_fact(kind, on)
    ]


def answers_given(conn: Connection, policy_name: str, *, as_of: datetime | None = None) -> list[AnswerRow]:
    """Each survey answer of the policy's relationships given by ``as_of`` (every one without), in the
    order they were recorded, with its free text: only those that verify and were not retracted by then."""
    s, e = survey_responses.c, audit_entries.c
    query = (
        select(s.relationship_id, s.survey, s.respondent, s.answered_at, s.answers, s.free_text, s.entry_seq,
               e.data)
        .join(audit_entries, (e.relationship_id == s.relationship_id) & (e.seq == s.entry_seq))
        .where(s.relationship_id.in_(ids_of_policy(policy_name)), e.trigger == RECORD_SURVEY)
    )  # fmt: skip
    if as_of is not None:
        query = query.where(s.answered_at <= as_of)
    gone = retracted(conn, until=as_of)
    return [
        (rid, survey, who, at, {**(answers or {}), **(text or {})})
        for rid, survey, who, at, answers, text, seq, data in conn.execute(query.order_by(s.id))
        if (rid, seq) not in gone and data == answer_fact(survey, who, answers or {})
    ]


def pair_names(conn: Connection, ids: Collection[int]) -> dict[int, tuple[str, str | None]]:
    """(mentee name, mentor name or ``None``) of each relationship in ``ids``."""
    mentee, mentor = participants.alias("mentee"), participants.alias("mentor")
    query = (
        select(relationships.c.id, mentee.c.name, mentor.c.name)
        .join(mentee, mentee.c.id == relationships.c.mentee_id)
        .outerjoin(mentor, mentor.c.id == relationships.c.mentor_id)
    )
    found: dict[int, tuple[str, str | None]] = {}
    for part in chunks(sorted(ids)):
        for rid, mentee_name, mentor_name in conn.execute(query.where(relationships.c.id.in_(part))):
            found[rid] = (mentee_name, mentor_name)
    return found
