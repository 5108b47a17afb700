"""Participants of the program, and the CSV file HR exports them in.

The model holds one mentor or mentee as the matching and the lifecycle see them. The import
is all or nothing: every problem in the file is collected and raised as one
:class:`ParticipantsError` whose lines name the file, row, line and column, so an operator can
fix the export in one pass. Reading is pure: a file in, models out, no database.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import available_timezones

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from engine.errors import ParticipantsError

Role = Literal["mentor", "mentee"]
ROLES: tuple[Role, ...] = ("mentor", "mentee")

CSV_COLUMNS: tuple[str, ...] = (
    "external_id", "role", "name", "email", "department", "manager_id", "level",
    "skills", "wants", "goals", "interests", "values", "work_style", "communication",
    "languages", "timezone", "capacity", "trained",
)  # fmt: skip
REQUIRED_COLUMNS: tuple[str, ...] = ("role", "name", "email")
MAX_PROBLEMS = 50

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


def parse_participants_csv(path: Path) -> list[Participant]:
    """Read an HR export; raise :class:`ParticipantsError` listing every problem in it."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ParticipantsError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ParticipantsError(f"{path}: is a directory, not a CSV file") from None
    except OSError as exc:
        raise ParticipantsError(f"{path}: cannot be read ({exc.strerror})") from None
    return parse_participants_text(_decode(data, str(path)), str(path))


def parse_participants_text(text: str, source: str) -> list[Participant]:
    """Parse CSV text; ``source`` names the file in every problem."""
    records = _records(text.removeprefix("\ufeff"), source)
    if not records:
        header = ",".join(CSV_COLUMNS)
        raise _failure(source, [f"{source}: line 1: file is empty (expected a header: {header})"])
    header_line, header_fields = records[0]
    columns = _columns(header_fields, source, header_line)
    rows = [_Row.of(n, line, columns, fields) for n, (line, fields) in enumerate(records[1:], 1)]
    if not rows:
        only = f"only the header, line {header_line}"
        raise _failure(source, [f"{source}: no participants in file ({only})"])
    problems: list[tuple[int, str]] = []
    participants = [p for row in rows if (p := _participant(row, source, problems)) is not None]
    problems += _duplicates(rows, source)
    if problems:
        raise _failure(source, [text for _, text in sorted(problems, key=lambda p: p[0])])
    return participants


@dataclass(frozen=True)
class _Row:
    """A data row: its number (from 1), the line it starts on, its cells by column."""

    number: int
    line: int
    cells: dict[str, str]
    extra: int  # fields beyond the header

    @classmethod
    def of(cls, number: int, line: int, columns: list[str], fields: list[str]) -> _Row:
        padded = [*fields, *[""] * (len(columns) - len(fields))]
        cells = {column: value.strip() for column, value in zip(columns, padded, strict=False)}
        return cls(number, line, cells, max(0, len(fields) - len(columns)))

    def where(self, source: str) -> str:
        return f"{source}: row {self.number} (line {self.line})"


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    problems = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(
                f"{source}: line {number}: not UTF-8 (byte 0x{line[exc.start]:02X} at position"
                f' {exc.start + 1}); save the file as UTF-8 (in Excel: "CSV UTF-8")'
            )
    raise _failure(source, problems)


