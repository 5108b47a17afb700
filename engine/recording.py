"""Recording what happened in batches: many meetings, or many survey answers, in one transaction.

The batch forms of :func:`engine.services.record_meeting` and
:func:`engine.services.record_survey`, checked the same way (a known meeting
kind, nothing in the future, an open and matched relationship; a mentor or
mentee answering an existing relationship), all or nothing: one bad item and
nothing is written, and the error lists every problem. Each relationship
recorded becomes due, so the next tick reconsiders it. An import file or a
simulated day records hundreds at once at the cost of one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, update

from engine.clock import Clock
from engine.domain import MEETING_KINDS
from engine.errors import InputError, NotFoundError, RefusedError
from engine.policy import Policy
from engine.store import repository as repo
from engine.store.database import UnitOfWork
from engine.store.tables import meetings, relationships, survey_responses

MAX_PROBLEMS = 50


@dataclass(frozen=True)
class HeldMeeting:
    """A meeting of a pair to record; ``held_on`` ``None`` is the moment it is recorded."""

    relationship_id: int
    kind: str
    held_on: datetime | None = None
    notes: str | None = None


@dataclass(frozen=True)
class SurveyResponse:
    """One respondent's answers to one survey of one relationship."""

    relationship_id: int
    survey: str
    respondent: str
    answers: dict[str, Any] = field(default_factory=dict)


def record_meetings(
    store: Engine, policy: Policy, clock: Clock, held: Sequence[HeldMeeting], *, actor: str
) -> int:
    """Record meetings as held, all or nothing; returns how many were recorded."""
    now = clock.now()
    problems = [
        f"relationship {m.relationship_id}: {m.kind!r} is not a meeting kind ({', '.join(MEETING_KINDS)})"
        for m in held
        if m.kind not in MEETING_KINDS
    ]
    problems += [
        f"relationship {m.relationship_id}: {m.held_on:%Y-%m-%d} is in the future"
        for m in held
        if m.held_on is not None and m.held_on > now
    ]
    with UnitOfWork(store) as uow:
        rels = repo.relationship_rows(uow.conn, sorted({m.relationship_id for m in held}))
        for rel_id in dict.fromkeys(m.relationship_id for m in held):
            rel = rels.get(rel_id)
            if rel is None:
                problems.append(f"no relationship {rel_id}")
            elif policy.phases.get(rel.phase) is not None and policy.phases[rel.phase].terminal:
                problems.append(f"relationship {rel_id} is {rel.phase}; no meetings can be recorded")
            elif rel.mentor_id is None:
                problems.append(f"relationship {rel_id} has no mentor yet; record meetings once matched")
        _refuse("meeting", problems)
        rows = [
            {"relationship_id": m.relationship_id, "kind": m.kind, "held_on": m.held_on or now,
             "recorded_at": now, "recorded_by": actor, "notes": m.notes}
            for m in held
        ]  # fmt: skip
        if rows:
            uow.conn.execute(meetings.insert(), rows)
        _make_due(uow.conn, list(rels), now)
        uow.commit()
    return len(held)


def record_surveys(store: Engine, clock: Clock, responses: Sequence[SurveyResponse]) -> int:
    """Record survey responses, all or nothing; returns how many were recorded."""
    now = clock.now()
    problems = [
        f"relationship {r.relationship_id}: {r.respondent!r} is not a respondent (mentor or mentee)"
        for r in responses
        if r.respondent not in ("mentor", "mentee")
    ]
    with UnitOfWork(store) as uow:
        rels = repo.relationship_rows(uow.conn, sorted({r.relationship_id for r in responses}))
        problems += [f"no relationship {i}" for i in dict.fromkeys(r.relationship_id for r in responses)
                     if i not in rels]  # fmt: skip
        _refuse("survey response", problems)
        rows = [
            {"relationship_id": r.relationship_id, "survey": r.survey, "respondent": r.respondent,
             "answered_at": now, "answers": r.answers}
            for r in responses
        ]  # fmt: skip
        if rows:
            uow.conn.execute(survey_responses.insert(), rows)
        _make_due(uow.conn, list(rels), now)
        uow.commit()
    return len(responses)


def _refuse(what: str, problems: list[str]) -> None:
    if not problems:
        return
    error: type[InputError] = RefusedError
    if all(p.startswith("no relationship") for p in problems):
        error = NotFoundError
    if any("is not a" in p or "in the future" in p for p in problems):
        error = InputError
    shown = problems[:MAX_PROBLEMS]
    if len(problems) > MAX_PROBLEMS:
        shown.append(f"... and {len(problems) - MAX_PROBLEMS} more")
    raise error(f"{len(problems)} {what}(s) cannot be recorded; nothing was recorded", shown)


def _make_due(conn: Connection, rel_ids: list[int], now: datetime) -> None:
    """What happened may let a pair move on: the next tick looks at it."""
    for part in repo.chunks(rel_ids):
        conn.execute(update(relationships).where(relationships.c.id.in_(part)).values(due_at=now))
