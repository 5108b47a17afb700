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

from engine.store.batches import chunks
from engine.store.relationships import ids_of_policy
from engine.store.tables import meetings, participants, relationships, survey_responses

MeetingRow = tuple[int, str, datetime]
"""A meeting held: relationship id, kind, held on."""

AnswerRow = tuple[int, str, str, datetime, dict[str, Any] | None]
"""A survey answered: relationship id, survey, respondent, answered at, the answers."""


def meetings_held(conn: Connection, policy_name: str, *, as_of: datetime | None = None) -> list[MeetingRow]:
    """Each meeting of the policy's relationships recorded by ``as_of`` (every one without), in the order
    they were recorded."""
    query = select(meetings.c.relationship_id, meetings.c.kind, meetings.c.held_on).where(
        meetings.c.relationship_id.in_(ids_of_policy(policy_name))
    )
    if as_of is not None:
        query = query.where(meetings.c.recorded_at <= as_of)
    return [(rid, kind, on) for rid, kind, on in conn.execute(query.order_by(meetings.c.id))]


def answers_given(conn: Connection, policy_name: str, *, as_of: datetime | None = None) -> list[AnswerRow]:
    """Each survey answer of the policy's relationships given by ``as_of`` (every one without), in the
    order they were recorded."""
    query = select(
        survey_responses.c.relationship_id,
        survey_responses.c.survey,
        survey_responses.c.respondent,
        survey_responses.c.answered_at,
        survey_responses.c.answers,
    ).where(survey_responses.c.relationship_id.in_(ids_of_policy(policy_name)))
    if as_of is not None:
        query = query.where(survey_responses.c.answered_at <= as_of)
    rows = conn.execute(query.order_by(survey_responses.c.id))
    return [(rid, survey, who, at, answers) for rid, survey, who, at, answers in rows]


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
