"""A group session's invitation: date, time and place in the reader's language, an .ics with a UID stable
per session and person, and the personal link to say whether they attended; the policy's block."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from icalendar import Calendar

from engine.delivery.channels import LinkSettings, ProgramInfo
from engine.delivery.links import read
from engine.delivery.messages import Contact, OutboxRow, Pair, compose
from engine.errors import PolicyError
from engine.policy.model import load_policy_text
from tests.integration.session_support import SESSIONS, default_text

KEYS = ("a-key-for-the-session-message-tests-" + "k" * 16,)
PROGRAM = ProgramInfo(
    name="Mentorprogramma", coordinator_name="Sam de Wit", coordinator_email="mentoring@example.com",
    timezone="Europe/Amsterdam", links=LinkSettings("https://mentoring.example.com", KEYS),
)  # fmt: skip
START = datetime(2026, 4, 2, 13, 0, tzinfo=UTC)  # 15:00 in Amsterdam, summer time
PAIR = Pair(
    Contact("Zoë Çelik", "zoe@example.com", ("nl",), id=7),
    Contact("Jeroen van den Bergh", "jeroen@example.com", ("en",), id=1),
    "active",
)


def _row(recipient: str, person: int, written: datetime = datetime(2026, 3, 1, 9, tzinfo=UTC)) -> OutboxRow:
    session = {
        "id": 12, "series": "intervisie", "title": "Peer session", "title_nl": "Intervisie",
        "starts_at": START.isoformat(), "minutes": 90, "place": "Room 4.12", "place_nl": "Zaal 4.12",
    }  # fmt: skip
    key = f"session:12:participant:{person}"
    return OutboxRow(
        5, 3, key, "schedule_group_session", {"recipient": recipient, "session": session}, written
    )


def test_the_invitation_names_the_session_in_the_reader_s_language_with_an_ics() -> None:
    (to_mentee,) = compose(_row("mentee", 7), PAIR, PROGRAM, installation="inst")
    (to_mentor,) = compose(_row("mentor", 1), PAIR, PROGRAM, installation="inst")
    assert to_mentee.subject == "Intervisie op donderdag 2 april 2026"
    assert (
        "donderdag 2 april 2026 om 15:00 (CEST), 90 minuten" in to_mentee.body
        and "Zaal 4.12" in to_mentee.body
    )
    assert to_mentor.subject == "Peer session on Thursday 2 April 2026" and "Room 4.12" in to_mentor.body
    (ics,) = to_mentee.attachments
    (event,) = Calendar.from_ical(ics.content).walk("VEVENT")
    assert event.decoded("DTSTART") == START and str(event["LOCATION"]) == "Zaal 4.12"
    assert "mailto:zoe@example.com" in [str(a) for a in event["ATTENDEE"]]  # the coordinator, and her
    again = compose(_row("mentee", 7, datetime(2026, 3, 9, tzinfo=UTC)), PAIR, PROGRAM, installation="inst")[
        0
    ]
    (other,) = Calendar.from_ical(again.attachments[0].content).walk("VEVENT")
    (mentor_event,) = Calendar.from_ical(to_mentor.attachments[0].content).walk("VEVENT")
    assert str(other["UID"]) == str(event["UID"]) != str(mentor_event["UID"])  # per session and person


def test_the_attendance_link_opens_from_the_session_s_start() -> None:
    (message,) = compose(_row("mentee", 7), PAIR, PROGRAM)
    address = next(line for line in message.body.splitlines() if "/l/session/" in line)
    token = address.rsplit("/", 1)[1]
    link = read(token, "session", START, KEYS)
    assert getattr(link, "issued_at", None) == START  # it opens: issued when the session starts
    assert "/l/help/" in message.body


def test_a_policy_without_sessions_keeps_its_digest_and_a_bad_block_names_its_line() -> None:
    text = default_text()
    plain = load_policy_text(text, "default.yaml")
    assert "sessions" not in plain.normalised()
    with_block = load_policy_text(text + SESSIONS.format(audience="mentors", size=8), "s.yaml")
    assert with_block.digest != plain.digest and with_block.sessions is not None
    bad = text + SESSIONS.format(audience="mentors", size=8).replace("[active]", "[closed]")
    with pytest.raises(PolicyError) as caught:
        load_policy_text(bad, "s.yaml")
    line = len(text.splitlines()) + 7  # the line of `phases:`
    assert f's.yaml:{line}: sessions.intervisie.phases[0]: "closed" is terminal' in str(caught.value)
