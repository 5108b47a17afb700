"""The ``program:`` of a policy: how long a pair stays active, where it runs, what it wants to develop.

The program goals (``program.goals``) say what the program as a whole wants to develop.
A program goal is written as a text (its title; its id is the title in lower
case with every run of other characters a ``_``: ``Leadership & vision`` is
``leadership_vision``) or as a mapping with an ``id``, a ``title`` and an optional
Dutch ``title_nl``. A text stays a text in the policy's data, so a policy
written before program goals had ids keeps its digest. A mentee's development
goal may name the program goal it serves by its id; the report counts, per
program goal, the mentees who worked on it and how far they got.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import Discriminator, Field, Tag, field_validator

from engine.policy.fields import NAME_PATTERN, DurationText, PolicyModel
from engine.policy.problems import shown


class ProgramGoal(PolicyModel):
    """A program goal with an id development goals refer to, and its title in one or two languages."""

    id: str = Field(pattern=NAME_PATTERN)
    title: str = Field(min_length=1)
    title_nl: str | None = None


def _form(value: object) -> str:
    return MAPPING if isinstance(value, (dict, ProgramGoal)) else TEXT


# The branches are tagged like types, so the policy's errors name no branch (engine.policy.problems).
TEXT, MAPPING = "str", "dict[str, str]"
ProgramGoalEntry = Annotated[
    Annotated[str, Tag(TEXT), Field(min_length=1)] | Annotated[ProgramGoal, Tag(MAPPING)],
    Discriminator(_form),
]
"""A program goal as written: a title, or a :class:`ProgramGoal` mapping."""


def goal_id(title: str) -> str:
    """The id of a program goal written as a text: ``Leadership & vision`` is ``leadership_vision``,
    ``Één team`` is ``een_team``."""
    plain = unicodedata.normalize("NFKD", title.lower()).encode("ascii", "ignore").decode()
    found = re.sub(r"[^a-z0-9]+", "_", plain).strip("_")
    return found if found[:1].isalpha() else f"goal_{found}".rstrip("_")


def program_goals(entries: Iterable[str | ProgramGoal]) -> list[ProgramGoal]:
    """Every entry as a :class:`ProgramGoal`, in the policy's order."""
    return [ProgramGoal(id=goal_id(e), title=e) if isinstance(e, str) else e for e in entries]


def duplicate_ids(entries: Iterable[str | ProgramGoal]) -> list[str]:
    """The ids more than one program goal has, in order."""
    seen: set[str] = set()
    twice: list[str] = []
    for goal in program_goals(entries):
        if goal.id in seen and goal.id not in twice:
            twice.append(goal.id)
        seen.add(goal.id)
    return twice


def title_in(goal: ProgramGoal, language: str) -> str:
    """The goal's title in ``language`` where the policy gives it, else its title."""
    return goal.title_nl if language == "nl" and goal.title_nl else goal.title


class Program(PolicyModel):
    """The program as a whole: how long a pair stays active, where it runs, the goals it serves."""

    duration: DurationText
    timezone: str = "UTC"
    goals: list[ProgramGoalEntry] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            close = difflib.get_close_matches(value, sorted(available_timezones()), n=1)
            hint = f'did you mean "{close[0]}"?' if close else 'try "Europe/Amsterdam" or "UTC"'
            raise ValueError(f"{shown(value)} is not a time zone ({hint})") from None
        return value

    @field_validator("goals")
    @classmethod
    def _distinct_ids(cls, goals: list[str | ProgramGoal]) -> list[str | ProgramGoal]:
        if twice := duplicate_ids(goals):
            raise ValueError(
                f"more than one program goal has the id {', '.join(map(repr, twice))} "
                "(give each an id of its own: `{id: ..., title: ...}`)"
            )
        return goals

    @property
    def goal_list(self) -> list[ProgramGoal]:
        """The program goals, each with its id."""
        return program_goals(self.goals)
