"""The cheaper reads and batches a simulated day uses give what the plain ones gave.

``open_pairs`` converts the driver's rows itself (each time once, remembered across days), and
``record_attendances`` records a day's attendance in one transaction: the rows read are those Core
reads, and a batch writes what the single calls would, or nothing at all.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from engine.clock import SimulatedClock
from engine.errors import RefusedError
from engine.policy.model import Policy
from engine.services import recording
from engine.services import sessions as service
from engine.store import simulation as snapshot
from engine.store.database import UnitOfWork
from engine.store.tables import audit_entries, session_invitations

from .session_support import active_pairs, session_policy
from .support import footprint


def test_open_pairs_reads_what_core_reads_day_after_day(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    session = session_policy("mentors", 8)
    rels = active_pairs(store, session, clock, 3)
    terminal = sorted(policy.terminal_phases)
    for day in range(3):
        clock.set(clock.now() + timedelta(days=1))
        recording.record_meeting(store, session, clock, rels[day], "check-in", None, actor="c")
        with UnitOfWork(store, write=False) as uow:
            fast = snapshot.open_pairs(uow.conn, terminal)
            core = [tuple(row) for row in uow.conn.execute(snapshot._PAIRS, {"terminal": terminal})]
        assert fast == core
        assert [type(value) for row in fast for value in row] == [type(v) for row in core for v in row]
        assert all(row[4].tzinfo is not None and row[8].tzinfo is not None for row in fast if row[0] in rels)


def _invited(store: Engine, session_id: int) -> list[str]:
    """The participant ids (as references) invited to ``session_id``, in the order of their invitations."""
    query = (
        select(session_invitations.c.participant_id)
        .where(session_invitations.c.session_id == session_id)
        .order_by(session_invitations.c.id)
    )
    with store.connect() as conn:
        return [str(pid) for pid in conn.scalars(query)]


def _attendance_entries(store: Engine) -> list[tuple[int, str, object]]:
    query = (
        select(audit_entries.c.relationship_id, audit_entries.c.actor, audit_entries.c.data)
        .where(audit_entries.c.trigger == "record_attendance")
        .order_by(audit_entries.c.id)
    )
    with store.connect() as conn:
        return [(rel, actor, data) for rel, actor, data in conn.execute(query)]


def test_a_batch_of_attendance_is_recorded_in_order_or_not_at_all(
    store: Engine, clock: SimulatedClock
) -> None:
    policy = session_policy("mentors", 8)
    active_pairs(store, policy, clock, 3)
    group = service.plan_sessions(store, policy, clock, actor="c").groups[0]
    people = _invited(store, group.session_id)
    assert len(people) >= 2
    clock.set(group.starts_at + timedelta(hours=2))
    said = [
        service.AttendanceSaid(group.session_id, person, i % 2 == 0, f"p{i}")
        for i, person in enumerate(people)
    ]

    before = footprint(store)
    twice = [*said, said[0]]  # the first person again: refused, as a second single call would be
    with pytest.raises(RefusedError, match="already recorded"):
        service.record_attendances(store, policy, clock, twice)
    assert footprint(store) == before and _attendance_entries(store) == []

    done = service.record_attendances(store, policy, clock, said)
    assert [(d.participant_id, d.attended, d.corrected) for d in done] == [
        (int(s.person), s.attended, False) for s in said
    ]
    entries = _attendance_entries(store)
    assert [actor for _, actor, _ in entries] == [s.actor for s in said]
    assert [rel for rel, _, _ in entries] == [d.relationship_id for d in done]
