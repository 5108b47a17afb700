"""What happened to the pairs: meetings held and survey answers, read in bulk and written.

Every function takes the Connection of the caller's unit of work and never commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select, tuple_

from engine.domain.audit import iso
from engine.policy.vocabulary import RECORD_MEETING, RECORD_RETRACT, RECORD_SURVEY
from engine.store.batches import chunks
from engine.store.rendered import DriverQuery, DriverStatement
from engine.store.tables import audit_entries, meetings, relationships, survey_responses

if TYPE_CHECKING:
    from engine.domain.relationships import Relationship
    from engine.store.relationships import RelationshipRow

MeetingStats = tuple[int, bool, datetime | None]
"""Meetings held, whether a kickoff was held, and when the last meeting was."""


def meeting_fact(kind: str, held_on: datetime) -> dict[str, Any]:
    """What the ``record_meeting`` entry of a meeting holds: the one shape the row is checked against."""
    return {"meeting": {"kind": kind, "held_on": iso(held_on)}}


def answer_fact(survey: str, respondent: str, answers: dict[str, Any]) -> dict[str, Any]:
    """What the ``record_survey`` entry of an answer holds: every answer but free text."""
    return {"survey": {"name": survey, "respondent": respondent, "answers": answers}}


Retracted = set[tuple[int, int]]
"""(relationship id, seq of the entry that recorded it) of each meeting or survey answer taken back."""


def retracted(
    conn: Connection, ids: Sequence[int] | None = None, *, until: datetime | None = None
) -> Retracted:
    """The records taken back by a ``retract`` entry by ``until`` (of the relationships ``ids``; all without).

    Retractions are rare: this reads only the ``retract`` entries, and the readers
    below leave out the records they name. Those of given relationships at any time
    are read through the driver (:class:`DriverQuery`), their ``data`` converted as Core does.
    """
    found: Retracted = set()
    if ids is not None and until is None:
        for some in chunks(sorted(set(ids))):
            _gone(found, _RETRACTIONS.rows(conn, some))
        return found
    query = _RETRACTS if until is None else _RETRACTS.where(audit_entries.c.at <= until)
    parts = [None] if ids is None else list(chunks(sorted(set(ids))))
    for part in parts:
        chosen = query if part is None else query.where(audit_entries.c.relationship_id.in_(part))
        _gone(found, conn.execute(chosen))
    return found


def _gone(found: Retracted, rows: Iterable[Sequence[Any]]) -> None:
    """Add to ``found`` the record each (relationship id, data) of a ``retract`` entry takes back."""
    for rid, data in rows:
        seq = ((data or {}).get("retracted") or {}).get("seq")
        if isinstance(seq, int):
            found.add((int(rid), seq))


_RETRACTS = select(audit_entries.c.relationship_id, audit_entries.c.data).where(
    audit_entries.c.trigger == RECORD_RETRACT
)
_RETRACTIONS = DriverQuery(_RETRACTS, audit_entries.c.relationship_id)


def _kept(table: Any, gone: Retracted) -> Any:
    """A WHERE clause that leaves out the retracted rows of ``table`` (true when nothing is retracted)."""
    if not gone:
        return table.c.id.is_not(None)
    return tuple_(table.c.relationship_id, table.c.entry_seq).not_in(sorted(gone))


def meeting_stats(conn: Connection, ids: Sequence[int]) -> dict[int, MeetingStats]:
    """Per relationship: meetings held, whether a kickoff was held, last meeting (none retracted).

    A slice without retractions (the common case) is read through the driver (:class:`DriverQuery`);
    one with some through Core, which leaves them out in SQL."""
    stats: dict[int, MeetingStats] = {}
    for part in chunks(ids):
        gone = retracted(conn, part)
        if gone:
            rows: Iterable[Sequence[Any]] = conn.execute(
                _MEETING_STATS.where(meetings.c.relationship_id.in_(part), _kept(meetings, gone))
            )
        else:
            rows = _MEETING_STATS_KEPT.rows(conn, part)
        for rid, count, kicks, last in rows:
            stats[rid] = (count, bool(kicks), last)
    return stats


_MEETING_STATS = select(
    meetings.c.relationship_id,
    func.count(),
    func.sum((meetings.c.kind == "kickoff").cast(meetings.c.id.type)),
    func.max(meetings.c.held_on),
).group_by(meetings.c.relationship_id)
_MEETING_STATS_KEPT = DriverQuery(_MEETING_STATS.where(_kept(meetings, set())), meetings.c.relationship_id)


def last_meetings(conn: Connection, by: datetime) -> dict[int, datetime]:
    """Per relationship with a meeting held by ``by`` (and not retracted): when the last of those was."""
    query = (
        select(meetings.c.relationship_id, func.max(meetings.c.held_on))
        .where(meetings.c.held_on <= by, _kept(meetings, retracted(conn, until=by)))
        .group_by(meetings.c.relationship_id)
    )
    return {int(rid): last for rid, last in conn.execute(query)}


def relationship_starts(conn: Connection, ids: Sequence[int]) -> dict[int, datetime]:
    """When each relationship of ``ids`` began (was opened): no meeting can be held before."""
    found: dict[int, datetime] = {}
    for part in chunks(sorted(set(ids))):
        found.update((int(rid), at) for rid, at in _STARTS.rows(conn, part))
    return found


_STARTS = DriverQuery(select(relationships.c.id, relationships.c.created_at), relationships.c.id)


def same_day_meetings(conn: Connection, ids: Sequence[int]) -> dict[int, list[tuple[str, datetime]]]:
    """Per relationship, (kind, held on) of each meeting not retracted: to refuse one recorded twice.

    A slice without retractions (the common case) is read through the driver, as :func:`meeting_stats`."""
    found: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
    for part in chunks(sorted(set(ids))):
        for rid, kind, held in _kept_rows(conn, part, meetings, _HELD, _HELD_KEPT):
            found[int(rid)].append((kind, held))
    return dict(found)


def _kept_rows(
    conn: Connection, part: Sequence[int], table: Any, query: Any, kept: DriverQuery
) -> Iterable[Sequence[Any]]:
    """The rows of ``query`` on ``table`` for the relationships ``part``, retracted records left out: a
    slice without retractions (the common case) through the driver (``kept``), else through Core."""
    gone = retracted(conn, part)
    if gone:
        return conn.execute(query.where(table.c.relationship_id.in_(part), _kept(table, gone)))
    return kept.rows(conn, part)


_HELD = select(meetings.c.relationship_id, meetings.c.kind, meetings.c.held_on)
_HELD_KEPT = DriverQuery(_HELD.where(_kept(meetings, set())), meetings.c.relationship_id)


MEETING_COLUMNS = ("relationship_id", "kind", "held_on", "recorded_at", "recorded_by", "notes", "entry_seq")
_NEW_MEETINGS = DriverStatement(meetings.insert(), MEETING_COLUMNS)


def insert_meetings(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert meeting rows (:data:`MEETING_COLUMNS`) in one driver call, a batch's shared moment
    converted once (:class:`DriverStatement`): the rows stored are those Core would store."""
    if rows:
        _NEW_MEETINGS.execute(conn, [tuple(row[name] for name in MEETING_COLUMNS) for row in rows])


