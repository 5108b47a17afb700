"""A respondent's answers, checked against the survey's questions and brought into one normal form.

Answers come typed from the engine's own callers (``4``, ``True``,
``["reached", "partly"]``) or as text from a command line or a CSV cell
(``"4"``, ``"ja"``, ``"reached;partly"``); both are stored the same way: a
whole number for ``scale`` (1-5) and ``recommend`` (0-10), true or false for
``yes_no``, text for ``text``, and for ``goals`` a list of levels, one per
development goal of the mentee, in the order of their goals. A blank answer is
no answer. Every problem names the question, so a CSV error can name its column.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.policy.problems import unknown_name
from engine.policy.surveys import GOAL_LEVELS, Question, Survey

MAX_TEXT = 4000
YES_NO = {"yes": True, "ja": True, "true": True, "no": False, "nee": False, "false": False}
_WHOLE = re.compile(r"[+-]?[0-9]+")
_RANGES = {"scale": (1, 5), "recommend": (0, 10)}


@dataclass(frozen=True)
class AnswerProblem:
    """What is wrong with the answer to one question (``question`` is the CSV column)."""

    question: str
    message: str


def check_answers(
    survey: Survey, raw: Mapping[str, object], goal_count: int
) -> tuple[dict[str, Any], list[AnswerProblem]]:
    """The answers in normal form, in question order, and every problem found (nothing is stored if any)."""
    ids = [q.id for q in survey.questions]
    problems = [AnswerProblem(str(key), unknown_name("question", key, ids)) for key in raw if key not in ids]
    answers: dict[str, Any] = {}
    for question in survey.questions:
        value = raw.get(question.id)
        if _blank(value):
            if question.type == "goals" and goal_count == 0:
                answers[question.id] = []  # nothing to say about goals the mentee does not have
            elif question.required:
                missing = "is not answered (expected an answer: it is required)"
                problems.append(AnswerProblem(question.id, missing))
            continue
        try:
            answers[question.id] = normalised(question, value, goal_count)
        except ValueError as exc:
            problems.append(AnswerProblem(question.id, str(exc)))
    return answers, problems


def normalised(question: Question, value: object, goal_count: int) -> Any:
    """One answer in normal form; a ValueError says what is wrong and what was expected."""
    if question.type in _RANGES:
        low, high = _RANGES[question.type]
        number = _whole(value)
        if number is None or not low <= number <= high:
            what = "on the 1-5 scale" if question.type == "scale" else "a 0-10 recommend score"
            raise ValueError(f"{_shown(value)} is not {what} (expected a whole number from {low} to {high})")
        return number
    if question.type == "yes_no":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in YES_NO:
            return YES_NO[value.strip().lower()]
        raise ValueError(f"{_shown(value)} is not yes or no (expected yes, no, ja, nee, true or false)")
    if question.type == "text":
        if not isinstance(value, str):
            raise ValueError(f"{_shown(value)} is not text (expected text)")
        if len(value) > MAX_TEXT:
            raise ValueError(f"the text is {len(value)} characters long (expected at most {MAX_TEXT})")
        return value.strip()
    return _goal_levels(value, goal_count)


def _goal_levels(value: object, goal_count: int) -> list[str]:
    if isinstance(value, str):
        items: list[object] = [part for part in value.split(";") if part.strip()]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise ValueError(f"{_shown(value)} is not a list of goal levels (expected e.g. reached;partly)")
    levels = [_level(item) for item in items]
    wrong = [item for item, level in zip(items, levels, strict=True) if level not in GOAL_LEVELS]
    if wrong:
        raise ValueError(
            f"{', '.join(_shown(item) for item in wrong)} is not a goal level "
            f"(expected one of: {', '.join(GOAL_LEVELS)}, separated by ;)"
        )
    if len(levels) != goal_count:
        raise ValueError(
            f"{len(levels)} level(s) for {goal_count} development goal(s) of the mentee "
            "(expected one level per goal, in the order of their goals)"
        )
    return [str(level) for level in levels]


def _level(item: object) -> object:
    """``Not started`` and ``not-started`` are ``not_started``."""
    return re.sub(r"[\s-]+", "_", item.strip().lower()) if isinstance(item, str) else item


def _whole(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
        return int(value.strip())
    return None


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _shown(value: object) -> str:
    """A value as the respondent gave it: plain when it is one word (``7``), else quoted."""
    if isinstance(value, str) and value.strip() and " " not in value.strip() and len(value) <= 40:
        return value.strip()
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
