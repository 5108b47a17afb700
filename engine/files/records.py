"""CSV files of what happened, as operators collect them: trainings finished, kickoffs held, surveys answered.

Each reader checks the whole file before anything is recorded, and raises one
:class:`InputError` whose lines name the file, line and column of every
problem. The files are small and plain, with a header:

- trainings: ``mentor`` (id, external id or email);
- kickoffs: ``relationship`` and optionally ``held_on`` (``YYYY-MM-DD``);
- surveys: ``relationship``, ``respondent`` (mentor or mentee), optionally
  ``survey`` (default ``final``), and one column per question id: a number
  for a scale or recommend score, yes/no (ja/nee, true/false), text, and for
  ``goals`` the mentee's goal levels in order, separated by ``;``
  (``reached;partly;not_started``). A blank cell is no answer. Survey problems
  name the row as a spreadsheet numbers it (the header is row 1) and the column.
"""

from __future__ import annotations

import csv
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from engine.errors import InputError, listed
from engine.policy.surveys import RESPONDENTS
from engine.services.limits import EARLIEST, INTEGER_MAX, LATEST, in_range
from engine.services.recording import SurveyResponse


def read_trainings(path: Path) -> list[str]:
    """The mentors of a trainings file, in file order."""
    return [row["mentor"] for _, row in _rows(path, required=("mentor",), what="trainings")]


def read_kickoffs(path: Path, timezone: str) -> list[tuple[int, datetime | None]]:
    """(relationship, held on) per row; a missing date means the day it is recorded."""
    found: list[tuple[int, datetime | None]] = []
    problems: list[str] = []
    for line, row in _rows(path, required=("relationship",), what="kickoffs"):
        rel_id = _relationship(path, line, row, problems)
        held = _date(path, line, row.get("held_on", ""), timezone, problems)
        if rel_id is not None:
            found.append((rel_id, held))
    _raise(path, problems)
    return found


def read_survey_answers(path: Path) -> list[SurveyResponse]:
    """The survey responses of a file: one column per question id, the answers kept as written.

    They are checked against the survey's questions when recorded
    (:func:`engine.recording.record_surveys`), where each problem names the
    row and the column; here only the relationship and respondent are read.
    """
    found: list[SurveyResponse] = []
    problems: list[str] = []
    for line, row in _rows(path, required=("relationship", "respondent"), what="surveys"):
        where = f"{path}:row {line}"
        text = row["relationship"]
        if not _is_id(text):
            problems.append(f"{where}: column relationship: {text!r} is not a relationship id (a number)")
        respondent = row["respondent"].strip().lower()
        if respondent not in RESPONDENTS:
            problems.append(f"{where}: column respondent: {row['respondent']!r} is not mentor or mentee")
        answers = {k: v for k, v in row.items() if k not in ("relationship", "respondent", "survey") and v}
        survey = row.get("survey", "").strip() or "final"
        if _is_id(text):
            found.append(SurveyResponse(int(text), survey, respondent, answers, where))
    _raise(path, problems)
    return found


def _rows(path: Path, *, required: tuple[str, ...], what: str) -> list[tuple[int, dict[str, str]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the {what} file: {exc}") from None
    if "\x00" in text:  # no text column of the store holds one
        line = text[: text.index("\x00")].count("\n") + 1
        raise InputError(f"{path}:{line}: holds a NUL character (U+0000); nothing was recorded")
    reader = csv.DictReader(text.splitlines())
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in required if name not in header]
    if missing:
        expected = ", ".join(required)
        raise InputError(f"{path}:1: the header lacks {', '.join(missing)} (a {what} file needs {expected})")
    rows = []
    for row in reader:
        clean = {(k or "").strip(): (v or "").strip() for k, v in row.items() if isinstance(v, str)}
        if any(clean.values()):
            rows.append((reader.line_num, clean))
    return rows


def _relationship(path: Path, line: int, row: dict[str, str], problems: list[str]) -> int | None:
    text = row["relationship"]
    if not _is_id(text):
        problems.append(f"{path}:{line}: relationship: {text!r} is not a relationship id (a number)")
        return None
    return int(text)


def _is_id(text: str) -> bool:
    """Whether ``text`` is a whole number the store's ids can be (at most :data:`INTEGER_MAX`)."""
    return text.isascii() and text.isdigit() and int(text) <= INTEGER_MAX


def _date(path: Path, line: int, text: str, timezone: str, problems: list[str]) -> datetime | None:
    if not text:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        problems.append(f"{path}:{line}: held_on: {text!r} is not a date (expected YYYY-MM-DD)")
        return None
    moment = datetime.combine(day, time(12), ZoneInfo(timezone))
    if not in_range(moment):
        problems.append(
            f"{path}:{line}: held_on: {text!r} is out of range"
            f" (expected a year from {EARLIEST.year} to {LATEST.year - 1})"
        )
        return None
    return moment


def _raise(path: Path, problems: list[str]) -> None:
    if problems:
        raise InputError(f"{path}: {len(problems)} problem(s); nothing was recorded", listed(problems))