SurveyAnswerRow = tuple[str, str, datetime]
"""A survey answered: which survey, by whom (mentor or mentee), when."""


def survey_answers(
    conn: Connection, rels: Sequence[Relationship | RelationshipRow]
) -> dict[int, list[SurveyAnswerRow]]:
    """Per relationship, the surveys answered since it entered its current phase (absent: none), retracted
    answers left out (a slice without retractions read through the driver, as :func:`meeting_stats`)."""
    entered = {r.id: r.phase_entered_at for r in rels}
    answered: dict[int, list[SurveyAnswerRow]] = defaultdict(list)
    for part in chunks(sorted(entered)):
        for rid, survey, who, at in _kept_rows(conn, part, survey_responses, _ANSWERS, _ANSWERS_KEPT):
            if at >= entered[rid]:
                answered[rid].append((survey, who, at))
    return dict(answered)


_ANSWERS = select(
    survey_responses.c.relationship_id,
    survey_responses.c.survey,
    survey_responses.c.respondent,
    survey_responses.c.answered_at,
)
_ANSWERS_KEPT = DriverQuery(
    _ANSWERS.where(_kept(survey_responses, set())), survey_responses.c.relationship_id
)


def insert_survey_responses(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert survey response rows (relationship_id, survey, respondent, answered_at, answers, free_text,
    entry_seq)."""
    if rows:
        conn.execute(survey_responses.insert(), rows)


def recording_entry(conn: Connection, rel_id: int, seq: int) -> tuple[str, dict[str, Any]] | None:
    """(trigger, data) of entry ``seq`` of the relationship's chain, or ``None`` if it has none."""
    query = select(audit_entries.c.trigger, audit_entries.c.data).where(
        audit_entries.c.relationship_id == rel_id, audit_entries.c.seq == seq
    )
    row = conn.execute(query).first()
    return None if row is None else (str(row[0]), dict(row[1] or {}))


def recording_entries(conn: Connection) -> dict[tuple[int, int], tuple[str, dict[str, Any]]]:
    """(relationship id, seq) -> (trigger, data) of every entry that recorded a meeting or a survey answer."""
    query = select(
        audit_entries.c.relationship_id, audit_entries.c.seq, audit_entries.c.trigger, audit_entries.c.data
    ).where(audit_entries.c.trigger.in_((RECORD_MEETING, RECORD_SURVEY)))
    return {
        (int(rid), int(seq)): (trigger, dict(data or {})) for rid, seq, trigger, data in conn.execute(query)
    }


def all_meetings(conn: Connection) -> list[tuple[int, int, str, datetime, int | None]]:
    """Every meeting row: id, relationship id, kind, held on, entry seq."""
    m = meetings.c
    query = select(m.id, m.relationship_id, m.kind, m.held_on, m.entry_seq).order_by(m.id)
    return [(i, rid, kind, on, seq) for i, rid, kind, on, seq in conn.execute(query)]


def all_answers(conn: Connection) -> list[tuple[int, int, str, str, dict[str, Any], int | None]]:
    """Every survey answer row: id, relationship id, survey, respondent, answers (no free text), entry seq."""
    s = survey_responses.c
    query = select(s.id, s.relationship_id, s.survey, s.respondent, s.answers, s.entry_seq).order_by(s.id)
    return [(i, rid, name, who, dict(a or {}), seq) for i, rid, name, who, a, seq in conn.execute(query)]
