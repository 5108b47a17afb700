"""The kickoff meeting (kennismakingsbijeenkomst) as a calendar invitation: an iCalendar file.

One event for the pair, ``METHOD:REQUEST``, organised by the coordinator with
mentor and mentee as attendees. Its time and UID follow from the outbox row
alone (its key and when it was written), so the copy sent to the other
attendee, or sent again after a crash, updates the one event instead of adding
a second one to anybody's calendar.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

from engine.delivery.channels import key_digest

KICKOFF_WORKING_DAYS_AHEAD = 5
KICKOFF_HOUR = 10
KICKOFF_LENGTH = timedelta(minutes=60)


@dataclass(frozen=True)
class Person:
    """Someone on the invitation: a name, and an address if we know one."""

    name: str
    email: str | None


@dataclass(frozen=True)
class Kickoff:
    """When the kickoff is proposed, and the event's identity."""

    uid: str
    start: datetime
    end: datetime


def kickoff_start(written_at: datetime, timezone: str) -> datetime:
    """Five working days (Monday to Friday) after the day ``written_at`` falls on, at 10:00 local time."""
    zone = ZoneInfo(timezone)
    day = written_at.astimezone(zone).date()
    added = 0
    while added < KICKOFF_WORKING_DAYS_AHEAD:
        day += timedelta(days=1)
        added += day.weekday() < 5
    return datetime.combine(day, time(KICKOFF_HOUR), zone)


def kickoff(event_key: str, written_at: datetime, timezone: str) -> Kickoff:
    """The kickoff of the outbox row with key ``event_key``, written at ``written_at``."""
    start = kickoff_start(written_at, timezone)
    return Kickoff(f"{key_digest(event_key)}@mentorflow", start, start + KICKOFF_LENGTH)


def invitation(
    meeting: Kickoff,
    *,
    summary: str,
    description: str,
    organizer: Person,
    attendees: Sequence[Person],
    stamp: datetime,
) -> str:
    """The ``.ics`` text of the invitation (``stamp``: when it was issued, the row's time)."""
    calendar = Calendar()
    calendar.add("prodid", "-//mentorflow//kickoff invitation//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    event = Event()
    event.add("uid", meeting.uid)
    event.add("dtstamp", stamp)
    event.add("sequence", 0)
    event.add("dtstart", meeting.start)
    event.add("dtend", meeting.end)
    event.add("summary", summary)
    event.add("description", description)
    event.add("status", "CONFIRMED")
    if organizer.email:
        event.add("organizer", _address(organizer, {}))
    for person in attendees:
        if person.email:
            params = {"ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION", "RSVP": "TRUE"}
            event.add("attendee", _address(person, params), encode=False)
    calendar.add_component(event)
    around = meeting.start.date()  # the zone's rules for a year either side, not since 1970
    calendar.add_missing_timezones(around - timedelta(days=366), around + timedelta(days=366))
    text: bytes = calendar.to_ical()
    return text.decode("utf-8")


def _address(person: Person, params: dict[str, str]) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    address.params["CN"] = vText(person.name)
    for name, value in params.items():
        address.params[name] = vText(value)
    return address
