"""What happened to the pairs: meetings held and survey answers, read in bulk and written.

Every function takes the Connection of the caller's unit of work and never commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select

from engine.store.batches import chunks
from engine.store.tables import meetings, survey_responses

if TYPE_CHECKING:
    from engine.domain.relationships import Relationship
    from engine.store.relationships import RelationshipRow

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


def last_meetings(conn: Connection, by: datetime) -> dict[int, datetime]:
    """Per relationship with a meeting held by ``by``: when the last of those was."""
    query = (
        select(meetings.c.relationship_id, func.max(meetings.c.held_on))
        .where(meetings.c.held_on <= by)
        .group_by(meetings.c.relationship_id)
    )
    return {int(rid): last for rid, last in conn.execute(query)}


def insert_meetings(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert meeting rows (relationship_id, kind, held_on, recorded_at, recorded_by, notes)."""
    if rows:
        conn.execute(meetings.insert(), rows)


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


def insert_survey_responses(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert survey response rows (relationship_id, survey, respondent, answered_at, answers)."""
    if rows:
        conn.execute(survey_responses.insert(), rows)
