"""Participants of the program: one mentor or mentee as matching and the lifecycle see them.

A :class:`Participant` is validated field by field, with messages written for
an operator; :mod:`engine.files.participants` reads them from the CSV file HR
exports. Every text refuses line breaks and control characters (NUL included);
addresses are checked by ``email-validator`` (international ones kept, normalised).
The store's limits are not known here (the domain imports no store): a reader
passes them in the validation context, ``{"lengths": {column: longest},
"integer_max": n}``, and each value is then checked against them too.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, Literal
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
    "languages", "timezone", "capacity", "trained", "status", "qualities",
)  # fmt: skip

Status = Literal["active", "leave", "left"]
STATUSES: tuple[Status, ...] = ("active", "leave", "left")

_YES = frozenset({"true", "yes", "y", "1", "ja"})
_NO = frozenset({"false", "no", "n", "0", "nee", ""})
_HINTS = {"role": "mentor or mentee", "name": "a name", "email": "an email address"}
_LIST_FIELDS = (
    "skills", "wants", "goals", "interests", "values", "work_style", "communication", "languages",
    "qualities",
)  # fmt: skip
_TEXT_FIELDS = ("external_id", "role", "name", "email", "department", "manager_id", "timezone")
_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def _own_error(kind: str, message: str, **context: str) -> PydanticCustomError:
    """An error whose message is already written for an operator (see :func:`_describe`)."""
    return PydanticCustomError(f"participant_{kind}", message, context or None)


def _one_line(text: str) -> str:
    """``text`` if it holds no line break and no other control character (NUL, tab, ...); refused otherwise.

    Names and addresses end up in mail headers and single-line fields: a line break
    there could add a header (``Bcc:``) or break the message for everyone in its batch.
    """
    found = _UNSAFE.search(text)  # the first line break or control character, if any
    if found is None:
        return text
    char = found.group()
    if char in _LINE_BREAKS:
        raise _own_error("line_break", "holds a line break (expected a single line)")
    code = f"U+{ord(char):04X}"
    raise _own_error("control", "holds the control character {code} (expected plain text)", code=code)


_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
"""The line breaks and the control characters (Unicode category Cc: U+0000-U+001F, U+007F-U+009F)."""


def _email(text: str) -> str:
    """The address normalised (international addresses kept, in NFC); refused unless it is one.

    Checked by ``email-validator`` without looking the domain up; the top-level
    domain must have two characters at least (``example.c`` is a typo). A plain
    address (see :func:`_plain_address`) takes a shortcut with the same outcome.
    """
    from email_validator import EmailNotValidError, validate_email  # only where an address is checked

    try:
        address = _plain_address(text) or validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        reason = str(exc).rstrip(".")
        reason = reason[:1].lower() + reason[1:]
        raise _own_error(
            "email", "is not an email address (expected name@example.com): {reason}", reason=reason
        ) from None
    if len(address.rsplit(".", 1)[-1]) < 2:
        raise _own_error(
            "email", "is not an email address (expected name@example.com): its domain is cut short"
        )
    return address


_PLAIN_LOCAL = re.compile(r"[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*\Z")
"""A local part of lowercase ASCII atoms (a subset of RFC 5322's dot-atom): ``email-validator`` keeps
it as it is."""
_PLAIN_DOMAIN = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+\Z")
_LONGEST_ADDRESS = 254  # email-validator's EMAIL_MAX_LENGTH (RFC 5321 4.5.3.1.3 with RFC 3696 errata)


def _plain_address(text: str) -> str | None:
    """``text`` when ``email-validator`` would accept it unchanged, known without running it in full;
    ``None`` when that is not certain (the full check then decides, and words any problem).

    The address must be lowercase ASCII atoms, one ``@``, a domain of letters, digits, hyphens and
    dots that the full check accepts as it is, and no longer than the longest address. The domain
    check is the costly part and its outcome depends on the domain alone: it runs once per domain
    (on a probe address, ``x@DOMAIN``). For such an address the full check splits it at its one
    ``@``, finds the local part a dot-atom (kept as it is: lowercase, not a mailbox name to lower),
    the domain as the probe found it, and every length within the limit: its result is ``text``.
    """
    local, at, domain = text.partition("@")
    if not at or len(text) > _LONGEST_ADDRESS or not _PLAIN_LOCAL.match(local):
        return None
    if not _PLAIN_DOMAIN.match(domain) or not _domain_kept(domain):
        return None
    return text


@lru_cache(maxsize=256)
def _domain_kept(domain: str) -> bool:
    """Whether ``email-validator`` accepts ``domain`` after an ``@`` and leaves it as it is."""
    from email_validator import EmailNotValidError, validate_email

    try:
        checked = validate_email(f"x@{domain}", check_deliverability=False)
    except EmailNotValidError:
        return False
    return checked.domain == domain and checked.ascii_domain == domain


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
    qualities: tuple[str, ...] = ()  # personal qualities a mentor brings, or a mentee looks for
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
        return (_one_line(value.strip()) or None) if isinstance(value, str) else value

    @field_validator("role", "name", "email", mode="before")
    @classmethod
    def _required_text(cls, value: object, info: ValidationInfo) -> object:
        if not isinstance(value, str):
            return value
        field = info.field_name or ""
        text = _one_line(value.strip() if field == "name" else value.strip().lower())
        if not text:
            raise _own_error("required", f"is empty (expected {_HINTS[field]})")
        if field == "role" and text not in ROLES:
            raise _own_error("role", "is not a role (allowed: mentor, mentee)")
        return _email(text) if field == "email" else text

    @field_validator(*_LIST_FIELDS, mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str) and _UNSAFE.search(value) is None:  # no item can be refused: one look
            return tuple(item for item in map(str.strip, value.split(";")) if item)
        items: object = value.split(";") if isinstance(value, str) else value
        if isinstance(items, Iterable) and all(isinstance(item, str) for item in items):
            return tuple(_one_line(item.strip()) for item in items if item.strip())
        return value

    @field_validator(*_TEXT_FIELDS)
    @classmethod
    def _fits(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Within the length the store holds, when the reader passes ``lengths`` in the validation context."""
        longest = _limits(info, "lengths").get(info.field_name or "")
        if value is not None and longest is not None and len(value) > longest:
            message = "is {count} characters long (at most {longest} are stored)"
            raise _own_error("too_long", message, count=str(len(value)), longest=str(longest))
        return value

    @field_validator("level", "capacity")
    @classmethod
    def _integer(cls, value: int | None, info: ValidationInfo) -> int | None:
        """Within the integer range the store holds, when the reader passes ``integer_max`` in the context."""
        largest = _limits(info, "integer_max")
        if value is not None and isinstance(largest, int) and value > largest:
            raise _own_error("too_large", "is too large (at most {largest})", largest=str(largest))
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


def _limits(info: ValidationInfo, name: str) -> Any:
    """``lengths`` or ``integer_max`` of the validation context (see :class:`Participant`), if given."""
    context = info.context
    if type(context) is not dict and not isinstance(context, Mapping):  # a dict, as readers pass: no ABC
        context = {}
    return context.get(name) or ({} if name == "lengths" else None)


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    """IANA zone names known to this Python (tzdata); "UTC" is among them."""
    return frozenset(available_timezones() | {"UTC"})


class Constructed:
    """``Participant.model_construct(**dict(zip(names, values)))``, list fields (``lists``) made tuples,
    put together once for many: the same ``__dict__`` (fields in the model's order, with the defaults of
    those not given), fields set, extra and private values as pydantic's ``model_construct`` sets them,
    without its work per field. For a store's rows, which are valid already."""

    def __init__(self, names: tuple[str, ...], lists: Iterable[str]) -> None:
        fields = Participant.model_fields
        assert Participant.__pydantic_post_init__ is None and Participant.model_config.get("extra") != "allow"
        assert all(f.alias is None and f.validation_alias is None for f in fields.values())
        self.fields_set = frozenset(names)
        self.lists = tuple(i for i, name in enumerate(names) if name in set(lists))
        self.defaults = {
            name: info.get_default(call_default_factory=True, validated_data={})
            for name, info in fields.items()
            if name not in self.fields_set and not info.is_required()
        }
        assert all(type(v) in (type(None), bool, int, str, tuple) for v in self.defaults.values()), (
            "a default shared between participants must be immutable"
        )
        self.slots = [(name, names.index(name) if name in self.fields_set else -1) for name in fields]
        self.slots = [(name, i) for name, i in self.slots if i >= 0 or name in self.defaults]
        self._tuples: dict[int, tuple[Any, tuple[Any, ...]]] = {}

    def _tuple(self, value: Any) -> tuple[Any, ...]:
        """``tuple(value or ())``, once per list object (rows read alike share one list: the memo keeps
        it, so no other object can take its id meanwhile)."""
        kept = self._tuples.get(id(value))
        if kept is None or kept[0] is not value:
            kept = self._tuples[id(value)] = (value, tuple(value or ()))
        return kept[1]

    def __call__(self, values: list[Any]) -> Participant:
        """The participant of these values (in the order of ``names``); list fields become tuples."""
        for i in self.lists:
            values[i] = self._tuple(values[i])
        defaults = self.defaults
        made = object.__new__(Participant)
        _set(made, "__dict__", {name: defaults[name] if i < 0 else values[i] for name, i in self.slots})
        _set(made, "__pydantic_fields_set__", set(self.fields_set))
        _set(made, "__pydantic_extra__", None)
        _set(made, "__pydantic_private__", None)
        return made


_set = object.__setattr__
