"""A settings file (TOML) as ``mentorflow config check`` reads it: its tables, and the line of each key.

:mod:`tomllib` gives the data but no line numbers, so the file's text is
scanned once for its table headers (``[channels.email]``) and keys
(``port = 25``, ``"from" = ...``, dotted keys, the keys of an inline table);
a problem is then shown at the line of its key, or of the nearest table
around it. Cron expressions are checked here too, field by field.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.policy.problems import shown
from engine.policy.yamlsafe import LoadedYaml

MAX_BYTES = 1 << 20
"""A settings file is a few dozen lines; a bigger one is not read."""

_KEY = r'(?:[A-Za-z0-9_-]+|"[^"\\]*(?:\\.[^"\\]*)*"|\'[^\']*\')'
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_HEADER = re.compile(rf"^\s*\[\[?\s*({_DOTTED})\s*\]\]?\s*(?:#.*)?$")
_ASSIGN = re.compile(rf"^\s*({_DOTTED})\s*=\s*(.*)$")
_INLINE_KEY = re.compile(rf"(?:^|[{{,])\s*({_DOTTED})\s*=")
_PART = re.compile(_KEY)
_AT = re.compile(r"\s*\(at line (\d+), column \d+\)$")


@dataclass(frozen=True)
class SettingsText:
    """A settings file read: its data (``None`` when it does not parse), key lines, and why not."""

    path: Path
    data: dict[str, Any] | None
    located: LoadedYaml  # the same data with the line of every table and key (LoadedYaml's line_for)
    problem: str | None = None  # "file:line: what" when the file cannot be read or parsed


def read_settings_text(path: Path) -> SettingsText:
    """Read and parse ``path``; a file that is not a regular, UTF-8, TOML file gives its ``problem``."""
    shown = str(path)
    empty = LoadedYaml({}, {}, shown)
    if not path.exists():
        return SettingsText(path, None, empty, f"{shown}: no such file")
    if not path.is_file():
        return SettingsText(path, None, empty, f"{shown}: not a regular file")
    raw = path.read_bytes()[: MAX_BYTES + 1]
    if len(raw) > MAX_BYTES:
        return SettingsText(path, None, empty, f"{shown}: larger than 1 MiB, not a settings file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return SettingsText(path, None, empty, f"{shown}:{line}: not UTF-8 text (byte {exc.start + 1})")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        at = _AT.search(message)
        where = at.group(1) if at else "1"
        return SettingsText(path, None, empty, f"{shown}:{where}: not valid TOML: {_AT.sub('', message)}")
    return SettingsText(path, data, LoadedYaml(data, key_lines(text), shown))


def key_lines(text: str) -> dict[tuple[str | int, ...], int]:
    """The 1-based line of each table header and key of a TOML text, by path (``("channels", "email")``)."""
    lines: dict[tuple[str | int, ...], int] = {}
    table: tuple[str, ...] = ()
    open_brackets, in_string = 0, ""
    for number, line in enumerate(text.splitlines(), start=1):
        if in_string or open_brackets:  # inside a multi-line string or array: no keys here
            in_string, open_brackets = _carry(line, in_string, open_brackets)
            continue
        header = _HEADER.match(line)
        if header:
            table = _parts(header.group(1))
            lines.setdefault(table, number)
            continue
        assign = _ASSIGN.match(line)
        if not assign:
            continue
        path = (*table, *_parts(assign.group(1)))
        lines.setdefault(path, number)
        value = assign.group(2)
        if value.lstrip().startswith("{"):
            for inner in _INLINE_KEY.finditer(value.lstrip()[1:]):
                lines.setdefault((*path, *_parts(inner.group(1))), number)
        in_string, open_brackets = _carry(value, "", 0)
    return lines


def _parts(dotted: str) -> tuple[str, ...]:
    return tuple(part.strip("\"'") for part in _PART.findall(dotted))


def _carry(text: str, in_string: str, depth: int) -> tuple[str, int]:
    """After ``text``: the multi-line string still open (its quotes) and the depth of open brackets."""
    i = 0
    while i < len(text):
        if in_string:
            end = text.find(in_string, i)
            if end < 0:
                return in_string, depth
            i, in_string = end + len(in_string), ""
            continue
        char = text[i]
        if char == "#":
            break
        if text.startswith(('"""', "'''"), i):
            in_string, i = text[i : i + 3], i + 3
            continue
        if char in "\"'":
            end = text.find(char, i + 1)
            i = len(text) if end < 0 else end + 1
            continue
        depth += {"[": 1, "{": 1, "]": -1, "}": -1}.get(char, 0)
        i += 1
    return in_string, max(depth, 0)


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_CRON_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, {m: i + 1 for i, m in enumerate(_MONTHS)}),
    ("weekday", 0, 7, {d: i for i, d in enumerate(_DAYS)}),
)


def cron_problem(text: str) -> str | None:
    """What is wrong with a five-field cron expression (``None``: nothing)."""
    fields = text.split()
    if len(fields) != 5:
        return f"{len(fields)} field(s), expected five (minute hour day month weekday)"
    for value, (name, low, high, names) in zip(fields, _CRON_FIELDS, strict=True):
        for item in value.split(","):
            wrong = _cron_item(item, low, high, names)
            if wrong:
                return f"{name} {shown(value)}: {wrong}"
    return None


def _cron_item(item: str, low: int, high: int, names: dict[str, int]) -> str | None:
    span, slash, step = item.partition("/")
    if slash and not (step.isdigit() and int(step) > 0):
        return f"the step {shown(step)} is not a whole number above 0"
    if span == "*":
        return None
    start, dash, stop = span.partition("-")
    bounds = [start, stop] if dash else [start]
    numbers = [names.get(b.lower(), int(b) if b.isdigit() else None) for b in bounds]
    if any(n is None for n in numbers):
        return f"{shown(item)} is not a number, a range or * (expected {low}-{high})"
    if any(n is not None and not low <= n <= high for n in numbers):
        return f"{shown(item)} is out of range (expected {low}-{high})"
    if len(numbers) == 2 and numbers[0] is not None and numbers[1] is not None and numbers[0] > numbers[1]:
        return f"the range {shown(span)} runs backwards"
    return None
