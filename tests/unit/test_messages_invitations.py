"""The kickoff invitation: five working days out at 10:00 local time, one event for both, a stable UID."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from icalendar import Calendar

from engine.delivery.invitations import Person, invitation, kickoff, kickoff_start

ORGANIZER = Person("Marieke de Vries", "mentoring@example.com")
PAIR = [Person("Zoë Çelik", "zoe@example.com"), Person("Jeroen van den Bergh", "jeroen@example.com")]


@pytest.mark.parametrize(
    ("written", "expected_day"),
    [
        (datetime(2026, 1, 5, 9, 0, tzinfo=UTC), 12),  # Monday -> next Monday
        (datetime(2026, 1, 9, 16, 0, tzinfo=UTC), 16),  # Friday -> next Friday
        (datetime(2026, 1, 10, 12, 0, tzinfo=UTC), 16),  # Saturday -> Friday
        (datetime(2026, 1, 4, 23, 30, tzinfo=UTC), 12),  # Sunday 23:30 UTC is Monday in Amsterdam
    ],
)
def test_the_kickoff_is_five_working_days_later_at_ten_local_time(
    written: datetime, expected_day: int
) -> None:
    start = kickoff_start(written, "Europe/Amsterdam")
    assert (start.year, start.month, start.day, start.hour, start.minute) == (2026, 1, expected_day, 10, 0)
    assert start.weekday() < 5 and str(start.tzinfo) == "Europe/Amsterdam"


def test_the_invitation_is_a_request_from_the_coordinator_to_both() -> None:
    meeting = kickoff(
        "rel:7:entry:3:schedule_kickoff_meeting", datetime(2026, 3, 27, 8, tzinfo=UTC), "Europe/Amsterdam"
    )
    text = invitation(
        meeting, summary="Kennismaking", description="Eerste ontmoeting", organizer=ORGANIZER, attendees=PAIR,
        stamp=datetime(2026, 3, 27, 8, tzinfo=UTC),
    )  # fmt: skip
    calendar = Calendar.from_ical(text)
    assert str(calendar["METHOD"]) == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == meeting.uid
    assert event.decoded("DTSTART") == meeting.start  # 3 April 2026, 10:00 CEST (after the clock change)
    assert event.decoded("DTSTART").utcoffset().total_seconds() == 7200
    assert (event.decoded("DTEND") - event.decoded("DTSTART")).total_seconds() == 3600
    assert str(event["ORGANIZER"]) == "mailto:mentoring@example.com"
    assert sorted(str(a) for a in event["ATTENDEE"]) == [
        "mailto:jeroen@example.com",
        "mailto:mentoring@example.com",  # the organizer has the event in their calendar too
        "mailto:zoe@example.com",
    ]
    assert {a.params["CN"] for a in event["ATTENDEE"]} == {
        "Zoë Çelik",
        "Jeroen van den Bergh",
        "Marieke de Vries",
    }
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Amsterdam"]


def test_the_same_row_always_gives_the_same_event() -> None:
    written = datetime(2026, 1, 9, 16, tzinfo=UTC)
    one = kickoff("rel:7:entry:3:schedule_kickoff_meeting", written, "UTC")
    again = kickoff("rel:7:entry:3:schedule_kickoff_meeting", written, "UTC")
    other = kickoff("rel:8:entry:3:schedule_kickoff_meeting", written, "UTC")
    assert one == again and one.uid != other.uid
    assert "rel:7" not in one.uid  # opaque: a UID travels to every calendar server on the way
