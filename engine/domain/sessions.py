"""Group sessions as events: the dates of a series, and who goes in which group. Pure: ``now`` is given.

A series' dates are its anchor day plus whole multiples of ``every`` (moved on to its
``weekday`` when it names one), at ``at`` in the program's zone; the anchor is the
policy's ``first``, else the day of the earliest session already planned, else the
first fitting day on or after today. So the dates of a series do not depend on when
``sessions plan`` runs once its first session is planned.

The invited people of one date are split into groups of at most ``group_size``, as
even as they can be (sizes differ by one at most). Someone keeps the group they had
at the series' previous session where it still exists and has room, and a mentor and
their own mentee are kept apart where another group has room. People invited to a
date already planned keep their groups; newcomers join the groups with room, then
new groups.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from engine.policy.durations import Duration
from engine.policy.sessions import DAY_SECONDS, WEEKDAYS, SessionSeries

MOST_DATES = 400
"""A guard against a series whose anchor lies very far back: dates looked at per series and run."""


@dataclass(frozen=True)
class Invitee:
    """Someone invited to a session: who, through which of their pairs, in which role, and the people of
    their own pairs who may be invited too (kept out of their group where possible)."""

    participant_id: int
    relationship_id: int
    role: str
    partners: frozenset[int] = field(default_factory=frozenset)


def first_day(series: SessionSeries, today: date) -> date:
    """The day a series without ``first`` or planned sessions starts: its weekday on or after ``today``."""
    if series.weekday is None:
        return today
    return today + timedelta(days=(WEEKDAYS.index(series.weekday) - today.weekday()) % 7)


def occurrence(series: SessionSeries, anchor: date, index: int) -> date:
    """The day of the ``index``-th session counted from ``anchor`` (the 0th is on ``anchor``)."""
    every = series.every
    if every.months:
        moved = Duration(months=every.months * index).after(datetime(anchor.year, anchor.month, anchor.day))
        day = moved.date()
        if series.weekday is not None:
            day += timedelta(days=(WEEKDAYS.index(series.weekday) - day.weekday()) % 7)
        return day
    return anchor + timedelta(days=index * (every.seconds // DAY_SECONDS))


def start_of(series: SessionSeries, day: date, timezone: str) -> datetime:
    """When the session of ``day`` starts, in UTC (``at`` is wall-clock time in ``timezone``)."""
    local = datetime.combine(day, series.at, ZoneInfo(timezone))
    return local.astimezone(UTC)


def series_dates(
    series: SessionSeries, timezone: str, now: datetime, until: datetime | None, planned: Iterable[datetime]
) -> list[datetime]:
    """The starts (UTC) of the sessions of ``series`` after ``now``: up to ``until``, or the next one.

    ``planned``: the starts already planned (they anchor a series without ``first``, and are among
    the dates returned when they fall in the window, so that newcomers can be invited to them).
    """
    zone = ZoneInfo(timezone)
    known = sorted(planned)
    if series.first is not None:
        anchor = series.first
    elif known:
        anchor = known[0].astimezone(zone).date()
    else:
        anchor = first_day(series, now.astimezone(zone).date())
    found: list[datetime] = []
    for index in range(MOST_DATES * 50):
        start = start_of(series, occurrence(series, anchor, index), timezone)
        if start <= now:
            continue
        if (until is None and found) or (until is not None and start > until) or len(found) >= MOST_DATES:
            break
        found.append(start)
    return found


def balanced(count: int, size: int) -> list[int]:
    """How many people each of the fewest groups of at most ``size`` holds, as even as can be."""
    if count <= 0:
        return []
    groups = -(-count // size)
    base, extra = divmod(count, groups)
    return [base + 1 if number < extra else base for number in range(groups)]


def assign_groups(
    people: Sequence[Invitee],
    size: int,
    *,
    fixed: Mapping[int, int] | None = None,
    previous: Mapping[int, int] | None = None,
) -> dict[int, int]:
    """The group number (from 1) of each person of ``people``, by participant id.

    ``fixed``: who is invited to this date already, and in which group (they stay there);
    ``previous``: the group each person had at the series' session before this one.
    """
    placed = dict(fixed or {})
    newcomers = sorted((p for p in people if p.participant_id not in placed), key=lambda p: p.participant_id)
    room = _room(placed, len(newcomers), size)
    members: dict[int, set[int]] = {number: set() for number in room}
    for pid, number in placed.items():
        members.setdefault(number, set()).add(pid)
    rest = []
    for person in newcomers:  # first: the group they had before, where it has room and no partner
        before = (previous or {}).get(person.participant_id)
        if before is not None and room.get(before, 0) > 0 and not members[before] & person.partners:
            _place(person, before, placed, room, members)
        else:
            rest.append(person)
    for person in sorted(rest, key=lambda p: (-len(p.partners), p.participant_id)):  # mentors spread first
        open_groups = [number for number, left in room.items() if left > 0]
        number = min(
            open_groups, key=lambda n: (bool(members[n] & person.partners), len(members[n]), -room[n], n)
        )
        _place(person, number, placed, room, members)
    _keep_apart(newcomers, placed, members)
    return {p.participant_id: placed[p.participant_id] for p in people}


def _keep_apart(movable: Sequence[Invitee], placed: dict[int, int], members: dict[int, set[int]]) -> None:
    """Swap newcomers between groups where one shares a group with a partner and the swap leaves both
    of them without one (the sizes stay as they are)."""
    partners = {p.participant_id: p.partners for p in movable}

    def clash(pid: int, number: int, without: int) -> bool:
        return bool((members[number] - {pid, without}) & partners[pid])

    for person in movable:
        a = person.participant_id
        if not clash(a, placed[a], a):
            continue
        for other in movable:
            b, ga, gb = other.participant_id, placed[a], placed[other.participant_id]
            if gb != ga and not clash(a, gb, b) and not clash(b, ga, a) and not partners[a] & {b}:
                members[ga] ^= {a, b}
                members[gb] ^= {a, b}
                placed[a], placed[b] = gb, ga
                break


def _room(placed: Mapping[int, int], newcomers: int, size: int) -> dict[int, int]:
    """Per group, how many more people it takes: the groups of ``placed`` up to ``size``, then new groups
    (as even as can be) for those who do not fit."""
    counts: dict[int, int] = {}
    for number in placed.values():
        counts[number] = counts.get(number, 0) + 1
    room = {number: max(size - count, 0) for number, count in sorted(counts.items())}
    overflow = newcomers - sum(room.values())
    if not counts:
        return {index + 1: cap for index, cap in enumerate(balanced(newcomers, size))}
    last = max(counts)
    for index, cap in enumerate(balanced(overflow, size)):
        room[last + index + 1] = cap
    return room


def _place(
    person: Invitee, number: int, placed: dict[int, int], room: dict[int, int], members: dict[int, set[int]]
) -> None:
    placed[person.participant_id] = number
    room[number] -= 1
    members[number].add(person.participant_id)


def invitees(
    series: SessionSeries, pairs: Sequence[tuple[int, int, int | None]], active: Iterable[int]
) -> list[Invitee]:
    """Whom ``series`` invites of ``pairs`` (relationship, mentee, mentor; lowest relationship first):
    each active mentee and/or mentor once, a mentor of several pairs through the first of them."""
    present = set(active)
    mentees_of: dict[int, set[int]] = {}
    for _, mentee, mentor in pairs:
        if mentor is not None:
            mentees_of.setdefault(mentor, set()).add(mentee)
    found: dict[int, Invitee] = {}
    for rel_id, mentee, mentor in sorted(pairs):
        if series.invites("mentee") and mentee in present and mentee not in found:
            partners = frozenset() if mentor is None else frozenset({mentor})
            found[mentee] = Invitee(mentee, rel_id, "mentee", partners)
        if series.invites("mentor") and mentor is not None and mentor in present and mentor not in found:
            found[mentor] = Invitee(mentor, rel_id, "mentor", frozenset(mentees_of[mentor]))
    return list(found.values())
