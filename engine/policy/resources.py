"""What a phase points its people to: the ``resources:`` of a phase, as text or with a link.

A resource is written as a text (shown as is, to mentee and mentor) or as a
mapping with a ``title``, an optional Dutch ``title_nl``, an optional ``link``
and whom it is ``for``. A text stays a text in the policy's data, so a policy
written before resources had links keeps its digest.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Discriminator, Field, Tag, field_validator

from engine.policy.fields import PolicyModel
from engine.policy.problems import shown

AUDIENCES = ("mentee", "mentor", "both")

if TYPE_CHECKING:
    from engine.policy.model import Policy


class Resource(PolicyModel):
    """A resource with a title, perhaps a link, for the mentee, the mentor or both."""

    title: str = Field(min_length=1)
    title_nl: str | None = None
    link: str | None = None
    audience: Literal["mentee", "mentor", "both"] = Field(default="both", alias="for")

    @field_validator("link")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"{shown(value)} is not a web address (expected https://... or http://...)")
        return value


def _form(value: object) -> str:
    return MAPPING if isinstance(value, (dict, Resource)) else TEXT


# The branches are tagged like types, so the policy's errors name no branch (engine.policy.problems).
TEXT, MAPPING = "str", "dict[str, str]"
ResourceEntry = Annotated[
    Annotated[str, Tag(TEXT)] | Annotated[Resource, Tag(MAPPING)],
    Discriminator(_form),
]
"""A phase's resource as written: a text, or a :class:`Resource` mapping."""


def resources_for(
    entries: Iterable[str | Resource], recipient: str, language: str
) -> list[dict[str, str | None]]:
    """The ``title`` (in ``language`` where the policy gives it) and ``link`` of each resource meant for
    ``recipient``; a text is for everyone and has no link."""
    shown: list[dict[str, str | None]] = []
    for entry in entries:
        if isinstance(entry, str):
            shown.append({"title": entry, "link": None})
        elif entry.audience in ("both", recipient):
            title = entry.title_nl if language == "nl" and entry.title_nl else entry.title
            shown.append({"title": title, "link": entry.link})
    return shown


def phase_resources(policy: Policy) -> dict[str, tuple[str | Resource, ...]]:
    """The ``resources:`` of each phase of ``policy`` that has any, by phase name (what the messages of
    entering it list: :class:`engine.delivery.channels.ProgramInfo`)."""
    return {name: tuple(phase.resources) for name, phase in policy.phases.items() if phase.resources}
