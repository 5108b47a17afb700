"""The pure rules: when a relationship is next due, and what is overdue at a moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.domain.cadence import Overdue, Standing, next_due, overdue
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
        Overdue("deadline", "intake", at, "escalate")
    ]


def test_a_remind_deadline_says_remind(default: Policy) -> None:
    at = ENTERED + timedelta(days=10)

    assert overdue(default, Standing("kickoff", ENTERED), at + timedelta(days=1)) == [
        Overdue("deadline", "kickoff", at, "remind")
    ]


def test_a_deadline_that_fires_a_trigger_says_so(buddy: Policy) -> None:
    items = overdue(buddy, Standing("review", ENTERED), ENTERED + timedelta(days=8))

    assert [(i.kind, i.action) for i in items] == [("deadline", "fire close")]


def test_silence_in_active_is_reminded_then_escalated(default: Policy) -> None:
    standing = Standing("active", ENTERED)

    assert overdue(default, standing, ENTERED + timedelta(weeks=3, seconds=-1)) == []
    assert overdue(default, standing, ENTERED + timedelta(weeks=3)) == [
        Overdue("check-in", "active", ENTERED + timedelta(weeks=3), "remind")
    ]
    assert overdue(default, standing, ENTERED + timedelta(weeks=7)) == [
        Overdue("check-in", "active", ENTERED + timedelta(weeks=6), "escalate")
    ]


def test_a_recent_meeting_means_nothing_is_overdue(default: Policy) -> None:
    now = ENTERED + timedelta(weeks=10)

    assert overdue(default, Standing("active", ENTERED, now - timedelta(days=3)), now) == []


def test_a_closed_pair_or_an_unknown_phase_is_never_overdue(default: Policy) -> None:
    far = ENTERED + timedelta(days=3650)

    assert overdue(default, Standing("closed", ENTERED), far) == []
    assert overdue(default, Standing("paused", ENTERED), far) == []


def test_overdue_items_describe_themselves_for_an_operator() -> None:
    item = Overdue("check-in", "active", ENTERED, "escalate")

    assert item.describe() == "active: no meeting logged since 2026-01-05 (escalate)"
    assert Overdue("deadline", "intake", ENTERED, "remind").describe() == (
        "intake: phase deadline passed since 2026-01-05 (remind)"
    )
