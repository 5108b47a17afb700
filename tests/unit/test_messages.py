"""Message texts: every action renders in English and Dutch for each of its recipients, strictly."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from engine.delivery.channels import ProgramInfo
from engine.delivery.messages import (
    IMPLIED_RECIPIENTS,
    LANGUAGES,
    RECIPIENTS,
    ComposeError,
    Contact,
    OutboxRow,
    Pair,
    compose,
    event_key,
    language_for,
    message_key,
    recipients,
    render,
    skip_reason,
    template_context,
)
from engine.policy.vocabulary import ACTIONS, NOTICES

WRITTEN = datetime(2026, 1, 9, 16, 0, tzinfo=UTC)  # a Friday
TEMPLATES = Path(__file__).parents[2] / "engine" / "delivery" / "templates"
PARAMS: dict[str, list[dict[str, Any]]] = {
    "send_survey": [{"survey": "final"}, {"survey": "closing"}, {"survey": "midway"}],
    "remind": [
        {"kind": "check-in", "since": "2026-01-02T09:00:00+00:00"},
        *({"kind": "deadline", "phase": phase} for phase in ("matched", "kickoff", "review", "paused")),
        {},
    ],
    "escalate": [{"kind": "check-in", "since": "2026-01-02T09:00:00Z"}, {"kind": "deadline"}, {}],
    "survey_reminder": [
        {"survey": "final", "reminder": 1, "times": 2, "since": "2026-01-02T09:00:00Z"},
        {"survey": "pulse"},
        {"survey": "midway", "since": "2026-01-02T09:00:00Z"},
    ],
}


def program(language: str = "en") -> ProgramInfo:
    return ProgramInfo(
        "Mentorprogramma", "Marieke de Vries", "mentoring@example.com", language, "Europe/Amsterdam"
    )


def pair(language: str = "en", *, mentor: bool = True) -> Pair:
    mentee = Contact("Zoë Çelik", "zoe.celik@example.com", (language,))
    coach = Contact("Jeroen van den Bergh", "jeroen@example.com", (language, "en")) if mentor else None
    return Pair(mentee, coach, "active")


def row(action: str, params: dict[str, Any] | None = None, key: str | None = None) -> OutboxRow:
    return OutboxRow(
        1, 7, key or f"rel:7:entry:3:{action}", action, {"phase": "active", **(params or {})}, WRITTEN
    )


def test_every_action_has_texts_in_every_language_and_recipients_we_can_address() -> None:
    for language in LANGUAGES:
        names = {path.stem for path in (TEMPLATES / language).glob("*.j2") if not path.stem.startswith("_")}
        assert names == set(ACTIONS) | set(NOTICES) == set(IMPLIED_RECIPIENTS), language
    assert all(who and set(who) <= set(RECIPIENTS) for who in IMPLIED_RECIPIENTS.values())


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("action", sorted({**ACTIONS, **NOTICES}))
def test_every_action_renders_for_each_recipient_and_parameter(action: str, language: str) -> None:
    for params in PARAMS.get(action, [{}]):
        for message in compose(row(action, params), pair(language), program(language)):
            assert message.language == language
            assert message.subject and "\n" not in message.subject
            assert "{{" not in message.body and "{%" not in message.body and "None" not in message.body
            assert message.body.endswith("\n") and "\n\n\n" not in message.body
            greeting = {"en": ("Hi ", "Hello,"), "nl": ("Hoi ", "Hallo,")}[language]
            assert message.body.startswith(greeting)


def test_a_pair_without_a_mentor_still_gets_what_does_not_need_one() -> None:
    for action in ("send_mentee_guide", "remind", "send_survey", "notify_coordinator", "escalate"):
        messages = compose(row(action, {"survey": "final"}), pair(mentor=False), program())
        assert messages and all(m.recipient != "mentor" for m in messages)
    with pytest.raises(ComposeError, match="has no mentor"):
        compose(row("notify_pair"), pair(mentor=False), program())


def test_an_undefined_name_in_a_template_is_an_error_not_an_empty_string() -> None:
    context = template_context(row("notify_pair"), pair(), program(), "mentee", "en")
    del context["mentor"]
    with pytest.raises(ComposeError, match="'mentor' is undefined"):
        render("notify_pair", "en", context)


def test_the_kickoff_texts_name_the_meeting_the_guide_calls_it() -> None:
    (dutch, _, organizer) = compose(row("schedule_kickoff_meeting"), pair("nl"), program("nl"))
    assert "kennismakingsbijeenkomst" in dutch.subject.lower()
    assert "vrijdag 16 januari 2026 om 10:00 (CET)" in dutch.body
    assert organizer.recipient == "coordinator" and organizer.attachments == dutch.attachments
    (english, _, _) = compose(row("schedule_kickoff_meeting"), pair("en"), program("en"))
    assert "Friday 16 January 2026 at 10:00 (CET)" in english.body
    assert [a.filename for a in english.attachments] == ["kickoff.ics"]


def test_each_recipient_reads_the_first_of_their_languages_we_have_texts_in() -> None:
    assert language_for(["pl", "nl", "en"], "en") == "nl"
    assert language_for(["EN-gb"], "nl") == "en"
    assert language_for(["tr", "ar"], "nl") == "nl"
    assert language_for([], "en") == "en"
    mixed = Pair(
        Contact("Zoë", "z@example.com", ("fr", "nl")), Contact("Ann", "a@example.com", ("en",)), "active"
    )
    by_recipient = {m.recipient: m.language for m in compose(row("notify_pair"), mixed, program("en"))}
    assert by_recipient == {"mentee": "nl", "mentor": "en"}
    (coordinator,) = compose(row("escalate"), mixed, program("nl"))
    assert coordinator.language == "nl" and coordinator.to_address == "mentoring@example.com"


def test_a_row_without_a_recipient_goes_to_those_its_action_implies_each_with_its_own_key() -> None:
    assert recipients(row("notify_pair"), pair()) == ("mentee", "mentor")
    assert recipients(row("enrol_mentor_training"), pair()) == ("mentor",)
    assert recipients(row("escalate"), pair()) == ("coordinator",)
    assert message_key(row("notify_pair"), "mentor") == "rel:7:entry:3:notify_pair:mentor"
    assert event_key(row("schedule_kickoff_meeting")) == "rel:7:entry:3:schedule_kickoff_meeting"


def test_a_row_naming_its_recipient_keeps_its_own_key_and_shares_the_event_with_the_other() -> None:
    base = "rel:7:entry:3:schedule_kickoff_meeting"
    for_mentor = row("schedule_kickoff_meeting", {"recipient": "mentor"}, key=f"{base}:mentor")
    for_mentee = row("schedule_kickoff_meeting", {"recipient": "mentee"}, key=f"{base}:mentee")
    assert recipients(for_mentor, pair()) == ("mentor",)
    assert message_key(for_mentor, "mentor") == f"{base}:mentor"
    assert event_key(for_mentor) == event_key(for_mentee) == base
    (a,) = compose(for_mentor, pair(), program())
    (b, organizer) = compose(for_mentee, pair(), program())  # the mentee's row carries the organizer's copy
    assert organizer.recipient == "coordinator" and organizer.key == f"{base}:coordinator"
    uid = [line for line in a.attachments[0].content.splitlines() if line.startswith("UID:")]
    assert uid and uid[0] in b.attachments[0].content.splitlines()
    with pytest.raises(ComposeError, match="unknown recipient"):
        recipients(row("remind", {"recipient": "manager"}), pair())


def test_a_trained_mentor_is_not_enrolled_again_and_a_missing_mentor_is_not_reminded() -> None:
    trained = Pair(pair().mentee, Contact("Jeroen", "j@example.com", ("nl",), trained=True), "matched")
    assert skip_reason(row("enrol_mentor_training"), trained) is not None
    assert skip_reason(row("enrol_mentor_training"), pair()) is None
    assert skip_reason(row("notify_pair"), trained) is None
    assert skip_reason(row("remind", {"recipient": "mentor"}), pair(mentor=False)) is not None
    assert skip_reason(row("remind", {"recipient": "mentee"}), pair(mentor=False)) is None


def test_a_survey_message_lists_the_questions_the_policy_asks_in_the_readers_language() -> None:
    from dataclasses import replace

    from engine.policy.model import load_policy, resolve_policy_path

    buddy = load_policy(resolve_policy_path("onboarding-buddy"))
    pulse = buddy.survey_definitions["pulse"]
    with_surveys = replace(program("nl"), surveys=buddy.survey_definitions)

    (dutch, _) = compose(row("send_survey", {"survey": "pulse"}), pair("nl"), with_surveys)
    numbered = [line for line in dutch.body.splitlines() if line[:2] in {f"{i}." for i in range(1, 10)}]
    assert len(numbered) == len(pulse.questions)
    for line, question in zip(numbered, pulse.questions, strict=True):
        assert (question.text_nl or question.text) in line
    assert "(1 tot 5)" in dutch.body and "niet verplicht" in dutch.body

    (english, _) = compose(
        row("send_survey", {"survey": "pulse"}), pair("en"), replace(with_surveys, language="en")
    )
    assert all(q.text in english.body for q in pulse.questions)
