"""Simulated days against a real store, with the cadence ticked by the engine alone (no Prefect)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, func, select

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy
from engine.services.matching import propose
from engine.services.participants import import_participants
from engine.services.queries import verify
from engine.services.tick import run_tick
from engine.simulation import DaySummary, generate_program, simulate_day
from engine.store.tables import relationships
from tests.conftest import START

KEYS = ("k" * 40,)  # the program's link keys, which the participants' links are signed with


def test_two_simulated_months_move_pairs_through_the_lifecycle(
    store: Engine, policy: Policy, lifecycle: Lifecycle
) -> None:
    program = generate_program(5, mentees=12, mentors=6, days=60)
    clock = SimulatedClock(START)
    total = DaySummary()
    for day in range(61):
        now = START + timedelta(days=day)
        clock.set(now)
        if day in program.import_days:
            import_participants(store, policy, clock, program.arriving(day), actor="hr")
        total = total.merged(simulate_day(store, lifecycle, 5, now, KEYS))
        if now.weekday() == 0 or day == 0:
            propose(store, lifecycle, clock, actor="matching")
        run_tick(store, lifecycle, now)

    assert total.approved > 0 and total.kickoffs > 0 and total.check_ins > 0
    with store.connect() as conn:
        phases = dict(
            conn.execute(select(relationships.c.phase, func.count()).group_by(relationships.c.phase)).all()
        )
    assert phases.get("active", 0) > 0
    assert verify(store).problems == []


def test_the_same_seed_replays_the_same_days(store: Engine, lifecycle: Lifecycle, policy: Policy) -> None:
    program = generate_program(9, mentees=4, mentors=3, days=10)
    clock = SimulatedClock(START)
    import_participants(store, policy, clock, program.arriving(0), actor="hr")
    propose(store, lifecycle, clock, actor="matching")
    first = simulate_day(store, lifecycle, 9, START + timedelta(days=3), KEYS)
    again = simulate_day(store, lifecycle, 9, START + timedelta(days=3), KEYS)
    assert first.approved + first.rejected > 0  # a Thursday: the coordinator reviews Monday's proposals
    assert again.approved + again.rejected == 0  # decided once: nothing is pending any more
