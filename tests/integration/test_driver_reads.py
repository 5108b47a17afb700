"""Rows read through the driver are the rows a Core read gives, on both back ends."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, func, select

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy
from engine.services import advance as services
from engine.store import due, records
from engine.store import relationships as repo
from engine.store.database import UnitOfWork
from engine.store.relationships import ROW_COLUMNS, RelationshipRow
from engine.store.tables import meetings, relationships, survey_responses

from .support import import_examples


def _by_core(store: Engine, ids: list[int]) -> dict[int, RelationshipRow]:
    query = select(*ROW_COLUMNS).where(relationships.c.id.in_(ids)).order_by(relationships.c.id)
    with store.connect() as conn:
        return {row.id: RelationshipRow._make(row) for row in conn.execute(query)}


def _moved_and_waiting(store: Engine, policy: Policy, clock: SimulatedClock) -> list[int]:
    """Relationships with times and phase clocks to read: some closed (a clock kept), some not."""
    ids = import_examples(store, policy, clock)
    clock.advance(timedelta(days=3, microseconds=250))
    closing = ids[: len(ids) // 2]
    lifecycle = Lifecycle(policy)
    result = services.advance_many(store, lifecycle, clock, closing, "close", actor="t", reason="left")
    assert result.moved == closing
    return ids


def test_relationship_rows_are_the_rows_core_reads(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    ids = _moved_and_waiting(store, policy, clock)
    wanted = [*reversed(ids), 999_999]  # any order, an unknown id
    with UnitOfWork(store) as uow:
        read = repo.relationship_rows(uow.conn, wanted, lock=True)
    core = _by_core(store, ids)
    assert read == core and list(read) == sorted(ids)
    assert any(row.phase_clock for row in read.values()) and any(not row.phase_clock for row in read.values())
    assert all(row.phase_entered_at.tzinfo is not None for row in read.values())
    assert [type(v) for v in next(iter(read.values()))] == [type(v) for v in next(iter(core.values()))]


def test_due_rows_are_the_rows_core_reads(store: Engine, policy: Policy, clock: SimulatedClock) -> None:
    ids = _moved_and_waiting(store, policy, clock)
    later = clock.now() + timedelta(days=400)
    core = _by_core(store, ids)
    with UnitOfWork(store) as uow:
        assert due.lock_due(uow.conn, ids, clock.now() - timedelta(days=30), policy.policy) == []
        assert due.lock_due(uow.conn, ids, later, "another policy") == []
        rows = due.lock_due(uow.conn, ids, later, policy.policy)
    assert rows and rows == [row for row in core.values() if row.phase != "closed"]


def test_meeting_stats_and_survey_answers_are_what_core_reads(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    ids = _moved_and_waiting(store, policy, clock)
    base = clock.now()
    later = base + timedelta(hours=1)
    meetings_in = [
        {"relationship_id": rid, "kind": kind, "held_on": base - timedelta(days=n, microseconds=n),
         "recorded_at": base, "recorded_by": "t", "notes": None, "entry_seq": None}
        for n, rid in enumerate(ids) for kind in ("kickoff", "regular")[: 1 + n % 2]
    ]  # fmt: skip
    answers_in = [
        {"relationship_id": rid, "survey": "final", "respondent": who, "answered_at": later, "answers": {},
         "free_text": None, "entry_seq": None}
        for rid in ids[::2] for who in ("mentee", "mentor")
    ]  # fmt: skip
    m, s = meetings.c, survey_responses.c
    kicks = func.sum((m.kind == "kickoff").cast(m.id.type))
    with UnitOfWork(store) as uow:
        records.insert_meetings(uow.conn, meetings_in)
        records.insert_survey_responses(uow.conn, answers_in)
        stats = records.meeting_stats(uow.conn, [*reversed(ids), 999_999])
        rels = list(repo.relationship_rows(uow.conn, ids).values())
        answered = records.survey_answers(uow.conn, rels)
        core_stats = {
            rid: (count, bool(k), last)
            for rid, count, k, last in uow.conn.execute(
                select(m.relationship_id, func.count(), kicks, func.max(m.held_on)).group_by(
                    m.relationship_id
                )
            )
        }
        core_answers = uow.conn.execute(
            select(s.relationship_id, s.survey, s.respondent, s.answered_at)
        ).all()
    assert stats == core_stats and len(stats) == len(ids)
    assert [type(v) for v in stats[ids[1]]] == [type(v) for v in core_stats[ids[1]]]
    assert all(last.tzinfo is not None for _, _, last in stats.values())
    entered = {r.id: r.phase_entered_at for r in rels}
    expected: dict[int, list[tuple[str, str, object]]] = {}
    for rid, survey, who, at in core_answers:
        if at >= entered[rid]:
            expected.setdefault(rid, []).append((survey, who, at))
    assert answered == expected and answered
