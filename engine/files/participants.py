"""The participants CSV that HR exports, read into :class:`~engine.domain.participants.Participant` models.

All or nothing: every problem in the file is collected and raised as one
:class:`ParticipantsError` whose lines name the file, row, line and column, so an
operator can fix the export in one pass. Reading is pure: a file in, models out,
no database.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import json
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, overload

from pydantic import (
    ValidationError,
)
from pydantic_core import ErrorDetails

from engine.domain.participants import CSV_COLUMNS, Participant
from engine.errors import InputError, ParticipantsError, field, listed
from engine.services.limits import INTEGER_MAX, column_lengths

REQUIRED_COLUMNS: tuple[str, ...] = ("role", "name", "email")
DELIMITERS = {",": "','", ";": "';'", "\t": "tabs"}
"""The delimiters detected from the header line (Excel in Dutch, German or French saves with ';')."""


@dataclass(frozen=True)
class ParticipantsFile:
    """A participants file read: its people, the known columns it has, where each row is, what it ignored.

    A column the file does not have leaves that field of an existing participant as
    it is; ``columns`` says which fields the file speaks about.
    """

    source: str
    people: list[Participant]
    columns: frozenset[str]
    rows: Sequence[str]  # per person, "people.csv: row 3 (line 4)"
    ignored: tuple[str, ...] = ()

    @property
    def warning(self) -> str | None:
        """One line naming the unknown columns that were ignored, or ``None``."""
        if not self.ignored:
            return None
        names = ", ".join(f"'{name}'" for name in self.ignored)
        return f"{self.source}: ignoring unknown column(s) {names} (known: {', '.join(CSV_COLUMNS)})"


def parse_participants_csv(path: Path) -> list[Participant]:
    """Read an HR export strictly (unknown columns refused); ParticipantsError lists every problem."""
    return read_participants(path, strict=True).people


def read_participants(path: Path, *, delimiter: str | None = None, strict: bool = False) -> ParticipantsFile:
    """Read an HR export; the delimiter detected unless given; unknown columns refused only if ``strict``.

    The file is read as a stream, a row at a time: only the people read stay in memory.
    """
    try:
        _check_utf8(path)
        with path.open(encoding="utf-8-sig", newline="") as lines:
            sep = delimiter or _detect_delimiter(lines)
            lines.seek(0)
            return _read(lines, str(path), sep, strict=strict)
    except FileNotFoundError:
        raise ParticipantsError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ParticipantsError(f"{path}: is a directory, not a CSV file") from None
    except OSError as exc:
        raise ParticipantsError(f"{path}: cannot be read ({exc.strerror})") from None


def _check_utf8(path: Path) -> None:
    """Refuse a file that is not UTF-8, naming each line that is not, before any of it is read."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as raw:
        try:
            while block := raw.read(1 << 20):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            _decode(path.read_bytes(), str(path))


def parse_participants_text(text: str, source: str) -> list[Participant]:
    """Parse CSV text strictly; ``source`` names the file in every problem."""
    return read_participants_text(text, source, strict=True).people


