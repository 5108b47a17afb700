"""The state of each personal link a pair's messages carried: pure, over rows made up here."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.delivery.links import LINK_LIFETIME
from engine.delivery.messages import OutboxRow
from engine.domain.relationships import AuditEntry
from engine.policy.durations import Duration
from engine.services.link_states import (
    STATES,
    LinkState,
    MentorChange,
    Message,
    PairFacts,
    link_states,
    stays_and_changes,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MENTEE, MENTOR, FORMER = 1, 2, 3
PEOPLE = {
    MENTEE: ("Priya Raman", False),
    MENTOR: ("Marieke de Vries", True),
    FORMER: ("Søren Ødegaard", False),
}
FACTS = PairFacts(MENTEE, MENTOR, False, PEOPLE, stays=[(1, T0 - timedelta(days=200)), (5, T0)])


def _sent(
    action: str, params: dict[str, Any], *, at: datetime = T0, seq: int = 5, to: tuple[str, ...] = ("mentee",)
) -> Message:
    row = OutboxRow(10 + seq, 7, f"rel:7:entry:{seq}:{action}", action, params, at)
    return Message(row, "delivered", frozenset(to))


SURVEY = _sent("send_survey", {"survey": "final", "recipient": "mentee"})


def _states(*messages: Message, facts: PairFacts = FACTS, now: datetime = T0, **kw: Any) -> list[LinkState]:
    return link_states(list(messages), facts, now, **kw)


def _by(states: list[LinkState]) -> dict[tuple[str, str], str]:
    return {(s.role, s.purpose): s.state for s in states}


def test_a_survey_message_carries_a_survey_and_a_help_link_that_open_for_the_lifetime() -> None:
    states = _states(SURVEY)
    assert [(s.role, s.purpose, s.name, s.participant_id) for s in states] == [
        ("mentee", "survey", "Priya Raman", MENTEE),
        ("mentee", "help", "Priya Raman", MENTEE),
    ]
    assert {s.state for s in states} == {"opens"} and set(STATES) >= {s.state for s in states}
    assert all(s.issued_at == T0 and s.expires_at == T0 + LINK_LIFETIME for s in states)


def test_a_survey_answered_by_that_respondent_in_that_stay_is_used() -> None:
    answered = replace(FACTS, answers=[("final", "mentee", T0 + timedelta(days=2), 6)])
    assert _by(_states(SURVEY, facts=answered)) == {("mentee", "survey"): "used", ("mentee", "help"): "opens"}
    other = [
        ("final", "mentor", T0 + timedelta(days=2), 6),  # the other respondent
        ("pulse", "mentee", T0 + timedelta(days=2), 6),  # another survey
        ("final", "mentee", T0 - timedelta(days=100), 3),  # an earlier stay
    ]
    assert _by(_states(SURVEY, facts=replace(FACTS, answers=other)))[("mentee", "survey")] == "opens"
    later_stay = replace(FACTS, stays=[*FACTS.stays, (9, T0 + timedelta(days=1))])
    answers = [("final", "mentee", T0 + timedelta(days=2), 10)]  # answered after the pair moved on
    assert _by(_states(SURVEY, facts=replace(later_stay, answers=answers)))[("mentee", "survey")] == "opens"


def test_a_stay_is_told_by_the_entries_order_when_the_clock_stood_still() -> None:
    still = replace(FACTS, stays=[(1, T0), (5, T0), (9, T0)], answers=[("final", "mentee", T0, 6)])
    assert _by(_states(SURVEY, facts=still))[("mentee", "survey")] == "used"
    after = replace(still, answers=[("final", "mentee", T0, 10)])
    assert _by(_states(SURVEY, facts=after))[("mentee", "survey")] == "opens"


def test_a_revocation_at_or_after_the_issue_of_the_pair_or_the_person_revokes() -> None:
    for facts in (
        replace(FACTS, revoked_pair=T0),
        replace(FACTS, revoked_people={MENTEE: T0 + timedelta(days=1)}),
    ):
        assert {s.state for s in _states(SURVEY, facts=facts, now=T0 + timedelta(days=2))} == {"revoked"}
    earlier = replace(FACTS, revoked_pair=T0 - timedelta(seconds=1), revoked_people={MENTOR: T0})
    assert {s.state for s in _states(SURVEY, facts=earlier)} == {"opens"}


def test_a_link_expires_after_the_lifetime_given() -> None:
    at_the_end = T0 + LINK_LIFETIME
    assert {s.state for s in _states(SURVEY, now=at_the_end)} == {"opens"}
    assert {s.state for s in _states(SURVEY, now=at_the_end + timedelta(seconds=1))} == {"expired"}
    week = _states(SURVEY, now=T0 + timedelta(days=8), lifetime=timedelta(days=7))
    assert {s.state for s in week} == {"expired"} and week[0].expires_at == T0 + timedelta(days=7)
    month = _states(SURVEY, now=T0 + timedelta(days=20), lifetime=Duration(months=1))
    assert {s.state for s in month} == {"opens"} and month[0].expires_at == datetime(
        2026, 4, 2, 9, tzinfo=UTC
    )
    assert {s.state for s in _states(SURVEY, facts=replace(FACTS, revoked_pair=T0), now=month[0].expires_at
                                     + timedelta(days=1))} == {"revoked"}  # fmt: skip


def test_a_closed_pair_shows_its_open_links_as_closed_but_its_closing_survey_opens() -> None:
    closed = replace(FACTS, closed=True, answers=[("final", "mentee", T0, 6)])
    assert _by(_states(SURVEY, facts=closed)) == {
        ("mentee", "survey"): "used",
        ("mentee", "help"): "pair closed",
    }
    review = replace(closed, stays=[*FACTS.stays, (9, T0 + timedelta(days=1))], answers=[])
    closing = _sent(
        "send_survey", {"survey": "closing", "recipient": "mentee"}, at=T0 + timedelta(days=1), seq=9
    )
    states = _states(SURVEY, closing, facts=review, now=closing.row.created_at)
    assert [(s.outbox_id, s.purpose, s.state) for s in states] == [
        (SURVEY.row.id, "survey", "pair closed"),  # sent in the stay before: no longer answered
        (SURVEY.row.id, "help", "pair closed"),
        (closing.row.id, "survey", "opens"),  # the closing survey, sent on entering the terminal phase
        (closing.row.id, "help", "pair closed"),
    ]


def test_kickoff_training_and_meeting_links() -> None:
    kickoff = _sent("schedule_kickoff_meeting", {}, to=("mentee", "mentor"))
    training = _sent("enrol_mentor_training", {}, to=("mentor",))
    check_in = _sent("remind", {"kind": "check-in"}, to=("mentee",))
    untrained = replace(FACTS, people={**PEOPLE, MENTOR: ("Marieke de Vries", False)})
    before = _by(_states(kickoff, training, check_in, facts=untrained))
    assert (
        before[("mentee", "kickoff")]
        == before[("mentor", "training")]
        == before[("mentee", "meeting")]
        == "opens"
    )
    met = [
        ("kickoff", T0 + timedelta(days=1)),
        ("check-in", T0 - timedelta(days=1)),
        ("check-in", T0 + timedelta(days=3)),
    ]
    states = _states(kickoff, training, check_in, facts=replace(FACTS, meetings=met))
    after = _by(states)
    assert (
        after[("mentee", "kickoff")]
        == after[("mentor", "kickoff")]
        == after[("mentor", "training")]
        == "used"
    )
    meeting = next(s for s in states if s.purpose == "meeting")
    assert (
        meeting.state == "opens" and meeting.meetings_since == 1
    )  # the kickoff and the earlier one not counted
    assert all(s.meetings_since is None for s in states if s.purpose != "meeting")


def test_a_mentor_link_made_before_a_replacement_is_for_the_former_mentor() -> None:
    change = MentorChange(T0 + timedelta(days=1), 8, FORMER, MENTOR)
    facts = replace(FACTS, changes=[change])
    old = _sent("notify_pair", {}, to=("mentor",))
    new = _sent("notify_pair", {"recipient": "mentor"}, at=change.at, seq=8, to=("mentor",))
    states = _states(old, new, facts=facts, now=change.at)
    assert [(s.outbox_id, s.name, s.state) for s in states if s.purpose == "help"] == [
        (old.row.id, "Søren Ødegaard", "replaced"),
        (new.row.id, "Marieke de Vries", "opens"),
    ]
    revoked = replace(facts, revoked_people={FORMER: change.at})  # the former mentor's own revocation
    assert [s.state for s in _states(old, new, facts=revoked, now=change.at)] == ["revoked", "opens"]


def test_only_what_reached_a_mentee_or_mentor_carries_links() -> None:
    pending = replace(SURVEY, status="pending", reached=frozenset())
    coordinator = _sent("escalate", {}, to=("coordinator",))
    assert _states(pending, coordinator) == []
    old_delivery = replace(_sent("notify_pair", {}, to=()), status="delivered")  # before deliveries were kept
    assert [(s.role, s.purpose) for s in _states(old_delivery)] == [("mentee", "help"), ("mentor", "help")]


def test_stays_and_replacements_are_read_from_the_entries() -> None:
    def entry(seq: int, trigger: str, data: dict[str, Any]) -> AuditEntry:
        return AuditEntry(
            id=seq, relationship_id=7, seq=seq, at=T0 + timedelta(days=seq), actor="x", trigger=trigger,
            from_phase="active", to_phase="active", reason=None, policy_name="default", policy_version="1",
            data=data, prev_hash="0" * 64, hash="f" * 64,
        )  # fmt: skip

    entries = [
        entry(1, "create", {}),
        entry(2, "record_meeting", {}),
        entry(3, "replace_mentor", {"old_mentor_id": FORMER, "mentor_id": MENTOR}),
        entry(4, "review", {}),
    ]
    stays, changes = stays_and_changes(entries)
    assert stays == [(1, T0 + timedelta(days=1)), (4, T0 + timedelta(days=4))]
    assert changes == [MentorChange(T0 + timedelta(days=3), 3, FORMER, MENTOR)]
