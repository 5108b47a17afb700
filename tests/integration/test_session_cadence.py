"""When the cadence plans group sessions: only when a series' next date is not planned yet, or pairs
moved into its phases; never while nobody is in them. A run with nothing to do plans nothing."""

from __future__ import annotations

from sqlalchemy import Engine

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.services import recording
from engine.services.sessions import plan_due, plan_sessions
from engine.services.tick import run_tick

from .session_support import MENTORS, active_pairs, session_policy
from .support import fire, import_examples


def test_the_cadence_plans_when_a_date_is_open_or_pairs_came_in_and_not_otherwise(
    store: Engine, clock: SimulatedClock
) -> None:
    policy = session_policy()
    rels = import_examples(store, policy, clock)
    assert not plan_due(store, policy, clock.now())  # nobody in active: nothing to plan
    active_pairs(store, policy, clock, 2, rels=rels)
    assert plan_due(store, policy, clock.now())  # the next date is not planned
    assert plan_sessions(store, policy, clock, actor="cadence").new_invitations == 1  # their one mentor
    assert not plan_due(store, policy, clock.now())  # planned, everyone invited
    assert plan_due(store, policy, clock.now(), moved=["start"])  # a pair entered active: a newcomer?
    assert not plan_due(store, policy, clock.now(), moved=["match", "close"])  # none into active


def test_a_tick_that_moves_a_pair_into_active_tops_up_the_planned_session(
    store: Engine, clock: SimulatedClock
) -> None:
    policy = session_policy()
    lifecycle = Lifecycle(policy)
    rels = import_examples(store, policy, clock)
    active_pairs(store, policy, clock, 2, rels=rels)
    plan_sessions(store, policy, clock, actor="cadence")
    third = rels[2]
    fire(store, lifecycle, clock, third, "match", mentor=MENTORS[2])
    fire(store, lifecycle, clock, third, "schedule_kickoff")
    recording.record_meeting(store, policy, clock, third, "kickoff", None, actor="coordinator")

    ticked = run_tick(store, lifecycle, clock.now())  # the kickoff was held: the tick starts the pair

    assert ticked.advanced.get("start") == 1
    assert plan_due(store, policy, clock.now(), moved=ticked.advanced)
    assert plan_sessions(store, policy, clock, actor="cadence").new_invitations == 1  # its mentor
