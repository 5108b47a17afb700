"""Advancing relationships: the whole default lifecycle, refusals that write nothing, outbox and audit."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from engine.clock import SimulatedClock
from engine.domain.audit import GENESIS, entry_hash
from engine.domain.lifecycle import Lifecycle
from engine.errors import NotFoundError, RefusedError
from engine.policy.model import Policy, load_policy_text, shipped_policies
from engine.policy.vocabulary import RECORD_TRIGGERS
from engine.services import advance as services
from engine.services import queries, recording
from engine.store.tables import outbox, policy_versions, relationships

from .support import (
    A_MENTEE,
    SINGLE_MENTOR,
    TRAINED_MENTOR,
    UNTRAINED_MENTOR,
    answer_final,
    fire,
    footprint,
    import_examples,
    outbox_rows,
)

COORDINATOR = "coordinator@example.com"


def _walk_to_closed(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock, rel: int
) -> None:
    assert fire(store, lifecycle, clock, rel, "match", mentor=TRAINED_MENTOR).to_phase == "matched"
    clock.advance(timedelta(days=2))
    assert fire(store, lifecycle, clock, rel, "schedule_kickoff").to_phase == "kickoff"
    clock.advance(timedelta(days=5))
    recording.record_meeting(store, policy, clock, rel, "kickoff", None, actor=COORDINATOR)
    assert fire(store, lifecycle, clock, rel, "start").to_phase == "active"
    for _ in range(12):
        clock.advance(timedelta(weeks=2))
        recording.record_meeting(store, policy, clock, rel, "check-in", None, actor="mentor")
    clock.advance(timedelta(weeks=3))  # six months in active have passed
    assert fire(store, lifecycle, clock, rel, "review").to_phase == "review"
    clock.advance(timedelta(days=3))
    answer_final(store, policy, clock, rel, "mentee")
    answer_final(store, policy, clock, rel, "mentor")
    assert fire(store, lifecycle, clock, rel, "close").to_phase == "closed"


def test_a_pair_goes_through_the_whole_default_lifecycle(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel = import_examples(store, policy, clock)[0]

    _walk_to_closed(store, policy, lifecycle, clock, rel)

    current, entries = queries.history(store, rel)
    assert current.phase == "closed"
    assert current.due_at is None  # a terminal phase is never due again
    moves = [e for e in entries if e.trigger not in RECORD_TRIGGERS]
    assert [(e.trigger, e.from_phase, e.to_phase) for e in moves] == [
        ("create", None, "intake"),
        ("match", "intake", "matched"),
        ("schedule_kickoff", "matched", "kickoff"),
        ("start", "kickoff", "active"),
        ("review", "active", "review"),
        ("close", "review", "closed"),
    ]
    # the kickoff, twelve check-ins, two survey answers and how far the mentee's answer says they got
    # with each of their two goals are recorded in the chain too, in their phase
    recorded = [(e.trigger, e.from_phase, e.to_phase) for e in entries if e.trigger in RECORD_TRIGGERS]
    assert recorded == [
        ("record_meeting", "kickoff", "kickoff"),
        *[("record_meeting", "active", "active")] * 12,
        ("record_survey", "review", "review"),
        *[("goal_progress", "review", "review")] * 2,
        ("record_survey", "review", "review"),
    ]
    assert current.version == 21 and current.audit_seq == 23  # an answer and its levels: one write
    messages = [(row["action"], row["params"]["recipient"]) for row in outbox_rows(store, rel)]  # type: ignore[index]
    assert messages == [
        ("notify_pair", "mentee"),
        ("notify_pair", "mentor"),
        ("enrol_mentor_training", "mentor"),
        ("schedule_kickoff_meeting", "mentee"),
        ("schedule_kickoff_meeting", "mentor"),
        ("send_mentee_guide", "mentee"),
        ("send_survey", "mentee"),
        ("send_survey", "mentor"),
        ("send_survey", "mentee"),
        ("send_survey", "mentor"),
    ]
    assert queries.verify(store).problems == []


def test_review_waits_for_six_months_on_the_clock(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel = import_examples(store, policy, clock)[0]
    fire(store, lifecycle, clock, rel, "match", mentor=TRAINED_MENTOR)
    fire(store, lifecycle, clock, rel, "schedule_kickoff")
    recording.record_meeting(store, policy, clock, rel, "kickoff", None, actor=COORDINATOR)
    fire(store, lifecycle, clock, rel, "start")
    clock.advance(timedelta(days=180))  # 2026-07-04: a day short of six calendar months

    with pytest.raises(RefusedError, match="less than 6 months"):
        fire(store, lifecycle, clock, rel, "review")

    clock.advance(timedelta(days=1))
    assert fire(store, lifecycle, clock, rel, "review").to_phase == "review"


def test_the_audit_entry_records_who_why_and_under_which_policy(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel = import_examples(store, policy, clock)[0]
    fire(store, lifecycle, clock, rel, "match", mentor=TRAINED_MENTOR, actor="ops@example.com")
    clock.advance(timedelta(hours=3))

    returned = fire(store, lifecycle, clock, rel, "close", reason="mentee left the company", actor="hr@x.nl")

    current, entries = queries.history(store, rel)
    closing = entries[-1]
    assert (closing.actor, closing.reason, closing.trigger) == ("hr@x.nl", "mentee left the company", "close")
    assert (closing.from_phase, closing.to_phase, closing.at) == ("matched", "closed", clock.now())
    assert closing.policy_name == "default"
    assert closing.policy_version == policy.digest
    assert closing.data["requires"] == ["reason"]
    assert entries[1].data["mentor"] == TRAINED_MENTOR
    assert returned.hash == closing.hash and returned.seq == closing.seq == 3
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.hash
    for entry in entries:
        assert entry_hash(entry.model_dump()) == entry.hash
    assert current.audit_head == closing.hash
    with store.connect() as conn:
        snapshot = conn.execute(
            select(policy_versions.c.name, policy_versions.c.content).where(
                policy_versions.c.digest == closing.policy_version
            )
        ).one()
    assert snapshot.name == "default" and snapshot.content == policy.normalised()


def test_match_writes_its_outbox_rows_with_the_phase_change(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    first, second = import_examples(store, policy, clock)[:2]

    fire(store, lifecycle, clock, first, "match", mentor=TRAINED_MENTOR)
    fire(store, lifecycle, clock, second, "match", mentor=TRAINED_MENTOR)

    for rel in (first, second):
        rows = outbox_rows(store, rel)
        assert [(r["action"], r["params"]["recipient"]) for r in rows] == [  # type: ignore[index]
            ("notify_pair", "mentee"),
            ("notify_pair", "mentor"),
            ("enrol_mentor_training", "mentor"),
        ]
        assert all(r["status"] == "pending" and r["attempts"] == 0 for r in rows)
        assert all(r["created_at"] == clock.now() and r["params"]["phase"] == "matched" for r in rows)
        assert all(f"rel:{rel}:" in str(r["idempotency_key"]) for r in rows)
    with store.connect() as conn:
        keys = list(conn.execute(select(outbox.c.idempotency_key)).scalars())
    assert len(keys) == 6 and len(set(keys)) == 6


def test_every_outbox_row_of_a_whole_lifecycle_has_its_own_key(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel = import_examples(store, policy, clock)[0]

    _walk_to_closed(store, policy, lifecycle, clock, rel)

    rows = outbox_rows(store, rel)
    surveys = [r["params"]["survey"] for r in rows if r["action"] == "send_survey"]
    assert surveys == ["final", "final", "closing", "closing"]
    assert len({r["idempotency_key"] for r in rows}) == len(rows) == 10


def _refusal_cases() -> list[tuple[str, str, dict[str, str], str]]:
    return [
        ("wrong phase", "start", {}, "not allowed from phase 'intake'"),
        ("unmet requires", "match", {}, "no mentor is assigned"),
        ("unknown trigger", "graduate", {}, "unknown trigger 'graduate'"),
        ("mentee as mentor", "match", {"mentor": A_MENTEE}, "is a mentee, not a mentor"),
        ("close without reason", "close", {"reason": "   "}, "a reason is required"),
    ]


@pytest.mark.parametrize(
    ("trigger", "options", "message"),
    [case[1:] for case in _refusal_cases()],
    ids=[case[0] for case in _refusal_cases()],
)
def test_a_refused_trigger_writes_nothing(
    store: Engine,
    policy: Policy,
    lifecycle: Lifecycle,
    clock: SimulatedClock,
    trigger: str,
    options: dict[str, str],
    message: str,
) -> None:
    rel = import_examples(store, policy, clock)[0]
    before = footprint(store)

    with pytest.raises(RefusedError, match=message):
        fire(store, lifecycle, clock, rel, trigger, **options)

    assert footprint(store) == before


def test_an_untrained_mentor_holds_the_kickoff_back_and_nothing_is_written(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel = import_examples(store, policy, clock)[0]
    fire(store, lifecycle, clock, rel, "match", mentor=UNTRAINED_MENTOR)
    before = footprint(store)

    with pytest.raises(RefusedError, match="the mentor has not finished the mentor training"):
        fire(store, lifecycle, clock, rel, "schedule_kickoff")
    assert footprint(store) == before

    recording.record_training(store, clock, UNTRAINED_MENTOR)
    assert fire(store, lifecycle, clock, rel, "schedule_kickoff").to_phase == "kickoff"


def test_a_mentor_at_capacity_is_refused_and_nothing_is_written(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    first, second = import_examples(store, policy, clock)[1:3]  # Anouk manages Zoë, the first
    fire(store, lifecycle, clock, first, "match", mentor=SINGLE_MENTOR)
    before = footprint(store)

    with pytest.raises(RefusedError, match=r"no places left \(1 of 1 mentees\) \(capacity\)"):
        fire(store, lifecycle, clock, second, "match", mentor=SINGLE_MENTOR)

    assert footprint(store) == before
    fire(store, lifecycle, clock, first, "close", reason="moved abroad")  # a closed pair frees the mentor
    assert fire(store, lifecycle, clock, second, "match", mentor=SINGLE_MENTOR).to_phase == "matched"


def test_unknown_relationship_and_mentor_are_not_found(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel = import_examples(store, policy, clock)[0]
    before = footprint(store)

    with pytest.raises(NotFoundError, match="no relationship 999"):
        fire(store, lifecycle, clock, 999, "match", mentor=TRAINED_MENTOR)
    with pytest.raises(NotFoundError, match=r"no participant 'nobody@example\.com'"):
        fire(store, lifecycle, clock, rel, "match", mentor="nobody@example.com")

    assert footprint(store) == before


def test_a_closed_pair_goes_nowhere(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel = import_examples(store, policy, clock)[0]
    fire(store, lifecycle, clock, rel, "close", reason="withdrew")
    before = footprint(store)

    with pytest.raises(RefusedError, match="none: the phase is terminal"):
        fire(store, lifecycle, clock, rel, "close", reason="again")
    with pytest.raises(RefusedError, match="no meetings can be recorded"):
        recording.record_meeting(store, policy, clock, rel, "check-in", None, actor=COORDINATOR)

    assert footprint(store) == before


def test_advance_many_moves_those_allowed_and_reports_the_refused(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    trained, untrained, unmatched = import_examples(store, policy, clock)[:3]
    fire(store, lifecycle, clock, trained, "match", mentor=TRAINED_MENTOR)
    fire(store, lifecycle, clock, untrained, "match", mentor=UNTRAINED_MENTOR)
    clock.advance(timedelta(hours=1))
    before = footprint(store)

    result = services.advance_many(
        store, lifecycle, clock, [trained, untrained, unmatched, 999], "schedule_kickoff", actor="tick"
    )

    assert result.moved == [trained]
    assert set(result.refused) == {untrained, unmatched, 999}
    assert "mentor has not finished the mentor training" in result.refused[untrained]
    assert "not allowed from phase 'intake'" in result.refused[unmatched]
    assert result.refused[999] == "no such relationship"
    after = footprint(store)
    assert after.versions == {**before.versions, trained: before.versions[trained] + 1}
    assert after.audit == before.audit + 1
    assert after.outbox == before.outbox + 3  # schedule_kickoff_meeting to both, send_mentee_guide
    _, entries = queries.history(store, trained)
    assert (entries[-1].actor, entries[-1].trigger, entries[-1].to_phase) == (
        "tick",
        "schedule_kickoff",
        "kickoff",
    )
    assert queries.verify(store).problems == []


def test_advance_many_closes_a_batch_with_one_reason(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rels = import_examples(store, policy, clock)

    result = services.advance_many(
        store, lifecycle, clock, rels, "close", actor="coordinator", reason="program cancelled"
    )

    assert sorted(result.moved) == sorted(rels) and result.refused == {}
    with store.connect() as conn:
        phases = set(conn.execute(select(relationships.c.phase)).scalars())
    assert phases == {"closed"}
    assert all(queries.history(store, r)[1][-1].reason == "program cancelled" for r in rels)
    assert queries.verify(store).problems == []


def test_advance_many_that_moves_nothing_writes_nothing(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rels = import_examples(store, policy, clock)
    before = footprint(store)

    result = services.advance_many(store, lifecycle, clock, rels, "start", actor="tick")

    assert result.moved == [] and set(result.refused) == set(rels)
    assert footprint(store) == before


def test_an_action_listed_twice_writes_two_outbox_rows(store: Engine, clock: SimulatedClock) -> None:
    text = shipped_policies()["default"].read_text("utf-8")
    two_surveys = text.replace(
        "on_enter: [{send_survey: final}]", "on_enter: [{send_survey: final}, {send_survey: mentor_feedback}]"
    ) + (
        "surveys:\n  mentor_feedback:\n    title: Your mentor\n"
        '    questions: [{id: satisfaction, type: scale, text: "How good a mentor was your mentor?"}]\n'
    )
    policy = load_policy_text(two_surveys, "two-surveys.yaml")
    lifecycle = Lifecycle(policy)
    rel = import_examples(store, policy, clock)[0]
    fire(store, lifecycle, clock, rel, "match", mentor=TRAINED_MENTOR)
    fire(store, lifecycle, clock, rel, "schedule_kickoff")
    recording.record_meeting(store, policy, clock, rel, "kickoff", None, actor=COORDINATOR)
    fire(store, lifecycle, clock, rel, "start")
    clock.advance(timedelta(days=200))

    fire(store, lifecycle, clock, rel, "review")

    surveys = [r for r in outbox_rows(store, rel) if r["action"] == "send_survey"]
    assert [r["params"]["survey"] for r in surveys] == [
        "final",
        "final",
        "mentor_feedback",
        "mentor_feedback",
    ]
    assert len({r["idempotency_key"] for r in surveys}) == 4


def test_goals_set_counts_the_development_goals_of_the_mentees_profile(
    store: Engine, clock: SimulatedClock
) -> None:
    def needing(goals: int) -> Lifecycle:
        text = shipped_policies()["default"].read_text("utf-8")
        required = f"requires: [mentor_assigned, {{goals_set: {{at_least: {goals}}}}}]}}"
        return Lifecycle(
            load_policy_text(text.replace("requires: [mentor_assigned]}", required), "goals.yaml")
        )

    first, second = import_examples(store, needing(3).policy, clock)[:2]  # each mentee names two goals

    result = services.advance_many(
        store, needing(3), clock, [first, second], "match", actor="coordinator", mentors={first: 4, second: 1}
    )

    assert result.moved == []
    assert result.refused[first].endswith("2 development goal(s) set, at least 3 required")
    moved = services.advance_many(
        store, needing(2), clock, [first], "match", actor="coordinator", mentors={first: 4}
    )
    assert moved.moved == [first]


def test_a_batch_reads_only_the_facts_its_trigger_needs(lifecycle: Lifecycle) -> None:
    assert lifecycle.reads("match") == frozenset()
    assert lifecycle.reads("schedule_kickoff") == {"training"}
    assert lifecycle.reads("start") == {"meetings"}
    assert lifecycle.reads("close") == {"surveys"}  # from review; the early close needs only a reason
