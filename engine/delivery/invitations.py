"""The kickoff meeting (kennismakingsbijeenkomst) as a calendar invitation: an iCalendar file.

One event for the pair, ``METHOD:REQUEST``, organised by the coordinator, with
the coordinator (already accepted), mentee and mentor as attendees. Its time
follows from the outbox row alone (when it was written), its UID from the
installation and the relationship, so the copy sent to the other attendee, or
sent again after a crash, updates the one event instead of adding a second one
to anybody's calendar; a kickoff planned again later (the pair entered the
kickoff phase again) updates the same event with a higher ``SEQUENCE`` (the
seq of the audit entry that caused it). The ``VTIMEZONE`` holds the zone's
rules from 1970 on, so every client shows the time the coordinator meant; it is
built once per zone (and span of years) and its text reused, as building it from
the zone's rules costs more than the rest of the invitation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vCalAddress, vText

from engine.delivery.channels import key_digest, scoped_key

KICKOFF_WORKING_DAYS_AHEAD = 5
KICKOFF_HOUR = 10
KICKOFF_LENGTH = timedelta(minutes=60)
ZONE_RULES_FROM = date(1970, 1, 1)
ZONE_RULES_UNTIL = date(2038, 1, 1)
_ENTRY_KEY = re.compile(r"rel:(\d+):entry:(\d+):")
_EVENT_BEGINS = "BEGIN:VEVENT\r\n"


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
    sequence: int = 0


def kickoff_start(written_at: datetime, timezone: str) -> datetime:
    """Five working days (Monday to Friday) after the day ``written_at`` falls on, at 10:00 local time."""
    zone = ZoneInfo(timezone)
    day = written_at.astimezone(zone).date()
    added = 0
    while added < KICKOFF_WORKING_DAYS_AHEAD:
        day += timedelta(days=1)
        added += day.weekday() < 5
    return datetime.combine(day, time(KICKOFF_HOUR), zone)


def kickoff(event_key: str, written_at: datetime, timezone: str, installation: str = "") -> Kickoff:
    """The kickoff of the outbox row with key ``event_key``, written at ``written_at``, sent by
    ``installation``: one UID per relationship, its SEQUENCE the seq of the entry that planned it."""
    start = kickoff_start(written_at, timezone)
    entry = _ENTRY_KEY.match(event_key)
    identity = f"rel:{entry[1]}:kickoff" if entry else event_key
    uid = f"{key_digest(scoped_key(installation, identity))}@mentorflow"
    return Kickoff(uid, start, start + KICKOFF_LENGTH, int(entry[2]) if entry else 0)


def invitation(
    meeting: Kickoff,
    *,
    summary: str,
    description: str,
    organizer: Person,
    attendees: Sequence[Person],
    stamp: datetime,
    location: str | None = None,
) -> str:
    """The ``.ics`` text of the invitation (``stamp``: when it was issued, the row's time)."""
    calendar = Calendar()
    calendar.add("prodid", "-//mentorflow//kickoff invitation//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    event = Event()
    event.add("uid", meeting.uid)
    event.add("dtstamp", stamp)
    event.add("sequence", meeting.sequence)
    event.add("dtstart", meeting.start)
    event.add("dtend", meeting.end)
    event.add("summary", summary)
    event.add("description", description)
    if location:
        event.add("location", location)
    event.add("status", "CONFIRMED")
    if organizer.email:
        event.add("organizer", _address(organizer, {}))
        chair = {"ROLE": "CHAIR", "PARTSTAT": "ACCEPTED", "RSVP": "FALSE"}
        event.add("attendee", _address(organizer, chair), encode=False)  # the organizer has it too
    for person in attendees:
        if person.email:
            params = {"ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION", "RSVP": "TRUE"}
            event.add("attendee", _address(person, params), encode=False)
    calendar.add_component(event)
    until = max(ZONE_RULES_UNTIL, meeting.end.date() + timedelta(days=366))
    # the zone's whole history, not a year of it; before the event, where add_missing_timezones puts it
    missing = sorted(calendar.get_missing_tzids())
    zones = "".join(zone_definition(tzid, ZONE_RULES_FROM, until) for tzid in missing)
    text: bytes = calendar.to_ical()
    head, begins, tail = text.decode("utf-8").partition(_EVENT_BEGINS)
    return head + zones + begins + tail


@lru_cache(maxsize=32)
def zone_definition(tzid: str, first: date, until: date) -> str:
    """The ``VTIMEZONE`` component of ``tzid`` with its rules from ``first`` to ``until``, as iCalendar
    text; empty for a zone icalendar does not know (the invitation then goes without one)."""
    try:
        zone = Timezone.from_tzid(tzid, first_date=first, last_date=until)
    except ValueError:
        return ""
    text: bytes = zone.to_ical()
    return text.decode("utf-8")


def _address(person: Person, params: dict[str, str]) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    address.params["CN"] = vText(person.name)
    for name, value in params.items():
        address.params[name] = vText(value)
    return address
