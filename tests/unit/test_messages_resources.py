"""A message on entering a phase lists the phase's resources meant for its recipient, in their language."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from engine.delivery.channels import Message, ProgramInfo
from engine.delivery.messages import Contact, OutboxRow, Pair, compose
from engine.policy.resources import Resource

WRITTEN = datetime(2026, 1, 9, 16, 0, tzinfo=UTC)
GUIDE = "https://example.org/mentee-guide"
RESOURCES = {
    "matched": [
        Resource(title="Mentee guide", title_nl="Gids voor mentees", link=GUIDE, audience="mentee"),
        Resource(title="Mentor handbook", link="https://example.org/mentor-handbook", audience="mentor"),
        "Ask your coordinator anything",
    ]
}


def _messages(
    language: str, params: dict[str, Any] | None = None, key: str = "rel:7:entry:2:x"
) -> list[Message]:
    mentee = Contact("Zoë Çelik", "zoe@example.com", (language,))
    mentor = Contact("Jeroen van den Bergh", "jeroen@example.com", (language,))
    row = OutboxRow(1, 7, key, "notify_pair", {"phase": "matched", **(params or {})}, WRITTEN)
    program = ProgramInfo(
        "Mentorprogramma",
        "Marieke",
        "mentoring@example.com",
        language,
        "Europe/Amsterdam",
        resources=RESOURCES,
    )
    return compose(row, Pair(mentee, mentor, "matched"), program)


def _to(messages: list[Message], recipient: str) -> Message:
    return next(m for m in messages if m.recipient == recipient)


def test_the_mentee_reads_their_resources_with_links_and_not_the_mentors() -> None:
    mentee = _to(_messages("en", {"recipient": "mentee"}), "mentee")
    assert f"- Mentee guide: {GUIDE}\n" in mentee.body
    assert "- Ask your coordinator anything\n" in mentee.body
    assert "Mentor handbook" not in mentee.body
    assert mentee.html is not None
    assert f'- Mentee guide: <a href="{GUIDE}">{GUIDE}</a>' in mentee.html
    assert "Mentor handbook" not in mentee.html


def test_the_mentor_reads_theirs() -> None:
    mentor = _to(_messages("en", {"recipient": "mentor"}), "mentor")
    assert "- Mentor handbook: https://example.org/mentor-handbook" in mentor.body
    assert "Mentee guide" not in mentor.body


def test_a_dutch_message_gives_the_dutch_title() -> None:
    mentee = _to(_messages("nl", {"recipient": "mentee"}), "mentee")
    assert "Voor deze fase:" in mentee.body
    assert f"- Gids voor mentees: {GUIDE}" in mentee.body
    assert "Mentee guide" not in mentee.body


def test_without_resources_or_after_the_entry_there_is_no_section() -> None:
    later = _to(_messages("en", {"recipient": "mentee"}, key="rel:7:deadline:matched"), "mentee")
    assert "For this phase:" not in later.body and "Mentee guide" not in later.body
    mentee = Contact("Zoë Çelik", "zoe@example.com", ("en",))
    row = OutboxRow(
        1, 7, "rel:7:entry:2:x", "notify_pair", {"phase": "matched", "recipient": "mentee"}, WRITTEN
    )
    plain = compose(row, Pair(mentee, Contact("J", "j@example.com"), "matched"), ProgramInfo())
    assert "For this phase:" not in plain[0].body
