"""``Constructed`` builds a participant as ``Participant.model_construct`` does from the same values."""

from __future__ import annotations

from typing import Any

import pytest

from engine.domain.participants import Constructed, Participant
from engine.services.pairing import CHECKED
from engine.store.tables import LIST_FIELDS

STORED: dict[str, Any] = {
    "external_id": "E1", "role": "mentee", "name": "Ada", "email": "ada@example.org", "department": "R&D",
    "manager_id": None, "level": 2, "skills": [], "wants": None, "goals": ["speak"], "interests": ["chess"],
    "values": [], "work_style": [], "communication": [], "languages": ["en", "nl"],
    "timezone": "Europe/Amsterdam", "capacity": 3, "trained": True, "status": "leave",
    "qualities": ["patience"],
}  # fmt: skip


@pytest.mark.parametrize(
    "names",
    [tuple(Participant.model_fields), tuple(n for n in Participant.model_fields if n in CHECKED), ("name",)],
)
def test_the_same_model_as_model_construct(names: tuple[str, ...]) -> None:
    given = {name: STORED[name] for name in names}
    given.update({name: tuple(given[name] or ()) for name in LIST_FIELDS if name in names})
    expected = Participant.model_construct(**given)
    construct = Constructed(names, LIST_FIELDS)
    made, other = construct([STORED[name] for name in names]), construct([STORED[name] for name in names])
    assert list(made.__dict__.items()) == list(expected.__dict__.items())  # values, defaults, their order
    assert made.model_fields_set == expected.model_fields_set
    assert made.model_fields_set is not other.model_fields_set  # each its own set, as pydantic gives it
    assert (made.__pydantic_extra__, made.__pydantic_private__) == (None, None)
    assert made == expected


def test_lists_read_alike_share_one_tuple() -> None:
    construct, languages = Constructed(("name", "languages"), LIST_FIELDS), ["en"]
    first, second = construct(["a", languages]), construct(["b", languages])
    assert first.languages == ("en",) and first.languages is second.languages
    assert construct(["c", None]).languages == ()
