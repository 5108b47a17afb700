"""Durations and cadences as operators write them in a policy: ``14 days``, ``2w``, ``6 months``.

Months are calendar months (Jan 31 plus one month is the last day of February) and
keep the wall-clock time; everything shorter is elapsed time, so a day across a
daylight-saving change is 24 real hours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction

_MINUTE, _HOUR, _DAY, _WEEK = 60, 3600, 86400, 604800
_SECONDS_PER_UNIT = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("min", "mins", "minute", "minutes"), _MINUTE),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), _HOUR),
    **dict.fromkeys(("d", "day", "days"), _DAY),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), _WEEK),
    **dict.fromkeys(("fortnight", "fortnights"), 2 * _WEEK),
}
_MONTHS_PER_UNIT = {
    **dict.fromkeys(("mo", "mos", "month", "months"), 1),
    **dict.fromkeys(("y", "yr", "yrs", "year", "years"), 12),
}
_NAMED_CADENCES = {
    "daily": "1 day",
    "weekly": "1 week",
    "fortnightly": "2 weeks",
    "monthly": "1 month",
    "quarterly": "3 months",
    "yearly": "1 year",
    "annually": "1 year",
}
_DISPLAY_UNITS = ((_WEEK, "week"), (_DAY, "day"), (_HOUR, "hour"), (_MINUTE, "minute"))
_LONGEST_SECONDS = 36525 * _DAY  # 100 years: anything longer is a typo
_SECONDS_PER_MONTH = Fraction("30.4375") * _DAY
_TOKEN = re.compile(r"[0-9]{1,12}(?:\.[0-9]+)?|[a-z]+|\S")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_EXAMPLE = '(try "2w" or "14 days")'


@dataclass(frozen=True)
class Duration:
    """Calendar months plus elapsed seconds; ``1 year`` is 12 months, ``2 weeks`` 1209600 s."""

    months: int = 0
    seconds: int = 0

    def after(self, start: datetime) -> datetime:
        """``start`` plus the months (day clamped to the month's end), then the seconds."""
        month_index = start.month - 1 + self.months
        year, month = start.year + month_index // 12, month_index % 12 + 1
        shifted = start.replace(year=year, month=month, day=min(start.day, _days_in(year, month)))
        if shifted.tzinfo is None:
            return shifted + timedelta(seconds=self.seconds)
        elapsed = shifted.astimezone(UTC) + timedelta(seconds=self.seconds)
        return elapsed.astimezone(shifted.tzinfo)

    def before(self, end: datetime) -> datetime:
        """``end`` less the seconds, then the months (day clamped): the start whose span ends about ``end``.

        The mirror of :meth:`after`: what was written at or before it is older than the duration at ``end``.
        """
        if end.tzinfo is None:
            earlier = end - timedelta(seconds=self.seconds)
        else:
            earlier = (end.astimezone(UTC) - timedelta(seconds=self.seconds)).astimezone(end.tzinfo)
        month_index = earlier.month - 1 - self.months
        year, month = earlier.year + month_index // 12, month_index % 12 + 1
        return earlier.replace(year=year, month=month, day=min(earlier.day, _days_in(year, month)))

    def approx(self) -> timedelta:
        """A timedelta counting a month as 30.4375 days: for ordering, never for scheduling."""
        return timedelta(days=self.months * 30.4375, seconds=self.seconds)

    def __str__(self) -> str:
        parts = []
        if self.months:
            years, months = divmod(self.months, 12)
            parts.append(_plural(years, "year") if not months else _plural(self.months, "month"))
        if self.seconds or not self.months:
            for size, name in _DISPLAY_UNITS:  # the largest unit that divides exactly
                if self.seconds % size == 0 and self.seconds:
                    parts.append(_plural(self.seconds // size, name))
                    break
            else:
                parts.append(_plural(self.seconds, "second"))
        return " ".join(parts)


def _days_in(year: int, month: int) -> int:
    following = datetime(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def parse_duration(text: str) -> Duration:
    """Read ``14 days``, ``36h``, ``1 month 2 weeks``; raise ValueError saying what to write."""
    return _parse(text, shown=text.strip())


def parse_cadence(text: str) -> Duration:
    """Read ``every 2 weeks``, ``every week``, ``weekly``, ``fortnightly`` or a plain duration."""
    spoken = " ".join(text.lower().split())
    if spoken in ("biweekly", "bimonthly"):
        hint = 'it is ambiguous (write "every 2 weeks" or "every 3 days")'
        raise ValueError(f'"{text.strip()}" is not a duration: {hint}')
    spoken = _NAMED_CADENCES.get(spoken, spoken)
    if spoken.startswith("every "):
        spoken = spoken.removeprefix("every ")
        spoken = spoken if spoken[:1].isdigit() else f"1 {spoken}"
    return _parse(spoken, shown=text.strip())


def _parse(text: str, shown: str) -> Duration:
    tokens = [t for t in _TOKEN.findall(text.lower()) if t not in (",", "and")]
    months, seconds = Fraction(0), Fraction(0)
    if text.strip().startswith("-"):
        raise ValueError(f'"{shown}" is not a duration: it must be longer than zero {_EXAMPLE}')
    if not tokens or len(tokens) % 2:
        raise ValueError(f'"{shown}" is not a duration {_EXAMPLE}')
    for number, unit in zip(tokens[::2], tokens[1::2], strict=True):
        if unit == "m":
            raise ValueError(
                f'"{shown}" is not a duration: "m" could be minutes or months '
                f'(write "{number}min" or "{number}mo")'
            )
        if not _NUMBER.fullmatch(number) or not (unit in _SECONDS_PER_UNIT or unit in _MONTHS_PER_UNIT):
            raise ValueError(f'"{shown}" is not a duration {_EXAMPLE}')
        months += Fraction(number) * _MONTHS_PER_UNIT.get(unit, 0)
        seconds += Fraction(number) * _SECONDS_PER_UNIT.get(unit, 0)
    if months * _SECONDS_PER_MONTH + seconds > _LONGEST_SECONDS:
        raise ValueError(f'"{shown}" is not a duration: it must be at most 100 years')
    if months.denominator != 1 or seconds.denominator != 1:
        raise ValueError(f'"{shown}" is not a duration: use whole numbers {_EXAMPLE}')
    duration = Duration(months=int(months), seconds=int(seconds))
    if "." in text:
        raise ValueError(f'"{shown}" is not a duration: use whole numbers (write "{duration}")')
    if not duration.months and not duration.seconds:
        raise ValueError(f'"{shown}" is not a duration: it must be longer than zero {_EXAMPLE}')
    return duration