def _records(text: str, source: str) -> list[tuple[int, list[str]]]:
    """The non-blank records of ``text``, each with the line it starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for fields in reader:
            if any(field.strip() for field in fields):
                records.append((start, fields))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise _failure(source, [f"{source}: line {start}: {_csv_problem(exc)}"]) from None
    return records


def _csv_problem(exc: csv.Error) -> str:
    reason = str(exc)
    if "unexpected end of data" in reason:
        return "a quoted value that starts in this row is never closed (a '\"' is missing)"
    if "expected after" in reason:
        return 'text follows a closing quote (write "" for a quote inside a quoted value)'
    return f"is not valid CSV ({reason})"


def _columns(header: list[str], source: str, line: int) -> list[str]:
    """The normalised column names; raise if the header cannot be used."""
    where = f"{source}: line {line}"
    names = [name.strip().lower() for name in header]
    if len(names) == 1 and (";" in names[0] or "\t" in names[0]):
        separator = "';'" if ";" in names[0] else "tabs"
        raise _failure(source, [f"{where}: columns are separated by {separator} (expected commas)"])
    if not any(name in CSV_COLUMNS or _suggest(name) for name in names):
        expected = ",".join(CSV_COLUMNS)
        raise _failure(source, [f"{where}: no header (expected column names: {expected})"])
    problems = [f"{where}: {text}" for text in _header_problems(names)]
    if problems:
        raise _failure(source, problems)
    return names


def _header_problems(names: list[str]) -> list[str]:
    problems = []
    for index, name in enumerate(names, start=1):
        if not name:
            problems.append(f"column {index} has no name")
        elif name in names[: index - 1]:
            first = names.index(name) + 1
            problems.append(f"column '{name}' appears twice (columns {first} and {index})")
        elif name not in CSV_COLUMNS:
            guess = _suggest(name)
            hint = f"did you mean '{guess}'?" if guess else f"known: {', '.join(CSV_COLUMNS)}"
            problems.append(f"unknown column '{name}' ({hint})")
    guessed = {_suggest(name) for name in names if name not in CSV_COLUMNS}
    missing = [c for c in REQUIRED_COLUMNS if c not in names and c not in guessed]
    return problems + [f"missing required column '{column}'" for column in missing]


def _suggest(name: str) -> str | None:
    guesses = difflib.get_close_matches(name, CSV_COLUMNS, n=1)
    return guesses[0] if guesses else None


def _participant(row: _Row, source: str, problems: list[tuple[int, str]]) -> Participant | None:
    """Validate one row; its problems are appended, already worded for the operator."""
    if row.extra:
        count = f"{len(row.cells) + row.extra} fields but the header has {len(row.cells)} columns"
        hint = "quote a value that contains a comma"
        problems.append((row.number, f"{row.where(source)}: {count} ({hint})"))
        return None
    given = {c: v for c, v in row.cells.items() if v or c in REQUIRED_COLUMNS}
    try:
        return Participant.model_validate(given)
    except ValidationError as exc:
        for error in exc.errors():
            problems.append((row.number, _row_problem(row, source, error)))
        return None


def _row_problem(row: _Row, source: str, error: ErrorDetails) -> str:
    column = str(error["loc"][0]) if error["loc"] else "?"
    raw = row.cells.get(column, "")
    value = f"{_quote(raw)} " if raw else ""
    return f"{row.where(source)}: column '{column}': {value}{_describe(error)}"


_PYDANTIC_WORDING = {
    **dict.fromkeys(("int_parsing", "int_from_float", "int_type"), "is not a whole number"),
    **dict.fromkeys(("bool_parsing", "bool_type"), "is not yes or no"),
    "greater_than_equal": "must be {ge} or more",
    "missing": "is required",
}


def _describe(error: ErrorDetails) -> str:
    """Operator wording for a validation error; pydantic's own text never gets through."""
    if error["type"].startswith("participant_"):
        return error["msg"]
    wording = _PYDANTIC_WORDING.get(error["type"], "is not a valid value")
    return wording.format(**(error.get("ctx") or {}))


def _duplicates(rows: list[_Row], source: str) -> list[tuple[int, str]]:
    """Rows whose email or external_id an earlier row already uses."""
    problems = []
    for column in ("email", "external_id"):
        seen: dict[str, _Row] = {}
        for row in (r for r in rows if not r.extra):
            raw = row.cells.get(column, "")
            value = raw.lower() if column == "email" else raw
            first = seen.setdefault(value, row) if value else row
            if first is not row:
                where = f"{row.where(source)}: column '{column}'"
                used = f"is already used by row {first.number} (line {first.line})"
                problems.append((row.number, f"{where}: {_quote(raw)} {used}"))
    return problems


def _quote(value: str) -> str:
    shown = value if len(value) <= 60 else value[:57] + "..."
    return json.dumps(shown, ensure_ascii=False)


def _failure(source: str, problems: list[str]) -> ParticipantsError:
    """One error for the whole file: nothing in it is imported."""
    shown = problems[:MAX_PROBLEMS]
    if len(problems) > MAX_PROBLEMS:
        shown.append(f"... and {len(problems) - MAX_PROBLEMS} more problems")
    count = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
    return ParticipantsError(f"{source}: participants not imported, {count}", shown)
