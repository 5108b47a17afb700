"""Durations and cadences as operators write them, and how they move a date."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.policy.durations import Duration, parse_cadence, parse_duration

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
DAY = 86400


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14 days", Duration(seconds=14 * DAY)),
        ("2 weeks", Duration(seconds=14 * DAY)),
        ("6 months", Duration(months=6)),
        ("36h", Duration(seconds=36 * 3600)),
        ("2w", Duration(seconds=14 * DAY)),
        ("1 week", Duration(seconds=7 * DAY)),
        ("90 minutes", Duration(seconds=90 * 60)),
        ("90min", Duration(seconds=90 * 60)),
        ("90mo", Duration(months=90)),
        ("1 year", Duration(months=12)),
        ("1y", Duration(months=12)),
        ("3 days 12 hours", Duration(seconds=3 * DAY + 12 * 3600)),
        ("1 month 2 weeks", Duration(months=1, seconds=14 * DAY)),
        ("2d", Duration(seconds=2 * DAY)),
        ("12 hrs", Duration(seconds=12 * 3600)),
        ("45 s", Duration(seconds=45)),
        ("1 fortnight", Duration(seconds=14 * DAY)),
        ("1 month, 3 days", Duration(months=1, seconds=3 * DAY)),
        ("1 month and 3 days", Duration(months=1, seconds=3 * DAY)),
        ("1 day 0 hours", Duration(seconds=DAY)),
        ("100 years", Duration(months=1200)),
    ],
)
def test_parse_duration_reads_what_operators_write(text: str, expected: Duration) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["2 WEEKS", "2 Weeks", "  2   weeks  ", "2W", "2\tweeks"])
def test_parse_duration_ignores_case_and_extra_space(text: str) -> None:
    assert parse_duration(text) == Duration(seconds=14 * DAY)


@pytest.mark.parametrize(
    ("singular", "plural"),
    [("1 day", "1 days"), ("1 week", "1 weeks"), ("1 month", "1 months"), ("1 hour", "1 hours")],
)
def test_singular_and_plural_units_mean_the_same(singular: str, plural: str) -> None:
    assert parse_duration(singular) == parse_duration(plural)


def test_error_quotes_the_input_and_gives_an_example() -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration("a fortnite")
    assert str(caught.value) == '"a fortnite" is not a duration (try "2w" or "14 days")'


@pytest.mark.parametrize(
    "text", ["", "   ", "14", "days", "1 parsec", "1 day 2", "two weeks", "2-3 days", "٢ days"]
)
def test_parse_duration_refuses_what_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match=r'is not a duration \(try "2w" or "14 days"\)'):
        parse_duration(text)


@pytest.mark.parametrize("text", ["90m", "90 m", "3M"])
def test_bare_m_is_refused_as_ambiguous(text: str) -> None:
    with pytest.raises(ValueError, match='"m" could be minutes or months') as caught:
        parse_duration(text)
    number = text.rstrip("mM ").strip()
    assert f'"{number}min" or "{number}mo"' in str(caught.value)


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("1.5 days", '(write "36 hours")'),
        ("1.5 years", '(write "18 months")'),
        ("1.0 day", '(write "1 day")'),
        ("0.5 months", '(try "2w" or "14 days")'),
    ],
)
def test_fractions_are_refused_with_a_whole_number_hint(text: str, hint: str) -> None:
    with pytest.raises(ValueError, match="use whole numbers") as caught:
        parse_duration(text)
    assert str(caught.value).endswith(hint)


@pytest.mark.parametrize("text", ["0 days", "0s", "-2 days", "0 months 0 days"])
def test_zero_and_negative_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="must be longer than zero"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["101 years", "99999999999 years", "999999999999 weeks"])
def test_absurdly_long_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="at most 100 years"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("every 2 weeks", "2 weeks"),
        ("every week", "1 week"),
        ("Every  Week", "1 week"),
        ("every 36h", "36 hours"),
        ("every fortnight", "2 weeks"),
        ("weekly", "1 week"),
        ("fortnightly", "2 weeks"),
        ("monthly", "1 month"),
        ("daily", "1 day"),
        ("Daily", "1 day"),
        ("quarterly", "3 months"),
        ("yearly", "1 year"),
        ("10 days", "10 days"),
    ],
)
def test_parse_cadence_reads_spoken_cadences(text: str, expected: str) -> None:
    assert parse_cadence(text) == parse_duration(expected)


def test_cadence_error_quotes_the_whole_input() -> None:
    with pytest.raises(ValueError) as caught:
        parse_cadence("every fortnite")
    assert str(caught.value) == '"every fortnite" is not a duration (try "2w" or "14 days")'


@pytest.mark.parametrize("text", ["every", "every 0 days", "every 1.5 days", "every 90m", "often"])
def test_parse_cadence_refuses_bad_cadences(text: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(f'"{text}" is not a duration')):
        parse_cadence(text)


@pytest.mark.parametrize("text", ["biweekly", "bimonthly"])
def test_ambiguous_cadences_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="ambiguous"):
        parse_cadence(text)


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (Duration(months=6), "6 months"),
        (Duration(months=1), "1 month"),
        (Duration(months=12), "1 year"),
        (Duration(months=24), "2 years"),
        (Duration(months=18), "18 months"),
        (Duration(seconds=14 * DAY), "2 weeks"),
        (Duration(seconds=36 * 3600), "36 hours"),
        (Duration(seconds=10 * DAY), "10 days"),
        (Duration(seconds=90 * 60), "90 minutes"),
        (Duration(seconds=1), "1 second"),
        (Duration(months=1, seconds=3 * DAY), "1 month 3 days"),
        (Duration(months=12, seconds=7 * DAY), "1 year 1 week"),
    ],
)
def test_str_is_normalised_human_text(duration: Duration, text: str) -> None:
    assert str(duration) == text


durations = st.builds(
    Duration,
    months=st.integers(min_value=0, max_value=600),
    seconds=st.integers(min_value=0, max_value=50 * 365 * DAY),
).filter(lambda d: d.months or d.seconds)


@given(durations)
def test_str_parses_back_to_the_same_duration(duration: Duration) -> None:
    assert parse_duration(str(duration)) == duration


@given(durations)
def test_str_of_a_cadence_parses_back_as_a_cadence(duration: Duration) -> None:
    assert parse_cadence(f"every {duration}") == duration


def test_approx_counts_months_as_average_months() -> None:
    assert Duration(months=1).approx() == timedelta(days=30.4375)
    assert Duration(months=12).approx() == timedelta(days=365.25)
    assert Duration(months=1, seconds=60).approx() == timedelta(days=30.4375, seconds=60)
    assert parse_duration("4 weeks").approx() < parse_duration("1 month").approx()
    assert parse_duration("5 weeks").approx() > parse_duration("1 month").approx()


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (datetime(2023, 1, 31), 1, datetime(2023, 2, 28)),
        (datetime(2024, 1, 31), 1, datetime(2024, 2, 29)),
        (datetime(2024, 3, 31), 1, datetime(2024, 4, 30)),
        (datetime(2024, 8, 31), 6, datetime(2025, 2, 28)),
        (datetime(2024, 2, 29), 12, datetime(2025, 2, 28)),
        (datetime(2024, 11, 15, 9, 30), 2, datetime(2025, 1, 15, 9, 30)),
        (datetime(2024, 12, 31), 1, datetime(2025, 1, 31)),
        (datetime(2024, 1, 15), 25, datetime(2026, 2, 15)),
    ],
)
def test_months_clamp_to_the_end_of_the_month(start: datetime, months: int, expected: datetime) -> None:
    assert Duration(months=months).after(start) == expected


def test_months_then_seconds() -> None:
    # Jan 31 + 1 month is Feb 29 (2024), then 2 days: Mar 2. Not Jan 31 + 2 days + 1 month.
    assert parse_duration("1 month 2 days").after(datetime(2024, 1, 31)) == datetime(2024, 3, 2)


def test_naive_seconds_are_plain_addition() -> None:
    assert Duration(seconds=90 * 60).after(datetime(2024, 5, 1, 23, 0)) == datetime(2024, 5, 2, 0, 30)


def test_a_day_across_spring_forward_is_24_elapsed_hours() -> None:
    start = datetime(2024, 3, 30, 12, 0, tzinfo=AMSTERDAM)  # CET, +01:00
    end = Duration(seconds=DAY).after(start)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=24)
    assert end == datetime(2024, 3, 31, 13, 0, tzinfo=AMSTERDAM)  # CEST, +02:00
    assert end.tzinfo is AMSTERDAM


def test_a_day_across_fall_back_is_24_elapsed_hours() -> None:
    start = datetime(2024, 10, 26, 12, 0, tzinfo=AMSTERDAM)  # CEST, +02:00
    end = Duration(seconds=DAY).after(start)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=24)
    assert (end.hour, end.utcoffset()) == (11, timedelta(hours=1))


def test_months_keep_the_wall_clock_time_across_dst() -> None:
    start = datetime(2024, 3, 15, 9, 0, tzinfo=AMSTERDAM)  # CET
    end = Duration(months=1).after(start)
    assert (end.year, end.month, end.day, end.hour, end.minute) == (2024, 4, 15, 9, 0)
    assert end.utcoffset() == timedelta(hours=2)
    assert end.tzinfo is AMSTERDAM
    back = Duration(months=7).after(start)
    assert (back.month, back.hour, back.utcoffset()) == (10, 9, timedelta(hours=2))


def test_fixed_offset_tzinfo_is_kept() -> None:
    start = datetime(2024, 1, 31, 8, 0, tzinfo=UTC)
    assert parse_duration("1 month 1 hour").after(start) == datetime(2024, 2, 29, 9, 0, tzinfo=UTC)
