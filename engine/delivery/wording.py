"""How messages write a day and a moment, in English and Dutch: the ``day`` and ``when`` filters of the
templates (:mod:`engine.delivery.messages`)."""

from __future__ import annotations

from datetime import datetime

from jinja2 import pass_context
from jinja2.runtime import Context

_MONTHS = {
    "en": "January February March April May June July August September October November December",
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
}
_WEEKDAYS = {
    "en": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday",
    "nl": "maandag dinsdag woensdag donderdag vrijdag zaterdag zondag",
}


@pass_context
def day(context: Context, moment: datetime) -> str:
    """``Friday 16 January 2026`` / ``vrijdag 16 januari 2026``."""
    language = context["language"]
    weekday = _WEEKDAYS[language].split()[moment.weekday()]
    month = _MONTHS[language].split()[moment.month - 1]
    return f"{weekday} {moment.day} {month} {moment.year}"


@pass_context
def when(context: Context, moment: datetime) -> str:
    """``Friday 16 January 2026 at 10:00`` / ``vrijdag 16 januari 2026 om 10:00`` (with the zone)."""
    at = "om" if context["language"] == "nl" else "at"
    return f"{day(context, moment)} {at} {moment:%H:%M} ({moment.tzname()})"
