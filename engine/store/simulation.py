"""What a simulated day reads of the store: the open pairs, their answers, untrained mentors, proposals.

Four statements, built once and joined on the open relationships, so a day's
snapshot costs the same few statements however many pairs there are. Every
function takes the Connection of the caller's unit of work.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Dialect, bindparam, case, func, select

from engine.store.proposals import PENDING
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

    The driver's rows are taken as they are and each time converted as Core converts it, once per
    distinct value (:class:`_Times`): a simulated program's times are a few day moments, shared by
    many pairs and read again day after day."""
    result = conn.execute(_PAIRS, {"terminal": list(terminal)})
    try:
        fetched = result.cursor.fetchall()
    finally:
        result.close()
    times = _times.get(conn.dialect.name)
    if times is None:
        times = _times[conn.dialect.name] = _Times(conn.dialect)
    return times.rows(fetched)


class _Times:
    """The result conversion of each column of :data:`_PAIRS` for one dialect (as Core does it), and
    the values it converted so far, remembered (they are immutable) up to a bound."""

    LIMIT = 100_000

    def __init__(self, dialect: Dialect) -> None:
        columns = _PAIRS.selected_columns
        processors = (c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns)
        self.converts = [(i, process) for i, process in enumerate(processors) if process is not None]
        self.seen: dict[int, dict[Any, Any]] = {i: {} for i, _ in self.converts}

    def rows(self, fetched: Sequence[Sequence[Any]]) -> list[OpenPair]:
        """``fetched`` with each converted column's values converted (each distinct value once)."""
        columns: list[Any] = list(zip(*fetched, strict=True))
        if not columns:
            return []
        for i, process in self.converts:
            seen = self.seen[i]
            if len(seen) > self.LIMIT:
                seen.clear()
            for value in set(columns[i]).difference(seen):
                seen[value] = process(value)
            columns[i] = map(seen.__getitem__, columns[i])
        return list(zip(*columns, strict=True))


_times: dict[str, _Times] = {}


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
