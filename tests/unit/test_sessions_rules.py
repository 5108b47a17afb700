"""The pure rules of group sessions: the dates of a series, and splitting the invited into groups."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from engine.domain.sessions import Invitee, assign_groups, balanced, invitees, series_dates
from engine.policy.sessions import SessionSeries

ZONE = "Europe/Amsterdam"


def _series(**changed: object) -> SessionSeries:
    data: dict[str, object] = {
        "title": "Intervisie", "for": "mentors", "phases": ["active"], "every": "8 weeks",
        "weekday": "thursday", "at": "15:00", "length": "90 minutes", "group_size": 8,
    }  # fmt: skip
    return SessionSeries.model_validate({**data, **changed})


def test_the_next_date_is_the_coming_weekday_at_the_local_time() -> None:
    now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday
    (start,) = series_dates(_series(), ZONE, now, None, [])
    assert start.astimezone(ZoneInfo(ZONE)) == datetime(2026, 1, 8, 15, 0, tzinfo=ZoneInfo(ZONE))


def test_dates_follow_the_planned_ones_across_daylight_saving() -> None:
    first = datetime(2026, 1, 8, 14, 0, tzinfo=UTC)
    now = datetime(2026, 1, 9, tzinfo=UTC)
    starts = series_dates(_series(), ZONE, now, now + timedelta(days=120), [first])
    local = [s.astimezone(ZoneInfo(ZONE)) for s in starts]
    assert [d.date() for d in local] == [date(2026, 3, 5), date(2026, 4, 30)]
    assert {(d.hour, d.minute) for d in local} == {(15, 0)}  # 15:00 in winter and in summer time
    assert starts[1].hour == 13  # UTC+2 in April


def test_a_monthly_series_keeps_to_its_weekday_from_its_first_date() -> None:
    series = _series(every="1 month", first="2026-01-01")
    now = datetime(2026, 1, 2, tzinfo=UTC)
    days = [
        s.astimezone(ZoneInfo(ZONE)).date()
        for s in series_dates(series, ZONE, now, now + timedelta(days=70), [])
    ]
    assert days == [date(2026, 2, 5), date(2026, 3, 5)]  # 1 Feb and 1 Mar, on to the Thursday


def test_a_mentor_of_several_pairs_is_invited_once_and_both_sides_when_both() -> None:
    pairs = [(1, 10, 100), (2, 11, 100), (3, 12, None)]
    assert [(i.participant_id, i.relationship_id) for i in invitees(_series(), pairs, {10, 11, 12, 100})] == [
        (100, 1)
    ]
    both = invitees(_series(**{"for": "both"}), pairs, {10, 11, 12, 100})
    assert sorted(i.participant_id for i in both) == [10, 11, 12, 100]
    assert next(i for i in both if i.participant_id == 100).partners == {10, 11}


people = st.lists(st.integers(min_value=1, max_value=500), unique=True, max_size=80)


@given(people, st.integers(min_value=2, max_value=12))
def test_everyone_is_in_one_group_of_at_most_the_size_and_sizes_are_even(ids: list[int], size: int) -> None:
    found = assign_groups([Invitee(pid, pid, "mentor") for pid in ids], size)
    assert sorted(found) == sorted(ids)
    sizes = [list(found.values()).count(g) for g in set(found.values())]
    assert all(s <= size for s in sizes)
    assert not sizes or max(sizes) - min(sizes) <= 1
    assert sorted(sizes, reverse=True) == balanced(len(ids), size)


@given(people, st.integers(min_value=2, max_value=12), st.data())
def test_topping_up_keeps_everyone_invited_in_their_group(
    ids: list[int], size: int, data: st.DataObject
) -> None:
    cut = data.draw(st.integers(min_value=0, max_value=len(ids)))
    first = assign_groups([Invitee(pid, pid, "mentee") for pid in ids[:cut]], size)
    later = assign_groups([Invitee(pid, pid, "mentee") for pid in ids], size, fixed=first)
    assert all(later[pid] == group for pid, group in first.items())
    assert sorted(later) == sorted(ids)
    assert all(list(later.values()).count(g) <= size for g in set(later.values()))


@given(st.integers(min_value=1, max_value=6), st.integers(min_value=1, max_value=4))
def test_a_mentor_and_their_own_mentees_are_kept_apart_where_there_is_room(mentors: int, each: int) -> None:
    people: list[Invitee] = []
    for m in range(mentors):
        mentor, mentees = 1000 + m, [m * 10 + k for k in range(each)]
        people.append(Invitee(mentor, m, "mentor", frozenset(mentees)))
        people += [Invitee(e, m, "mentee", frozenset({mentor})) for e in mentees]
    size = max(2, -(-len(people) // max(mentors, 2)))
    groups = assign_groups(people, size)
    if mentors >= 2 and each <= size:
        for person in people:
            assert all(groups[p] != groups[person.participant_id] for p in person.partners), groups


def test_people_keep_the_group_they_had_last_time() -> None:
    people = [Invitee(pid, pid, "mentor") for pid in range(1, 9)]
    previous = {pid: 2 if pid <= 4 else 1 for pid in range(1, 9)}
    assert assign_groups(people, 4, previous=previous) == previous
