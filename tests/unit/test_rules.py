"""The pure rules: when a relationship is next due, and what is overdue at a moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.domain.cadence import Overdue, Standing, next_due, next_moment, overdue
from engine.policy.model import Policy, load_policy, load_policy_text, shipped_policies

ENTERED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def default() -> Policy:
    return load_policy(shipped_policies()["default"])


@pytest.fixture(scope="module")
def buddy() -> Policy:
    """onboarding-buddy without its surveys (its pulse, four weeks into active, would come first)."""
    text = shipped_policies()["onboarding-buddy"].read_text("utf-8")
    return load_policy_text(
        text[: text.index("\nsurveys:")].replace("send_survey: onboarding", "send_survey: final"), "b.yaml"
    )


@pytest.mark.parametrize(
    ("phase", "due"),
    [
        ("intake", ENTERED + timedelta(days=21)),  # the deadline: no auto transition leaves intake
        ("matched", ENTERED),  # schedule_kickoff is auto: look again at once
        ("kickoff", ENTERED),  # start is auto
        ("active", ENTERED + timedelta(weeks=3)),  # remind_after comes before the six months
        ("review", ENTERED),  # close is auto
        ("closed", None),  # terminal: never due
    ],
)
def test_next_due_of_each_default_phase(default: Policy, phase: str, due: datetime | None) -> None:
    assert next_due(default, Standing(phase, ENTERED)) == due


def test_a_meeting_in_active_moves_the_next_reminder(default: Policy) -> None:
    met = ENTERED + timedelta(days=10)

    assert next_due(default, Standing("active", ENTERED, met)) == met + timedelta(weeks=3)


def test_a_timed_survey_and_a_first_survey_reminder_are_moments_too() -> None:
    text = shipped_policies()["onboarding-buddy"].read_text("utf-8")
    buddy = load_policy_text(
        text, "onboarding-buddy.yaml"
    )  # pulse 4 weeks into active; review reminds after 3 days
    met = ENTERED + timedelta(weeks=3)

    assert next_due(buddy, Standing("active", ENTERED, met)) == ENTERED + timedelta(weeks=4)
    assert next_due(buddy, Standing("review", ENTERED)) == ENTERED + timedelta(days=3)


def test_a_meeting_before_the_phase_began_does_not_count(default: Policy) -> None:
    before = ENTERED - timedelta(days=10)

    assert next_due(default, Standing("active", ENTERED, before)) == ENTERED + timedelta(weeks=3)


def test_a_program_duration_is_counted_in_calendar_months(buddy: Policy) -> None:
    # onboarding-buddy active: remind after 10 days, review after 3 months; a meeting keeps reminders away.
    entered = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    weekly = [entered + timedelta(days=7 * n) for n in range(1, 14)]

    due = next_due(buddy, Standing("active", entered, weekly[-1]))

    assert due == datetime(2027, 2, 28, 12, 0, tzinfo=UTC)  # 30 November + 3 months, clamped to February


def test_nothing_is_overdue_before_the_deadline(default: Policy) -> None:
    assert overdue(default, Standing("intake", ENTERED), ENTERED + timedelta(days=21, seconds=-1)) == []


def test_the_deadline_is_overdue_from_the_moment_it_passes(default: Policy) -> None:
    at = ENTERED + timedelta(days=21)

    assert overdue(default, Standing("intake", ENTERED), at) == [
        Overdue("deadline", "intake", ENTERED, at, "escalate")
    ]


def test_a_remind_deadline_says_remind(default: Policy) -> None:
    at = ENTERED + timedelta(days=10)

    assert overdue(default, Standing("kickoff", ENTERED), at + timedelta(days=1)) == [
        Overdue("deadline", "kickoff", ENTERED, at, "remind")
    ]


def test_a_deadline_that_fires_a_trigger_says_so(buddy: Policy) -> None:
    items = overdue(buddy, Standing("review", ENTERED), ENTERED + timedelta(days=8))

    assert [(i.kind, i.action) for i in items] == [("deadline", "fire close")]


def test_silence_in_active_is_reminded_then_escalated_since_the_entry(default: Policy) -> None:
    standing = Standing("active", ENTERED)

    assert overdue(default, standing, ENTERED + timedelta(weeks=3, seconds=-1)) == []
    assert overdue(default, standing, ENTERED + timedelta(weeks=3)) == [
        Overdue("check-in", "active", ENTERED, ENTERED + timedelta(weeks=3), "remind")
    ]
    assert overdue(default, standing, ENTERED + timedelta(weeks=7)) == [
        Overdue("check-in", "active", ENTERED, ENTERED + timedelta(weeks=6), "escalate")
    ]


def test_an_overdue_check_in_is_since_the_last_meeting_and_due_remind_after_it(default: Policy) -> None:
    met = ENTERED + timedelta(days=10)
    standing = Standing("active", ENTERED, met)

    assert overdue(default, standing, met + timedelta(weeks=3, days=1)) == [
        Overdue("check-in", "active", met, met + timedelta(weeks=3), "remind")
    ]
    before = Standing("active", ENTERED, ENTERED - timedelta(days=2))  # a meeting of an earlier phase
    assert [o.since for o in overdue(default, before, ENTERED + timedelta(weeks=4))] == [ENTERED]


def test_a_recent_meeting_means_nothing_is_overdue(default: Policy) -> None:
    now = ENTERED + timedelta(weeks=10)

    assert overdue(default, Standing("active", ENTERED, now - timedelta(days=3)), now) == []


def test_a_closed_pair_or_an_unknown_phase_is_never_overdue(default: Policy) -> None:
    far = ENTERED + timedelta(days=3650)

    assert overdue(default, Standing("closed", ENTERED), far) == []
    assert overdue(default, Standing("paused", ENTERED), far) == []


def test_overdue_items_describe_themselves_for_an_operator() -> None:
    item = Overdue("check-in", "active", ENTERED, ENTERED + timedelta(weeks=6), "escalate")

    assert (
        item.describe() == "active: no meeting logged since 2026-01-05, overdue since 2026-02-16 (escalate)"
    )
    assert Overdue("deadline", "intake", ENTERED, ENTERED + timedelta(days=21), "remind").describe() == (
        "intake: in the phase since 2026-01-05, deadline passed 2026-01-26 (remind)"
    )


@pytest.mark.parametrize("name", sorted(shipped_policies()))
def test_next_due_at_entry_is_at_once_or_the_next_moment_seen_from_the_entry(name: str) -> None:
    """One rule for both: a fresh stay is looked at once if an auto transition without ``after:`` may leave
    it, else at the next moment seen from its entry."""
    policy = load_policy(shipped_policies()[name])
    for phase in (p for p, spec in policy.phases.items() if not spec.terminal):
        at_once = any(e.source == phase and e.auto and e.after is None for e in policy.edges)
        for met in (None, ENTERED + timedelta(days=4)):
            standing = Standing(phase, ENTERED, met)
            expected = ENTERED if at_once else next_moment(policy, standing, ENTERED)
            assert next_due(policy, standing) == expected, (phase, met)
