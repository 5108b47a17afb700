"""When surveys go out and are reminded: the tick's decision for one pair, without a store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.domain.lifecycle import Lifecycle
from engine.domain.surveys import answered_in_stay, respondents_done, sent_in_stay
from engine.domain.ticking import decide, next_moment
from engine.policy.model import load_policy, load_policy_text, shipped_policies
from engine.policy.vocabulary import Facts
from engine.store.relationships import RelationshipRow

ENTERED = datetime(2026, 7, 6, 9, tzinfo=UTC)
WEEK, DAY = timedelta(weeks=1), timedelta(days=1)
# review never closes itself here, so the tick's decision is about the survey alone
_TEXT = (
    shipped_policies()["default"]
    .read_text("utf-8")
    .replace("[survey_complete], auto: true}", "[survey_complete]}")
)
REVIEW = Lifecycle(load_policy_text(_TEXT, "review.yaml"))
BUDDY = Lifecycle(load_policy(shipped_policies()["onboarding-buddy"]))  # a pulse 4 weeks into active


def row(phase: str = "review", mentor: int | None = 7, seq: int = 9) -> RelationshipRow:
    return RelationshipRow(41, mentor, phase, ENTERED, 3, seq, "h" * 64, "default")


def facts(now: datetime) -> Facts:
    return Facts(now=now, phase_entered_at=ENTERED, mentor_id=7)


def _notices(lifecycle: Lifecycle, now: datetime, **kwargs: object) -> list[tuple[str, str, str]]:
    decision = decide(lifecycle, kwargs.pop("rel", row()), facts(now), None, **kwargs)  # type: ignore[arg-type]
    return [(n.action, n.recipient, n.key) for n in decision.notices if "survey" in n.action]


def test_each_reminder_goes_once_to_each_who_has_not_answered_keyed_by_the_stay() -> None:
    assert _notices(REVIEW, ENTERED + WEEK - DAY) == []
    answered = [("final", "mentee", ENTERED + DAY)]
    assert _notices(REVIEW, ENTERED + WEEK, stay=5, answers=answered) == [
        ("survey_reminder", "mentor", "rel:41:entry:5:survey_reminder:final:1:mentor")
    ]
    assert _notices(REVIEW, ENTERED + 2 * WEEK, stay=5, answers=[]) == [
        ("survey_reminder", "mentee", "rel:41:entry:5:survey_reminder:final:2:mentee"),
        ("survey_reminder", "mentor", "rel:41:entry:5:survey_reminder:final:2:mentor"),
    ]
    # the policy says twice: a tick weeks later still names the second, already sent
    later = _notices(REVIEW, ENTERED + 9 * WEEK, stay=5, answers=[])
    assert {key for _, _, key in later} == {
        "rel:41:entry:5:survey_reminder:final:2:mentee",
        "rel:41:entry:5:survey_reminder:final:2:mentor",
    }


def test_the_pair_is_due_at_the_next_reminder_and_not_after_both_answered() -> None:
    policy = REVIEW.policy
    assert next_moment(policy, row(), None, ENTERED, {}) == ENTERED + WEEK
    assert next_moment(policy, row(), None, ENTERED + WEEK, {}) == ENTERED + 2 * WEEK
    both = answered_in_stay([("final", "mentee", ENTERED + DAY), ("final", "mentor", ENTERED + DAY)])
    assert next_moment(policy, row(), None, ENTERED + WEEK, both) == ENTERED + 2 * WEEK  # the deadline
    assert next_moment(policy, row(), None, ENTERED + 2 * WEEK, both) == ENTERED + 3 * WEEK  # a weekly look


def test_a_timed_pulse_is_sent_once_it_is_time_and_only_to_the_mentee_of_a_pair_without_a_mentor() -> None:
    assert _notices(BUDDY, ENTERED + 4 * WEEK - DAY, rel=row("active")) == []
    assert (
        next_moment(BUDDY.policy, row("active"), ENTERED + 3 * WEEK, ENTERED + 3 * WEEK) == ENTERED + 4 * WEEK
    )
    sent = [(a, who) for a, who, _ in _notices(BUDDY, ENTERED + 4 * WEEK, rel=row("active", seq=12))]
    assert sent == [("send_survey", "mentee"), ("send_survey", "mentor")]
    alone = _notices(BUDDY, ENTERED + 5 * WEEK, rel=row("active", mentor=None))
    assert [(a, who) for a, who, _ in alone] == [("send_survey", "mentee"), ("survey_reminder", "mentee")]


def test_what_was_sent_in_a_stay_and_who_completed_the_phase_survey() -> None:
    plans = BUDDY.policy.survey_plans
    assert sent_in_stay(plans["active"], ENTERED, ENTERED + 4 * WEEK - DAY) == {}
    assert sent_in_stay(plans["active"], ENTERED, ENTERED + 4 * WEEK) == {"pulse": ENTERED + 4 * WEEK}
    assert sent_in_stay(plans["review"], ENTERED, ENTERED) == {"onboarding": ENTERED}
    rows = [("onboarding", "mentee", ENTERED), ("pulse", "mentor", ENTERED)]
    assert respondents_done(plans["review"], rows) == frozenset(
        {"mentee"}
    )  # the pulse is not review's survey
    assert respondents_done((), rows) == frozenset(
        {"mentee", "mentor"}
    )  # a phase that sends none: any survey
