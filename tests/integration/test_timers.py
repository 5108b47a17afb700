"""Timers that keep count, through the engine and the tick on a simulated clock (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.policy.durations import Duration
from engine.policy.model import Policy, load_policy, shipped_policies
from engine.policy.yamlsafe import load_yaml
from engine.services import recording, tick
from engine.store.database import migrate
from engine.store.tables import audit_entries, participants, relationships
from tests.integration.support import fire, import_examples

START = datetime(2027, 1, 1, 9, tzinfo=UTC)
MENTEE, MENTOR = "E1104", "E1002"  # Lotte Smit (Sales) and Fatima El Amrani (Finance, trained)


def _rel_of(store: Engine, external_id: str) -> int:
    with store.connect() as conn:
        mentee = conn.execute(
            select(participants.c.id).where(participants.c.external_id == external_id)
        ).scalar_one()
        return int(
            conn.execute(select(relationships.c.id).where(relationships.c.mentee_id == mentee)).scalar_one()
        )


def _phase(store: Engine, rel: int) -> str:
    with store.connect() as conn:
        return str(conn.execute(select(relationships.c.phase).where(relationships.c.id == rel)).scalar_one())


def _tick_until(store: Engine, lifecycle: Lifecycle, clock: SimulatedClock, until: datetime) -> None:
    """Tick every day at the clock's time of day, up to and including ``until``."""
    while clock.now() + timedelta(days=1) <= until:
        clock.advance(timedelta(days=1))
        tick.run_tick(store, lifecycle, clock.now())


def test_a_pause_neither_consumes_nor_restarts_the_program(store: Engine) -> None:
    policy = load_policy(shipped_policies()["with-pause"])
    lifecycle, clock = Lifecycle(policy), SimulatedClock(START - timedelta(days=1))
    import_examples(store, policy, clock)
    rel = _rel_of(store, MENTEE)
    fire(store, lifecycle, clock, rel, "match", mentor=MENTOR)
    tick.run_tick(store, lifecycle, clock.now())  # schedule_kickoff: the mentor is trained
    clock.advance(timedelta(days=1))
    recording.record_meeting(store, policy, clock, rel, "kickoff", None, actor="coordinator")
    tick.run_tick(store, lifecycle, clock.now())
    assert _phase(store, rel) == "active" and clock.now() == START

    paused_at = Duration(months=4).after(START)  # four months active
    _tick_until(store, lifecycle, clock, paused_at)
    fire(store, lifecycle, clock, rel, "pause", reason="parental leave")
    resumed_at = Duration(months=1).after(paused_at)  # a month paused
    _tick_until(store, lifecycle, clock, resumed_at)
    assert _phase(store, rel) == "paused"
    fire(store, lifecycle, clock, rel, "resume")

    review_at = Duration(months=2).after(resumed_at)
    _tick_until(store, lifecycle, clock, review_at - timedelta(days=1))
    assert _phase(store, rel) == "active"  # six months in active would be on 2027-07-01 counted from entry
    _tick_until(store, lifecycle, clock, review_at)
    assert _phase(store, rel) == "review"
    with store.connect() as conn:
        at = conn.execute(
            select(audit_entries.c.at).where(
                audit_entries.c.relationship_id == rel, audit_entries.c.trigger == "review"
            )
        ).scalar_one()
    assert at == review_at == datetime(2027, 8, 1, 9, tzinfo=UTC)


CYCLING = """
policy: cycling
program: {duration: 6 months}
phases:
  intake: {initial: true}
  active: {}
  paused: {}
  closed: {terminal: true}
transitions:
  - {trigger: start, from: intake, to: active, auto: true}
  - {trigger: pause, from: active, to: paused, auto: true}
  - {trigger: resume, from: paused, to: active, auto: true}
  - {trigger: close, from: "*", to: closed, requires: [reason]}
"""


def test_the_tick_moves_a_pair_at_most_once_per_trigger_per_moment(store: Engine) -> None:
    # `policy validate` refuses this cycle; built without the graph checks, as a policy that slipped through
    policy = Policy.model_validate(load_yaml(CYCLING, "cycling.yaml").data)
    lifecycle, clock = Lifecycle(policy), SimulatedClock(START)
    (rel,) = import_examples(store, policy, clock)[:1]
    summary = tick.run_tick(store, lifecycle, clock.now())
    assert summary.advanced == {"start": 14, "pause": 14, "resume": 14}  # each of the 14 example mentees
    with store.connect() as conn:
        triggers = list(
            conn.execute(
                select(audit_entries.c.trigger)
                .where(audit_entries.c.relationship_id == rel)
                .order_by(audit_entries.c.seq)
            ).scalars()
        )
    assert triggers == ["create", "start", "pause", "resume"]
    assert tick.run_tick(store, lifecycle, clock.now()).advanced == {}


def _migrate(store: Engine, command_name: str, revision: str) -> None:
    migrate(store, command_name, revision)


@pytest.mark.usefixtures("written_before_seals")  # a store from before 0016: it can go back to 0005
def test_the_migration_fills_the_phase_clock_in_from_the_audit_history(store: Engine) -> None:
    policy = load_policy(shipped_policies()["with-pause"])
    lifecycle, clock = Lifecycle(policy), SimulatedClock(START)
    import_examples(store, policy, clock)
    rel = _rel_of(store, MENTEE)
    fire(store, lifecycle, clock, rel, "match", mentor=MENTOR)
    clock.advance(timedelta(days=3))
    tick.run_tick(
        store, lifecycle, clock.now()
    )  # schedule_kickoff: an auto move, the count of matched restarts
    recording.record_meeting(store, policy, clock, rel, "kickoff", None, actor="coordinator")
    tick.run_tick(store, lifecycle, clock.now())
    clock.advance(timedelta(days=40))
    fire(store, lifecycle, clock, rel, "pause", reason="parental leave")
    clock.advance(timedelta(days=10))
    fire(store, lifecycle, clock, rel, "resume")
    query = select(relationships.c.phase_clock).where(relationships.c.id == rel)
    with store.connect() as conn:
        kept = conn.execute(query).scalar_one()
    assert kept["active"][0] == 40 * 86400 and kept["paused"][0] == 10 * 86400
    _migrate(store, "downgrade", "0005")
    _migrate(store, "upgrade", "head")
    with store.connect() as conn:
        filled = conn.execute(query).scalar_one()
    # the phases a counting timer reads agree (the chain does not say which auto move was a timer's)
    assert (filled["active"], filled["paused"]) == (kept["active"], kept["paused"])
