"""What the API answers with and accepts, as pydantic models: these are its OpenAPI schemas.

Times are ISO 8601 with their offset (UTC as stored). A list is a :class:`Page`: its ``items`` and the
``next_cursor`` to ask for the next page with (``null`` on the last one).
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, field_validator

from engine.domain.participants import Participant
from engine.files.participant_items import MAX_ITEMS
from engine.services.limits import INTEGER_MAX
from engine.services.pages import MAX_PAGE
from workflows.api.problems import ApiProblem, FieldProblem

T = TypeVar("T")
NO_NUL = r"^[^\x00]*$"
"""A parameter's pattern: any text but a NUL (which the database cannot store or look up)."""
Id = Annotated[int, Field(ge=1, le=INTEGER_MAX, examples=[12])]
"""An id of the store (a 32-bit integer on PostgreSQL)."""


class Input(BaseModel):
    """A request body: no unknown field, and no NUL in any text of it, however deep."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if _holds_nul(value):
            raise ValueError("holds a NUL character (expected plain text)")
        return value


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(item) for item in value)
    return False


class Page(BaseModel, Generic[T]):
    """One page of a list, by id; ``next_cursor`` continues it (``null``: the last page)."""

    items: list[T]
    next_cursor: str | None = Field(examples=["eyJhZnRlciI6IDEwMH0"])


def cursor_of(after: int | None) -> str | None:
    """The cursor of the page after the row ``after``: opaque to clients."""
    if after is None:
        return None
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode().rstrip("=")


def after_of(cursor: str | None) -> int:
    """The id a ``cursor`` continues after (0: from the start); a 422 problem for one not made here."""
    if not cursor:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after = data["after"]
        if isinstance(after, int) and not isinstance(after, bool) and 0 <= after <= INTEGER_MAX:
            return after
    except (ValueError, TypeError, KeyError, binascii.Error):
        pass
    problem = FieldProblem(
        parameter="cursor", detail="is not a cursor of this API (take next_cursor of a page)"
    )
    raise ApiProblem(422, "the cursor could not be read", [problem])


Cursor = Annotated[
    str | None, Query(max_length=200, pattern=NO_NUL, description="The `next_cursor` of the page before.")
]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Rows per page.")]


class ParticipantOut(BaseModel):
    """A participant as stored."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(examples=[12])
    external_id: str | None = Field(examples=["E1101"])
    role: str = Field(examples=["mentee"])
    name: str = Field(examples=["Zoë Çelik"])
    email: str = Field(examples=["zoe.celik@example.com"])
    department: str | None = None
    manager_id: str | None = None
    level: int | None = None
    skills: list[str] = Field(default_factory=list)
    wants: list[str] = Field(default_factory=list)
    goals: list[str] = Field(default_factory=list)
    interests: list[str] = Field(default_factory=list)
    values: list[str] = Field(default_factory=list)
    work_style: list[str] = Field(default_factory=list)
    communication: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    qualities: list[str] = Field(default_factory=list)
    timezone: str | None = None
    capacity: int = 1
    trained: bool = False
    status: str = Field(examples=["active"])
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: dict[str, Any]) -> ParticipantOut:
        return cls.model_validate({name: row[name] for name in cls.model_fields})


class ParticipantBatch(Input):
    """Participants to add or update, as rows of the participants CSV are: matched by external id, else
    email; the fields the first gives are the fields of all (as a file's columns)."""

    participants: list[Participant] = Field(min_length=1, max_length=MAX_ITEMS)
    dry_run: bool = Field(
        default=False, description="Work it all out and say what it would do; write nothing."
    )


class Change(BaseModel):
    field: str
    old: Any = None
    new: Any = None


class PersonResult(BaseModel):
    key: str = Field(examples=["E1101"])
    name: str
    action: str = Field(examples=["new"], description="new, updated or unchanged")
    changes: list[Change] = Field(default_factory=list)
    relationships: list[str] = Field(default_factory=list, examples=[["opens a relationship in 'intake'"]])


class ImportResult(BaseModel):
    """What an upsert did (or, with ``dry_run``, would do)."""

    created: int
    updated: int
    unchanged: int
    relationships_opened: list[int]
    dry_run: bool
    people: list[PersonResult]
