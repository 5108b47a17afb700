"""The kickoff invitation's VTIMEZONE is built once per zone and reused: the text is what icalendar writes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import vobject
from icalendar import Calendar

from engine.delivery.invitations import (
    ZONE_RULES_FROM,
    ZONE_RULES_UNTIL,
    Person,
    invitation,
    kickoff,
    zone_definition,
)

STAMP = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


def _invitation(zone: str, rel: int) -> str:
    meeting = kickoff(f"rel:{rel}:entry:4:schedule_kickoff_meeting", STAMP, zone, "installation-1")
    return invitation(
        meeting,
        summary="Kennismaking Zoë Çelik & Jeroen van den Bergh",
        description="Agenda: expectations, goals and how often you meet. " * 4,
        organizer=Person("Marieke de Vries", "coordinator@example.com"),
        attendees=[Person("Zoë Çelik", "zoe@example.com"), Person("Jeroen van den Bergh", None)],
        stamp=STAMP,
    )


def _as_icalendar_writes_it(text: str) -> str:
    """The same calendar with its time zones added by icalendar itself (from the zone's rules)."""
    calendar = Calendar.from_ical(text)
    calendar.subcomponents = [c for c in calendar.subcomponents if c.name != "VTIMEZONE"]
    calendar.add_missing_timezones(ZONE_RULES_FROM, ZONE_RULES_UNTIL)
    written: bytes = calendar.to_ical()
    return written.decode("utf-8")


@pytest.mark.parametrize("zone", ["Europe/Amsterdam", "America/New_York", "Asia/Kolkata", "Australia/Sydney"])
def test_the_reused_zone_is_the_text_icalendar_writes(zone: str) -> None:
    text = _invitation(zone, 1)
    assert text.count("BEGIN:VTIMEZONE") == 1
    assert f"TZID:{zone}" in text
    assert text == _as_icalendar_writes_it(text)
    event = vobject.readOne(text).vevent
    assert event.dtstart.value.utcoffset() is not None


def test_a_zone_is_built_once_for_many_invitations() -> None:
    zone_definition.cache_clear()
    texts = [_invitation("Europe/Amsterdam", rel) for rel in range(1, 6)]
    assert zone_definition.cache_info().misses == 1 and zone_definition.cache_info().hits == 4
    assert len({t[t.index("BEGIN:VTIMEZONE") : t.index("END:VTIMEZONE")] for t in texts}) == 1
    assert len({t for t in texts}) == 5  # each invitation its own event (UID)


def test_a_time_in_utc_needs_no_zone() -> None:
    text = _invitation("UTC", 1)
    assert "BEGIN:VTIMEZONE" not in text
    assert text == _as_icalendar_writes_it(text)
