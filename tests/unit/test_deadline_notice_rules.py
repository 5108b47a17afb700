"""Who a deadline notice goes to, and the "since" it carries: the pure rule in engine.domain.ticking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.domain.audit import iso
from engine.domain.lifecycle import Lifecycle
from engine.domain.ticking import decide, surveyed
from engine.policy.model import load_policy, shipped_policies
from engine.policy.vocabulary import Facts
from engine.store.relationships import RelationshipRow

START = datetime(2026, 3, 2, 9, tzinfo=UTC)
DEFAULT = Lifecycle(load_policy(shipped_policies()["default"]))
LATER = START + timedelta(days=15)  # past the review deadline (14 days, remind)


def _review(answers: list[tuple[str, str, datetime]]) -> list[tuple[str, str, object]]:
    row = RelationshipRow(41, 7, "review", START, 3, 4, "h" * 64, "default")
    decision = decide(
        DEFAULT, row, Facts(now=LATER, phase_entered_at=START, mentor_id=7), None, answers=answers
    )
    return [(n.recipient, n.key, n.params["since"]) for n in decision.notices if n.action == "remind"]


def test_a_deadline_reminder_carries_the_entry_into_the_phase_and_its_key_is_unchanged() -> None:
    assert _review([]) == [
        ("mentee", "rel:41:entry:4:deadline:remind:mentee", iso(START)),
        ("mentor", "rel:41:entry:4:deadline:remind:mentor", iso(START)),
    ]


def test_who_answered_the_phase_survey_gets_no_deadline_reminder() -> None:
    assert [who for who, _, _ in _review([("final", "mentor", START + timedelta(days=2))])] == ["mentee"]
    both = [("final", "mentor", START + timedelta(days=2)), ("final", "mentee", START + timedelta(days=3))]
    assert _review(both) == []


def test_an_answer_to_another_survey_does_not_count() -> None:
    assert [who for who, _, _ in _review([("pulse", "mentor", START + timedelta(days=2))])] == [
        "mentee",
        "mentor",
    ]


def test_nobody_has_answered_a_survey_not_sent_yet() -> None:
    plans = DEFAULT.policy.survey_plans["review"]
    assert surveyed(plans, START, START - timedelta(seconds=1), {"final": {"mentor": START}}) == frozenset()
    assert surveyed(plans, START, LATER, {"final": {"mentor": START}}) == {"mentor"}
    assert surveyed((), START, LATER, {"final": {"mentor": START}}) == frozenset()