def read_participants_text(
    text: str, source: str, *, delimiter: str | None = None, strict: bool = False
) -> ParticipantsFile:
    """Parse CSV text; ``source`` names the file in every problem."""
    sep = delimiter or _detect_delimiter(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    return _read(io.StringIO(text, newline=""), source, sep, strict=strict)


def _read(lines: Iterable[str], source: str, delimiter: str, *, strict: bool) -> ParticipantsFile:
    """Every row of ``lines`` validated as it is read; ParticipantsError with every problem found."""
    records = _records(_without_bom(lines), source, delimiter)
    first = next(records, None)
    if first is None:
        header = ",".join(CSV_COLUMNS)
        raise _failure(source, [f"{source}: line 1: file is empty (expected a header: {header})"])
    header_line, header_fields = first
    columns, ignored = _columns(header_fields, source, header_line, strict=strict)
    people = _People(source, ignored)
    for number, (line, fields) in enumerate(records, 1):
        people.add(_Row.of(number, line, columns, fields))
    if not people.read:
        only = f"only the header, line {header_line}"
        raise _failure(source, [f"{source}: no participants in file ({only})"])
    if people.problems:
        raise _failure(source, people.problems)
    known = frozenset(columns) - set(ignored)
    return ParticipantsFile(source, people.people, known, _Places(source, people.places), ignored)


def _without_bom(lines: Iterable[str]) -> Iterator[str]:
    """``lines`` with a byte-order mark taken off the first (one the decoder left there)."""
    iterator = iter(lines)
    first = next(iterator, None)
    if first is not None:
        yield first.removeprefix("\ufeff")
        yield from iterator


class _People:
    """The rows of a file as they are read: the people validated, where each is, every problem in row
    order, and the first row that used each email and external id (for the duplicates)."""

    def __init__(self, source: str, ignored: tuple[str, ...]) -> None:
        self.source, self.ignored = source, ignored
        self.people: list[Participant] = []
        self.places = array("q")  # per person: row number, line number
        self.problems: list[str] = []
        self.read = 0
        self._seen: dict[str, dict[str, tuple[int, int]]] = {"email": {}, "external_id": {}}
        self._shared: dict[tuple[type, Any], Any] = {}

    def add(self, row: _Row) -> None:
        self.read += 1
        found: list[tuple[int, str]] = []
        person = _participant(row, self.source, found, self.ignored)
        if not row.extra:
            found += self._duplicates(row, person)
        self.problems += [text for _, text in found]
        if person is not None and not self.problems:  # once the file fails, only its problems count
            self.people.append(_compact(person, self._shared))
            self.places.extend((row.number, row.line))

    def _duplicates(self, row: _Row, person: Participant | None) -> list[tuple[int, str]]:
        """The row's email (as normalised) or external_id that an earlier row already uses."""
        problems = []
        for column, seen in self._seen.items():
            raw = row.cells.get(column, "")
            value = raw.lower() if column == "email" else raw
            if column == "email" and raw and person is not None:
                value = person.email
            if not value:
                continue
            first = seen.setdefault(value, (row.number, row.line))
            if first != (row.number, row.line):
                where = f"{row.where(self.source)}: column '{column}'"
                used = f"is already used by row {first[0]} (line {first[1]})"
                problems.append((row.number, f"{where}: {_quote(raw)} {used}"))
        return problems


_REPEATED = frozenset(CSV_COLUMNS) - {"external_id", "name", "email"}
"""The fields whose values recur from person to person (roles, departments, skills, zones, ...)."""


def _compact(person: Participant, shared: dict[tuple[type, Any], Any]) -> Participant:
    """``person`` made to share recurring values with the people read before: a large file stays small.

    Values are shared by type and value (``True`` and ``1`` are equal, but not the same value); the
    model is frozen and was just validated, so its values are swapped in place, as pydantic sets them.
    """
    values = person.__dict__
    for name in _REPEATED:
        value = values[name]
        values[name] = shared.setdefault((type(value), value), value)
    fields = person.model_fields_set
    object.__setattr__(person, "__pydantic_fields_set__", shared.setdefault((set, frozenset(fields)), fields))
    return person


class _Places(Sequence[str]):
    """Where each person is in the file ("people.csv: row 3 (line 4)"), worded when asked for."""

    def __init__(self, source: str, places: array[int]) -> None:
        self._source, self._places = source, places

    def __len__(self) -> int:
        return len(self._places) // 2

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        number, line = self._places[2 * index], self._places[2 * index + 1]
        return f"{self._source}: row {number} (line {line})"


def check_delimiter(value: str) -> str:
    """The delimiter an operator gives (``;``, ``,``, ``tab`` or one character); InputError otherwise."""
    if value.lower() in ("tab", "\\t", "\t"):
        return "\t"
    if len(value) != 1 or value in ('"', "\n", "\r"):
        raise InputError(
            f"{field('delimiter')}: {value!r} is not a delimiter (expected ';', ',', 'tab' or one character)"
        )
    return value


def _detect_delimiter(lines: Iterable[str]) -> str:
    """The delimiter of the header line: the most frequent of ',', ';' and tab (',' if none)."""
    first = next((line for chunk in lines for line in chunk.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


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


def _records(lines: Iterable[str], source: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """The non-blank records of ``lines``, each with the line it starts on, as they are read."""
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    start = 1
    try:
        for fields in reader:
            if any(field.strip() for field in fields):
                yield start, fields
            start = reader.line_num + 1
    except csv.Error as exc:
        raise _failure(source, [f"{source}: line {start}: {_csv_problem(exc)}"]) from None


def _csv_problem(exc: csv.Error) -> str:
    reason = str(exc)
    if "unexpected end of data" in reason:
        return "a quoted value that starts in this row is never closed (a '\"' is missing)"
    if "expected after" in reason:
        return 'text follows a closing quote (write "" for a quote inside a quoted value)'
    return f"is not valid CSV ({reason})"


def _columns(header: list[str], source: str, line: int, *, strict: bool) -> tuple[list[str], tuple[str, ...]]:
    """The normalised column names and the unknown ones to ignore; raise if the header cannot be used."""
    where = f"{source}: line {line}"
    names = [name.strip().lower() for name in header]
    if len(names) == 1 and (";" in names[0] or "\t" in names[0]):
        separator = "';'" if ";" in names[0] else "tabs"
        raise _failure(source, [f"{where}: columns are separated by {separator} (expected commas)"])
    if not any(name in CSV_COLUMNS or _suggest(name) for name in names):
        expected = ",".join(CSV_COLUMNS)
        raise _failure(source, [f"{where}: no header (expected column names: {expected})"])
    problems, ignored = _header_problems(names, strict=strict)
    if problems:
        raise _failure(source, [f"{where}: {text}" for text in problems])
    return names, ignored


def _header_problems(names: list[str], *, strict: bool) -> tuple[list[str], tuple[str, ...]]:
    """(problems, unknown columns to ignore): unless ``strict``, only a misspelt required one is refused."""
    problems, ignored = [], []
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    for index, name in enumerate(names, start=1):
        if not name:
            problems.append(f"column {index} has no name")
        elif name in names[: index - 1]:
            first = names.index(name) + 1
            problems.append(f"column '{name}' appears twice (columns {first} and {index})")
        elif name not in CSV_COLUMNS:
            guess = _suggest(name)
            if strict or guess in missing:
                hint = f"did you mean '{guess}'?" if guess else f"known: {', '.join(CSV_COLUMNS)}"
                problems.append(f"unknown column '{name}' ({hint})")
            else:
                ignored.append(name)
    guessed = {_suggest(name) for name in names if name not in CSV_COLUMNS}
    problems += [f"missing required column '{column}'" for column in missing if column not in guessed]
    return problems, tuple(ignored)


def _suggest(name: str) -> str | None:
    guesses = difflib.get_close_matches(name, CSV_COLUMNS, n=1)
    return guesses[0] if guesses else None


def _participant(
    row: _Row, source: str, problems: list[tuple[int, str]], ignored: tuple[str, ...]
) -> Participant | None:
    """Validate one row; its problems are appended, already worded for the operator."""
    if row.extra:
        count = f"{len(row.cells) + row.extra} fields but the header has {len(row.cells)} columns"
        hint = "quote a value that contains a comma"
        problems.append((row.number, f"{row.where(source)}: {count} ({hint})"))
        return None
    given = {c: v for c, v in row.cells.items() if (v or c in REQUIRED_COLUMNS) and c not in ignored}
    try:
        return Participant.model_validate(given, context=store_limits())
    except ValidationError as exc:
        for error in exc.errors():
            problems.append((row.number, _row_problem(row, source, error)))
        return None


@lru_cache(maxsize=1)
def store_limits() -> dict[str, object]:
    """What the participants table holds, for :class:`Participant`'s checks: column lengths, integers."""
    return {"lengths": column_lengths("participants"), "integer_max": INTEGER_MAX}


def _row_problem(row: _Row, source: str, error: ErrorDetails) -> str:
    column = str(error["loc"][0]) if error["loc"] else "?"
    raw = row.cells.get(column, "")
    value = f"{_quote(raw)} " if raw else ""
    return f"{row.where(source)}: column '{column}': {value}{describe_error(error)}"


_PYDANTIC_WORDING = {
    **dict.fromkeys(("int_parsing", "int_from_float", "int_type"), "is not a whole number"),
    **dict.fromkeys(("bool_parsing", "bool_type"), "is not yes or no"),
    "greater_than_equal": "must be {ge} or more",
    "missing": "is required",
}


def describe_error(error: ErrorDetails) -> str:
    """Operator wording for a validation error; pydantic's own text never gets through."""
    if error["type"].startswith("participant_"):
        return error["msg"]
    wording = _PYDANTIC_WORDING.get(error["type"], "is not a valid value")
    return wording.format(**(error.get("ctx") or {}))


def _quote(value: str) -> str:
    shown = value if len(value) <= 60 else value[:57] + "..."
    return json.dumps(shown, ensure_ascii=False)


def _failure(source: str, problems: list[str]) -> ParticipantsError:
    """One error for the whole file: nothing in it is imported."""
    shown = listed(problems, more="more problems")
    count = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
    return ParticipantsError(f"{source}: participants not imported, {count}", shown)
