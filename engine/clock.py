"""Time, injected: every rule takes ``now`` from a Clock, never from the wall.

The system clock is the only place under ``engine/`` that reads the wall
clock; the simulated clock lets tests and the demo run a year in seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
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
