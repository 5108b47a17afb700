"""Participants sent as JSON items (the API's upsert), checked as the rows of the CSV file are.

The items arrive validated as :class:`~engine.domain.participants.Participant` models; this checks what a
file's reader checks beyond one model: the store's limits (column lengths, integers), the same email or
external id twice in one request, and one set of fields for the whole request (as the rows of a CSV file
share its header: a field no item gives is left as it is for everyone, a field one item gives is given
by all). Every problem is collected, each naming its item by a JSON pointer (``/participants/3/email``),
and raised as one :class:`~engine.errors.ParticipantsError`: nothing is imported. Pure: no database.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError

from engine.domain.participants import Participant
from engine.errors import ParticipantsError, listed
from engine.files.participants import REQUIRED_COLUMNS, ParticipantsFile, describe_error, store_limits

MAX_ITEMS = 10_000
"""The most participants one request carries (a larger program sends several)."""


def checked_items(people: Sequence[Participant], base: str = "/participants") -> ParticipantsFile:
    """``people`` as an import reads them, each placed at ``{base}/{index}``; ParticipantsError with every
    problem otherwise."""
    places = [f"{base}/{index}" for index, _ in enumerate(people)]
    problems: list[str] = []
    fields = frozenset(people[0].model_fields_set | set(REQUIRED_COLUMNS)) if people else frozenset()
    seen: dict[str, dict[str, str]] = {"email": {}, "external_id": {}}
    for person, place in zip(people, places, strict=True):
        given = frozenset(person.model_fields_set | set(REQUIRED_COLUMNS))
        if given != fields:
            problems.append(_other_fields(place, given, fields, base))
        problems += _limits(person, place)
        for name, firsts in seen.items():
            value = getattr(person, name)
            if value is None:
                continue
            first = firsts.setdefault(value, place)
            if first != place:
                problems.append(f"{place}/{name}: {value!r} is already used by {first}")
    if problems:
        count = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
        raise ParticipantsError(f"participants not imported, {count}", listed(problems, more="more problems"))
    return ParticipantsFile("request", list(people), fields, places)


def _other_fields(place: str, given: frozenset[str], fields: frozenset[str], base: str) -> str:
    missing, extra = sorted(fields - given), sorted(given - fields)
    said = "; ".join(
        part
        for part in (
            f"lacks {', '.join(missing)}" if missing else "",
            f"also gives {', '.join(extra)}" if extra else "",
        )
        if part
    )
    return (
        f"{place}: {said} (every participant of one request gives the fields {base}/0 gives, as the rows "
        "of a CSV file share its columns)"
    )


def _limits(person: Participant, place: str) -> list[str]:
    """The store's limits, which a model validated without them has not been checked against."""
    values = person.model_dump(include=person.model_fields_set)
    try:
        Participant.model_validate(values, context=store_limits())
    except ValidationError as exc:
        return [
            f"{place}/{'/'.join(map(str, error['loc']))}: {describe_error(error)}" for error in exc.errors()
        ]
    return []
