"""Two programs in one store: each policy ticks, advances, matches and reports on its own relationships.

The default program and the onboarding-buddy program share the example mentors;
eight mentees are in the default program and six in the buddy program. A
relationship in a phase its policy no longer has (a new version removed it) is
stranded: the tick leaves it alone and counts it, advance refuses it, status lists it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from engine.clock import SimulatedClock
from engine.domain import programs
from engine.domain.lifecycle import Lifecycle
from engine.errors import RefusedError
from engine.policy.model import Policy, load_policy, load_policy_text, shipped_policies
from engine.reporting.build import program_insights, report
from engine.reporting.render import render
from engine.services import advance as services
from engine.services import matching as match_service
from engine.services import queries, recording, tick
from engine.services.delivery import deliver_due
from engine.services.participants import import_participants
from engine.store.tables import audit_entries, match_proposals, outbox, relationships

from .delivery_support import FakeChannel, channels_of
from .support import (
    SINGLE_MENTOR,
    TRAINED_MENTOR,
    example_people,
    fire,
    footprint,
    paused_first_pair,
    without_paused_text,
)

COORDINATOR = "coordinator@example.com"
BUDDY = "onboarding-buddy"


@pytest.fixture(scope="module")
def buddy() -> Policy:
    return load_policy(shipped_policies()[BUDDY])


@pytest.fixture
def buddies(buddy: Policy) -> Lifecycle:
    return Lifecycle(buddy)


def open_two_programs(
    store: Engine, policy: Policy, buddy: Policy, clock: SimulatedClock
) -> tuple[list[int], list[int]]:
    """The mentors and eight mentees imported under the default policy, six mentees under the buddy one."""
    people = example_people()
    mentors = [p for p in people if p.role == "mentor"]
    mentees = [p for p in people if p.role == "mentee"]
    default = import_participants(store, policy, clock, [*mentors, *mentees[:8]], actor="hr")
    buddy_rels = import_participants(store, buddy, clock, mentees[8:], actor="hr")
    return default.relationships_opened, buddy_rels.relationships_opened


Rows = dict[int, tuple[str, str, int, datetime | None, int]]


def rows(store: Engine, ids: list[int]) -> Rows:
    """(policy, phase, version, due_at, audit entries) of each relationship: what a write would change."""
    with store.connect() as conn:
        found = conn.execute(
            select(relationships).where(relationships.c.id.in_(ids)).order_by(relationships.c.id)
        ).mappings()
        return {
            r["id"]: (r["policy_name"], r["phase"], r["version"], r["due_at"], r["audit_seq"]) for r in found
        }


def messages_of(store: Engine, ids: list[int]) -> int:
    with store.connect() as conn:
        return len(conn.execute(select(outbox.c.id).where(outbox.c.relationship_id.in_(ids))).all())


def test_an_import_opens_its_relationships_under_the_policy_it_runs_with(
    store: Engine, policy: Policy, buddy: Policy, clock: SimulatedClock
) -> None:
    default, buddy_rels = open_two_programs(store, policy, buddy, clock)

    assert {r[0] for r in rows(store, default).values()} == {"default"}
    assert {r[0] for r in rows(store, buddy_rels).values()} == {BUDDY}
    assert (len(default), len(buddy_rels)) == (8, 6)


def test_each_policy_ticks_its_own_relationships_only(
    store: Engine,
    policy: Policy,
    lifecycle: Lifecycle,
    buddy: Policy,
    buddies: Lifecycle,
    clock: SimulatedClock,
) -> None:
    default, buddy_rels = open_two_programs(store, policy, buddy, clock)
    fire(store, lifecycle, clock, default[0], "match", mentor=TRAINED_MENTOR)
    fire(store, buddies, clock, buddy_rels[0], "match", mentor="E1004")
    clock.advance(timedelta(days=6))  # past the buddy program's intake deadline (5 days), not the default's
    buddy_before, buddy_messages = rows(store, buddy_rels), messages_of(store, buddy_rels)

    ticked = tick.run_tick(store, lifecycle, clock.now())

    assert ticked.advanced == {"schedule_kickoff": 1} and ticked.escalations == 0 and not ticked.stranded
    assert ticked.examined == 2  # the matched pair, then again in kickoff; the unmatched wait for day 21
    assert rows(store, buddy_rels) == buddy_before  # never read: still due for its own tick
    assert messages_of(store, buddy_rels) == buddy_messages
    assert tick.due_ids(store, clock.now(), policy_name="default") == []
    assert sorted(tick.due_ids(store, clock.now(), policy_name=BUDDY)) == buddy_rels
    default_after = rows(store, default)

    ticked = tick.run_tick(store, buddies, clock.now())

    assert ticked.advanced == {"schedule_kickoff": 1}  # a buddy needs no training
    assert ticked.escalations == 5  # five new hires without a buddy after five days
    assert rows(store, default) == default_after
    with store.connect() as conn:
        query = select(audit_entries.c.policy_name).where(audit_entries.c.relationship_id.in_(buddy_rels))
        assert set(conn.execute(query).scalars()) == {BUDDY}


def test_advance_refuses_a_relationship_of_another_policy_and_writes_nothing(
    store: Engine, policy: Policy, lifecycle: Lifecycle, buddy: Policy, clock: SimulatedClock
) -> None:
    default, buddy_rels = open_two_programs(store, policy, buddy, clock)
    before = footprint(store)

    with pytest.raises(RefusedError) as refused:
        fire(store, lifecycle, clock, buddy_rels[0], "match", mentor=TRAINED_MENTOR)

    assert refused.value.message == (
        f"relationship {buddy_rels[0]} belongs to the program under policy 'onboarding-buddy', "
        "not 'default': run the command with `policy` onboarding-buddy"
    )
    assert footprint(store) == before
    untouched = rows(store, buddy_rels)

    result = services.advance_many(
        store, lifecycle, clock, [default[1], buddy_rels[1]], "close", actor=COORDINATOR, reason="left"
    )

    assert result.moved == [default[1]]
    assert result.refused == {buddy_rels[1]: programs.other_program(buddy_rels[1], BUDDY, policy)}
    assert rows(store, buddy_rels) == untouched


def test_recording_refuses_a_relationship_of_another_policy(
    store: Engine, policy: Policy, buddy: Policy, buddies: Lifecycle, clock: SimulatedClock
) -> None:
    default, _ = open_two_programs(store, policy, buddy, clock)
    fire(store, Lifecycle(policy), clock, default[0], "match", mentor=TRAINED_MENTOR)
    before = footprint(store)

    with pytest.raises(RefusedError, match="belongs to the program under policy 'default'"):
        recording.record_meeting(store, buddy, clock, default[0], "check-in", None, actor=COORDINATOR)
    with pytest.raises(RefusedError, match="not 'onboarding-buddy': run the command with `policy` default"):
        recording.record_survey(
            store, buddy, clock, default[0], "onboarding", "mentee", {"satisfaction": 4}, actor="mentee"
        )

    assert footprint(store) == before


def test_another_program_given_by_its_own_file_is_named_by_the_policy(policy: Policy) -> None:
    assert programs.other_program(7, "team", policy) == (
        "relationship 7 belongs to the program under policy 'team', not 'default': "
        "run the command with `policy` and the file of policy 'team'"
    )
    assert programs.other_program(7, "default", policy) is None


def without_paused() -> Policy:
    new = load_policy_text(without_paused_text(), "with-pause-v2.yaml")
    assert "paused" not in new.phases and new.policy == "with-pause"
    return new


@pytest.fixture
def paused_pair(store: Engine, clock: SimulatedClock) -> tuple[Policy, list[int]]:
    """The example mentees under with-pause; the first pair active, then paused."""
    return paused_first_pair(store, clock)


def test_the_tick_leaves_a_pair_in_a_removed_phase_alone_and_counts_it(
    store: Engine, clock: SimulatedClock, paused_pair: tuple[Policy, list[int]]
) -> None:
    _, rels = paused_pair
    new = without_paused()
    clock.advance(timedelta(days=100))  # the pause's own deadline (3 months) has passed: it is due
    before, messages = rows(store, rels[:1]), messages_of(store, rels[:1])

    ticked = tick.run_tick(store, Lifecycle(new), clock.now())

    assert ticked.stranded == {rels[0]: "paused"} and ticked.stranded_phases() == {"paused": 1}
    assert ticked.examined == len(rels) - 1 and ticked.escalations > 0  # the others: still unmatched
    assert rows(store, rels[:1]) == before and messages_of(store, rels[:1]) == messages
    assert programs.stranded_note(ticked.stranded_phases()) == (
        "1 relationship(s) are in a phase the policy no longer has: paused 1"
    )
    again = tick.run_tick(store, Lifecycle(new), clock.now())
    assert again.stranded == {rels[0]: "paused"} and again.examined == 0


def test_advance_refuses_a_pair_in_a_removed_phase_naming_it(
    store: Engine, clock: SimulatedClock, paused_pair: tuple[Policy, list[int]]
) -> None:
    old, rels = paused_pair
    new = without_paused()
    before = footprint(store)

    with pytest.raises(RefusedError) as refused:
        fire(store, Lifecycle(new), clock, rels[0], "close", reason="left the company")
    result = services.advance_many(store, Lifecycle(new), clock, rels[:1], "close", actor="x", reason="r")

    assert refused.value.message.startswith(
        f"relationship {rels[0]} is in phase 'paused', which policy 'with-pause' (version 3) no longer has"
    )
    assert result.refused == {rels[0]: refused.value.message} and result.moved == []
    assert footprint(store) == before
    # the version of the policy that has the phase moves the pair on
    assert fire(store, Lifecycle(old), clock, rels[0], "resume").to_phase == "active"


def test_status_lists_a_pair_in_a_removed_phase(
    store: Engine, clock: SimulatedClock, paused_pair: tuple[Policy, list[int]]
) -> None:
    _, rels = paused_pair

    now = queries.status(store, without_paused(), clock.now())
    replayed = queries.status(store, without_paused(), clock.now() + timedelta(days=1), as_of=clock.now())

    for found in (now, replayed):
        assert [(rid, phase) for rid, phase, _ in found.stranded] == [(rels[0], "paused")]
        assert found.phases["paused"] == 1 and sum(found.phases.values()) == len(rels)
        assert found.other_policies == {}


def test_matching_proposes_its_own_intake_and_counts_a_mentors_load_in_every_program(
    store: Engine,
    policy: Policy,
    lifecycle: Lifecycle,
    buddy: Policy,
    buddies: Lifecycle,
    clock: SimulatedClock,
) -> None:
    default, buddy_rels = open_two_programs(store, policy, buddy, clock)
    fire(store, lifecycle, clock, default[1], "match", mentor=SINGLE_MENTOR)  # Anouk's only place
    first = match_service.propose(store, lifecycle, clock, actor=COORDINATOR)
    pending = {r["relationship_id"] for r in first.rows if r["status"] == "pending"}

    run = match_service.propose(store, buddies, clock, actor=COORDINATOR)

    assert {r["relationship_id"] for r in run.rows} == set(buddy_rels)
    assert {r["relationship_id"] for r in first.rows} == set(default) - {default[1]}
    assert all(r["explanation"]["ruled_out_counts"].get("capacity") == 1 for r in run.rows)  # Anouk is full
    decided = match_service.approve(store, buddies, clock, above=0.0, actor=COORDINATOR)
    assert decided.done and set(decided.done) | set(decided.refused) <= set(buddy_rels)
    assert pending_proposals(store, default) == pending  # the buddy runs left the default program's alone
    refused = match_service.approve(store, buddies, clock, [min(pending)], actor=COORDINATOR)
    assert refused.refused[min(pending)] == programs.other_program(min(pending), "default", buddy)


def pending_proposals(store: Engine, ids: list[int]) -> set[int]:
    query = select(match_proposals.c.relationship_id).where(
        match_proposals.c.status == "pending", match_proposals.c.relationship_id.in_(ids)
    )
    with store.connect() as conn:
        return set(conn.execute(query).scalars())


def test_status_report_and_insights_cover_the_policy_and_mention_the_other_programs(
    store: Engine, policy: Policy, buddy: Policy, clock: SimulatedClock
) -> None:
    default, buddy_rels = open_two_programs(store, policy, buddy, clock)
    note = "(6 relationship(s) under other policies: onboarding-buddy 6; use `policy` to see them)"

    status = queries.status(store, policy, clock.now())
    assert sum(status.phases.values()) == len(default) and status.other_policies == {BUDDY: 6}
    assert queries.status(store, buddy, clock.now()).other_policies == {"default": 8}
    before_any = clock.now() - timedelta(days=1)
    assert queries.status(store, policy, clock.now(), as_of=before_any).other_policies == {}

    data = report(store, policy, clock.now())
    assert data["scope"]["relationships"] == default and data["report"]["other_policies"] == {BUDDY: 6}
    assert note in render(data, "md") and note in render(data, "html")
    assert report(store, buddy, clock.now())["scope"]["relationships"] == buddy_rels
    found, _ = program_insights(store, policy, clock.now())
    assert found.pairs == len(default) and found.other_policies == {BUDDY: 6}


def test_delivery_with_a_policy_sends_its_own_programs_messages(
    store: Engine,
    policy: Policy,
    lifecycle: Lifecycle,
    buddy: Policy,
    buddies: Lifecycle,
    clock: SimulatedClock,
) -> None:
    default, buddy_rels = open_two_programs(store, policy, buddy, clock)
    fire(store, lifecycle, clock, default[0], "match", mentor=TRAINED_MENTOR)  # notify_pair, enrolment
    fire(store, buddies, clock, buddy_rels[0], "match", mentor="E1004")  # notify_pair
    channel = FakeChannel()

    first = deliver_due(store, channels_of(channel), clock.now(), policy_name=BUDDY)
    buddy_sent = {m.relationship_id for m in channel.sent}
    second = deliver_due(store, channels_of(channel), clock.now(), policy_name="default")

    assert buddy_sent == {buddy_rels[0]} and first.delivered == messages_of(store, buddy_rels)
    assert {m.relationship_id for m in channel.sent} == {buddy_rels[0], default[0]}
    assert second.claimed == messages_of(store, default)
