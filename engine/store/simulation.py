"""What a simulated day reads of the store: the open pairs, their answers, untrained mentors, proposals.

Four statements, built once and joined on the open relationships, so a day's
snapshot costs the same few statements however many pairs there are. Every
function takes the Connection of the caller's unit of work.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, bindparam, case, func, select

from engine.store.proposals import PENDING
from engine.store.rendered import Conversion
from engine.store.tables import match_proposals, meetings, participants, relationships, survey_responses

OpenPair = tuple[int, int, int | None, str, datetime, datetime, int, int, datetime | None]
"""An open relationship: id, mentee id, mentor id, phase, entered it at, created at, meetings held,
kickoffs held, last meeting held on."""

ProposalRow = tuple[int, int | None, datetime]
"""A match proposal: relationship id, mentor id, created at."""

_r, _m, _s, _p, _mp = (relationships.c, meetings.c, survey_responses.c, participants.c, match_proposals.c)
_OPEN = _r.phase.not_in(bindparam("terminal", expanding=True))
_PAIRS = (
    select(
        _r.id, _r.mentee_id, _r.mentor_id, _r.phase, _r.phase_entered_at, _r.created_at,
        func.count(_m.id), func.coalesce(func.sum(case((_m.kind == "kickoff", 1), else_=0)), 0),
        func.max(_m.held_on),
    )
    .select_from(relationships.outerjoin(meetings, _m.relationship_id == _r.id))
    .where(_OPEN)
    .group_by(_r.id)
    .order_by(_r.id)
)  # fmt: skip
_ANSWERED = (
    select(_s.relationship_id, _s.respondent)
    .join(relationships, _r.id == _s.relationship_id)
    .where(_OPEN, _s.answered_at >= _r.phase_entered_at)
)
_UNTRAINED = select(_p.id, func.coalesce(_p.external_id, _p.email)).where(
    _p.role == "mentor", _p.trained.is_(False)
)
_PENDING = select(_mp.relationship_id, _mp.mentor_id, _mp.created_at).where(_mp.status == PENDING)


def open_pairs(conn: Connection, terminal: Sequence[str]) -> list[OpenPair]:
    """Each relationship not in a ``terminal`` phase, by id, with its meetings counted.

    The driver's rows are taken as they are and converted as Core converts them, each time once
    (:class:`engine.store.rendered.Conversion`, remembering): a simulated program's times are a few
    day moments, shared by many pairs and read again day after day."""
    result = conn.execute(_PAIRS, {"terminal": list(terminal)})
    try:
        fetched = result.cursor.fetchall()
    finally:
        result.close()
    conversion = _conversions.get(conn.dialect.name)
    if conversion is None:
        conversion = _conversions[conn.dialect.name] = Conversion(_PAIRS, conn.dialect, remember=True)
    return conversion.rows(fetched)


_conversions: dict[str, Conversion] = {}


def answered_in_stay(conn: Connection, terminal: Sequence[str]) -> dict[int, set[str]]:
    """Per open relationship, who (mentor, mentee) has answered a survey since it entered its phase."""
    answered: dict[int, set[str]] = {}
    for rel_id, respondent in conn.execute(_ANSWERED, {"terminal": list(terminal)}):
        answered.setdefault(rel_id, set()).add(respondent)
    return answered


def untrained_mentors(conn: Connection) -> dict[int, str]:
    """The mentors not trained yet: id, and the reference (external id, else email) to record them by."""
    return {int(pid): str(ref) for pid, ref in conn.execute(_UNTRAINED)}


def pending_proposals(conn: Connection) -> list[ProposalRow]:
    """Each match proposal waiting for the coordinator."""
    return [(rid, mentor, at) for rid, mentor, at in conn.execute(_PENDING)]
