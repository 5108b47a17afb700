"""Group sessions (intervisie, workshops): the policy's optional ``sessions:`` block.

::

    sessions:
      intervisie:                       # the series' name: its sessions are planned under it
        title: Peer session (intervisie)
        title_nl: Intervisie            # optional: the title Dutch readers see
        for: mentors                    # mentors | mentees | both
        phases: [active]                # the people of pairs in these phases are invited
        every: 8 weeks                  # the rhythm: whole days, weeks or months
        weekday: thursday               # optional: the day of the week a session falls on
        first: 2026-02-05               # optional: the date of the first session
        at: "15:00"                     # local time, in program.timezone
        length: 90 minutes
        group_size: 8                   # at most this many invited people per group
        place: Room 4.12 or Teams       # optional; place_nl for Dutch readers

The dates of a series are ``first`` plus whole multiples of ``every`` (each moved on to
``weekday`` if one is given). Without ``first`` a series starts at the first plan:
the first ``weekday`` (or the day itself) on or after the day ``sessions plan`` runs,
and continues from the sessions already planned. ``mentorflow sessions plan``
plans them (:mod:`engine.services.sessions`). Without the block the policy's digest
does not change; a field left out is not part of it either.
"""

from __future__ import annotations

from datetime import date, time
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_serializer,
)

from engine.policy.durations import Duration
from engine.policy.fields import NAME_PATTERN, CadenceText, DurationText, PolicyModel
from engine.policy.problems import Loc, shown, unknown_name

if TYPE_CHECKING:
    from engine.policy.model import Policy

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
AUDIENCES = ("mentors", "mentees", "both")
DAY_SECONDS = 86400
SHORTEST_LENGTH, LONGEST_LENGTH = 15 * 60, 12 * 3600
LARGEST_GROUP = 200
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def _clock_time(value: object) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(f'{value} is not a time of day (write it as text: at: "15:00")')
    text = value.strip() if isinstance(value, str) else ""
    parts = text.split(":")
    if len(parts) == 2 and all(p.isdigit() and len(p) == 2 for p in parts):
        hour, minute = int(parts[0]), int(parts[1])
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise ValueError(f'{shown(value)} is not a time of day (expected HH:MM, like "15:00")')


def _calendar_day(value: object) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else _no_day(value)
    except ValueError:
        return _no_day(value)


def _no_day(value: object) -> date:
    raise ValueError(f"{shown(value)} is not a date (expected YYYY-MM-DD, like 2026-02-05)")


ClockTime = Annotated[
    time,
    PlainValidator(_clock_time),
    PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d\d:\d\d$", "examples": ["15:00"]}),
]
CalendarDay = Annotated[
    date,
    PlainValidator(_calendar_day),
    PlainSerializer(date.isoformat, return_type=str),
    WithJsonSchema({"type": "string", "format": "date", "examples": ["2026-02-05"]}),
]


class SessionSeries(PolicyModel):
    """One series of group sessions: what it is called, for whom, how often, when, how long and where."""

    title: str = Field(min_length=1)
    title_nl: str | None = None
    audience: Literal["mentors", "mentees", "both"] = Field(alias="for")
    phases: list[Annotated[str, Field(pattern=NAME_PATTERN)]] = Field(min_length=1)
    every: CadenceText
    weekday: Weekday | None = None
    first: CalendarDay | None = None
    at: ClockTime
    length: DurationText
    group_size: int = Field(ge=2, le=LARGEST_GROUP)
    place: str | None = Field(default=None, min_length=1)
    place_nl: str | None = Field(default=None, min_length=1)

    @field_validator("every")
    @classmethod
    def _dates(cls, value: Duration) -> Duration:
        if value.seconds % DAY_SECONDS or (value.months and value.seconds):
            raise ValueError(
                f'{value} is not a rhythm of dates (expected whole days, weeks or months, like "8 weeks")'
            )
        return value

    @field_validator("weekday")
    @classmethod
    def _kept(cls, value: str | None, info: ValidationInfo) -> str | None:
        every = info.data.get("every")
        if value and every is not None and not every.months and (every.seconds // DAY_SECONDS) % 7:
            raise ValueError(
                f"every {every} does not keep to {value} (expected every a whole number of weeks, "
                "or no weekday)"
            )
        return value

    @field_validator("first")
    @classmethod
    def _on_weekday(cls, value: date | None, info: ValidationInfo) -> date | None:
        weekday = info.data.get("weekday")
        if value and weekday and WEEKDAYS[value.weekday()] != weekday:
            raise ValueError(
                f"{value} is a {WEEKDAYS[value.weekday()]}, not a {weekday} (change one of them)"
            )
        return value

    @field_validator("length")
    @classmethod
    def _length(cls, value: Duration) -> Duration:
        if value.months or not SHORTEST_LENGTH <= value.seconds <= LONGEST_LENGTH:
            raise ValueError(f"{value} is not the length of a session (expected 15 minutes to 12 hours)")
        return value

    @property
    def minutes(self) -> int:
        """The length of a session in whole minutes."""
        return self.length.seconds // 60

    def title_in(self, language: str) -> str:
        """The title a reader of ``language`` sees."""
        return self.title_nl if language == "nl" and self.title_nl else self.title

    def place_in(self, language: str) -> str | None:
        """The place a reader of ``language`` sees (``None``: the policy names none)."""
        return self.place_nl if language == "nl" and self.place_nl else self.place

    def invites(self, role: str) -> bool:
        """Whether the ``role`` (mentor or mentee) of a pair is invited."""
        return self.audience == "both" or self.audience == f"{role}s"

    @model_serializer
    def normalised(self) -> dict[str, Any]:
        """The series as the policy's digest reads it: the fields it names, durations in normal form."""
        data: dict[str, Any] = {
            "title": self.title, "title_nl": self.title_nl, "for": self.audience, "phases": list(self.phases),
            "every": f"every {self.every}", "weekday": self.weekday,
            "first": self.first.isoformat() if self.first else None, "at": self.at.strftime("%H:%M"),
            "length": str(self.length), "group_size": self.group_size, "place": self.place,
            "place_nl": self.place_nl,
        }  # fmt: skip
        return {key: value for key, value in data.items() if value is not None}


Sessions = dict[Annotated[str, Field(pattern=NAME_PATTERN)], SessionSeries]
"""``sessions:``: the policy's series of group sessions, by name."""


def session_problems(policy: Policy) -> list[tuple[Loc, str]]:
    """The phases a series names that the policy has not, or that no pair stays in (terminal)."""
    found: list[tuple[Loc, str]] = []
    for name, series in (policy.sessions or {}).items():
        for index, phase in enumerate(series.phases):
            where: Loc = ("sessions", name, "phases", index)
            if phase not in policy.phases:
                found.append((where, unknown_name("phase", phase, list(policy.phases))))
            elif policy.phases[phase].terminal:
                found.append(
                    (where, f"{shown(phase)} is terminal: its pairs have ended (expected an open phase)")
                )
    return found


def series_for_phase(policy: Policy, phase: str) -> list[str]:
    """The names of the series whose invitations go to pairs in ``phase``, in the order of the file."""
    return [name for name, series in (policy.sessions or {}).items() if phase in series.phases]
