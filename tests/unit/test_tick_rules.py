"""The tick's decision for one relationship, without a store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.domain.cadence import HEARTBEAT
from engine.domain.lifecycle import Lifecycle
from engine.domain.ticking import decide, next_moment
from engine.policy.model import load_policy, shipped_policies
from engine.policy.vocabulary import Facts
from engine.store.relationships import RelationshipRow

START = datetime(2026, 3, 2, 9, tzinfo=UTC)
DEFAULT = Lifecycle(load_policy(shipped_policies()["default"]))
BUDDY = Lifecycle(load_policy(shipped_policies()["onboarding-buddy"]))


def row(phase: str, entered: datetime = START, mentor: int | None = 7) -> RelationshipRow:
    return RelationshipRow(41, mentor, phase, entered, 3, 4, "h" * 64, "default")


def facts(now: datetime, entered: datetime = START, **known: object) -> Facts:
    return Facts(now=now, phase_entered_at=entered, mentor_id=7, **known)  # type: ignore[arg-type]


def test_an_auto_transition_whose_conditions_hold_fires() -> None:
    decision = decide(DEFAULT, row("matched"), facts(START, mentor_trained=True), None)
    assert decision.move is not None and decision.move.dest == "kickoff"
    assert decision.cause is not None and decision.cause.data["auto"] is True
    assert decision.notices == []


def test_an_operator_transition_is_never_fired_by_the_tick() -> None:
    # `close` from review with a reason is the operator's; the auto close needs the survey
    decision = decide(DEFAULT, row("review"), facts(START + timedelta(days=1), reason="x"), None)
    assert decision.move is None


def test_a_passed_deadline_escalates_once_per_phase_entry() -> None:
    now = START + timedelta(days=15)
    decision = decide(DEFAULT, row("matched"), facts(now), None)
    assert decision.move is None
    assert [(n.action, n.recipient, n.key) for n in decision.notices] == [
        ("escalate", "coordinator", "rel:41:entry:4:deadline:escalate:coordinator")
    ]
    # nothing more is scheduled: recording the training makes it due; until then a weekly look
    assert decision.due_at == now + HEARTBEAT


def test_silence_in_active_is_reminded_then_escalated() -> None:
    three_weeks = decide(DEFAULT, row("active"), facts(START + timedelta(weeks=3)), None)
    assert {(n.action, n.recipient) for n in three_weeks.notices} == {
        ("remind", "mentee"),
        ("remind", "mentor"),
    }
    assert three_weeks.due_at == START + timedelta(weeks=6)
    six_weeks = decide(DEFAULT, row("active"), facts(START + timedelta(weeks=6)), None)
    assert ("escalate", "coordinator") in {(n.action, n.recipient) for n in six_weeks.notices}


def test_a_meeting_restarts_the_silence() -> None:
    met = START + timedelta(weeks=2)
    decision = decide(DEFAULT, row("active"), facts(START + timedelta(weeks=3)), met)
    assert decision.notices == []
    assert decision.due_at == met + timedelta(weeks=3)


def test_a_deadline_can_fire_a_trigger() -> None:
    decision = decide(BUDDY, row("review"), facts(START + timedelta(days=8)), None)
    assert decision.move is not None and decision.move.dest == "closed"
    assert decision.cause is not None and "deadline" in (decision.cause.reason or "")


def test_the_next_moment_is_always_later_than_now() -> None:
    for days in range(0, 400, 7):
        now = START + timedelta(days=days)
        due = next_moment(DEFAULT.policy, row("active"), None, now)
        assert due is not None and due > now
