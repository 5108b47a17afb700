"""Time, injected: every rule takes ``now`` from a Clock, never from the wall.

The system clock is the only place under ``engine/`` that reads the wall
clock; the simulated clock lets tests and the demo run a year in seconds.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Protocol


class Clock(Protocol):
    """Where the engine gets the current time from."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock:
    """A clock that stands still until it is moved."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("a simulated clock needs a timezone-aware start")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, by: timedelta) -> datetime:
        """Move the clock forward and return the new time."""
        if by < timedelta(0):
            raise ValueError("a clock does not run backwards")
        self._now += by
        return self._now

    def set(self, to: datetime) -> None:
        """Jump to ``to``, which may not be earlier than now."""
        if to < self._now:
            raise ValueError("a clock does not run backwards")
        self._now = to


MOMENT_FORMAT = "%Y-%m-%d %H:%M %Z"
"""How a moment is shown to a person: wall-clock time to the minute, with the zone's abbreviation."""


def shown(moment: datetime | date, zone: tzinfo) -> str:
    """A moment as people read it, in the program's time zone: ``2027-01-15 09:00 CET``.

    A date alone stays ``2027-01-15``; a naive datetime is taken to be UTC, as the store keeps it.
    Every command and every text or Markdown rendering shows times through this function, so one
    format holds everywhere (JSON keeps ISO 8601 with its offset).
    """
    if not isinstance(moment, datetime):
        return moment.isoformat()
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone).strftime(MOMENT_FORMAT)


def shown_day(moment: datetime, zone: tzinfo) -> str:
    """The day ``moment`` falls on in the program's time zone: ``2027-01-15``."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone).date().isoformat()


def held_at(day: date, now: datetime, zone: tzinfo) -> datetime | None:
    """When something held on ``day`` (in the program's time zone) is recorded as having happened: today
    is ``None``, the moment it is recorded, and an earlier day its start (as the pages and the API take
    a date; ``record meeting --on DAY`` always means the day's start)."""
    if day == now.astimezone(zone).date():
        return None
    return datetime.combine(day, time(0), zone)
