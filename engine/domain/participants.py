"""Participants of the program: one mentor or mentee as matching and the lifecycle see them.

A :class:`Participant` is validated field by field, with messages written for
an operator; :mod:`engine.files.participants` reads them from the CSV file HR
exports.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Literal
from zoneinfo import available_timezones

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

Role = Literal["mentor", "mentee"]
ROLES: tuple[Role, ...] = ("mentor", "mentee")

CSV_COLUMNS: tuple[str, ...] = (
    "external_id", "role", "name", "email", "department", "manager_id", "level",
    "skills", "wants", "goals", "interests", "values", "work_style", "communication",
    "languages", "timezone", "capacity", "trained", "status",
)  # fmt: skip

Status = Literal["active", "leave", "left"]
STATUSES: tuple[Status, ...] = ("active", "leave", "left")

_YES = frozenset({"true", "yes", "y", "1", "ja"})
_NO = frozenset({"false", "no", "n", "0", "nee", ""})
_EMAIL = re.compile(
    r"(?!\.)(?!.*\.\.)[\w.!#$%&'*+/=?^`{|}~-]+(?<!\.)@(?:[^\W_]+(?:-+[^\W_]+)*\.)+[^\W\d_]{2,}"
)
_HINTS = {"role": "mentor or mentee", "name": "a name", "email": "an email address"}
_LIST_FIELDS = (
    "skills", "wants", "goals", "interests", "values", "work_style", "communication", "languages",
)  # fmt: skip


def _own_error(kind: str, message: str, **context: str) -> PydanticCustomError:
    """An error whose message is already written for an operator (see :func:`_describe`)."""
    return PydanticCustomError(f"participant_{kind}", message, context or None)


class Participant(BaseModel):
    """One mentor or mentee, as imported from HR; lists keep the order they were written in."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    external_id: str | None = None
    role: Role
    name: str
    email: str
    department: str | None = None
    manager_id: str | None = None
    level: int | None = Field(default=None, ge=0)
    skills: tuple[str, ...] = ()
    wants: tuple[str, ...] = ()
    goals: tuple[str, ...] = ()
    interests: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    work_style: tuple[str, ...] = ()
    communication: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    timezone: str | None = None
    capacity: int = Field(default=1, ge=0)
    trained: bool = False
    status: Status = "active"

    @property
    def key(self) -> str:
        """The identity a re-import is matched on: the external id if HR has one, else the email."""
        return self.external_id if self.external_id is not None else self.email

    @field_validator("external_id", "department", "manager_id", "timezone", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return (value.strip() or None) if isinstance(value, str) else value

    @field_validator("role", "name", "email", mode="before")
    @classmethod
    def _required_text(cls, value: object, info: ValidationInfo) -> object:
        if not isinstance(value, str):
            return value
        field = info.field_name or ""
        text = value.strip() if field == "name" else value.strip().lower()
        if not text:
            raise _own_error("required", f"is empty (expected {_HINTS[field]})")
        if field == "role" and text not in ROLES:
            raise _own_error("role", "is not a role (allowed: mentor, mentee)")
        if field == "email" and not _EMAIL.fullmatch(text):
            raise _own_error("email", "is not an email address (expected name@example.com)")
        return text

    @field_validator(*_LIST_FIELDS, mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        items: object = value.split(";") if isinstance(value, str) else value
        if isinstance(items, Iterable) and all(isinstance(item, str) for item in items):
            return tuple(item.strip() for item in items if item.strip())
        return value

    @field_validator("status", mode="before")
    @classmethod
    def _known_status(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        word = value.strip().lower()
        if word not in STATUSES:
            raise _own_error("status", "is not a status (allowed: active, leave, left)")
        return word

    @field_validator("trained", mode="before")
    @classmethod
    def _yes_or_no(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        word = value.strip().lower()
        if word not in _YES | _NO:
            raise _own_error("trained", "is not yes or no (expected yes/no, true/false, ja/nee, 1/0)")
        return word in _YES

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None or value in _zone_names():
            return value
        guess = difflib.get_close_matches(value, _zone_names(), n=1)
        hint = f"did you mean {guess[0]}?" if guess else "expected a name such as Europe/Amsterdam"
        raise _own_error("timezone", "is not a known time zone ({hint})", hint=hint)

    @field_validator("manager_id")
    @classmethod
    def _not_own_manager(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and value == info.data.get("external_id"):
            message = "is the participant's own external_id (nobody can be their own manager)"
            raise _own_error("manager_is_self", message)
        return value


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    """IANA zone names known to this Python (tzdata); "UTC" is among them."""
    return frozenset(available_timezones() | {"UTC"})
