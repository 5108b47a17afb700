"""The ``matching:`` section of a policy: criteria weights, hard constraints, thresholds, mode.

Every key has a default, so a policy without a ``matching:`` section (like the
shipped ``default.yaml``) matches with the defaults below. Scores are on a
0..1 scale: the weighted mean of the criteria, so ``min_score`` and
``auto_approve_at`` read the same whatever the weights are.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_serializer, model_validator

from engine.policy.problems import shown, unknown_name

CRITERIA: tuple[str, ...] = (
    "skills", "goals_and_interests", "compatibility", "language", "timezone", "qualities",
)  # fmt: skip
CRITERION_LABELS = {
    "skills": "skills",
    "goals_and_interests": "goals and interests",
    "compatibility": "compatibility",
    "language": "language",
    "timezone": "time zone",
    "qualities": "personal qualities",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Weights(_Model):
    """How much each criterion counts; 0 leaves a criterion out.

    ``qualities`` came later: unset (``None``) it is not weighed at all, not even shown in a pair's
    breakdown, and left out of the policy's normalised form, so a policy without it keeps its version.
    """

    skills: float = Field(default=3.0, ge=0)
    goals_and_interests: float = Field(default=2.0, ge=0)
    compatibility: float = Field(default=2.0, ge=0)
    language: float = Field(default=1.0, ge=0)
    timezone: float = Field(default=1.0, ge=0)
    qualities: float | None = Field(default=None, ge=0)

    @field_validator(*CRITERIA, mode="before")
    @classmethod
    def _finite(cls, value: object) -> object:
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{value} is not a finite number (expected a weight like 1 or 2.5)")
        return value

    @model_validator(mode="after")
    def _something_counts(self) -> Weights:
        if not any(self.of(name) > 0 for name in CRITERIA):
            raise ValueError("at least one criterion needs a weight above 0")
        if not math.isfinite(sum(self.of(name) for name in CRITERIA)):
            raise ValueError(
                "the weights add up to more than a number can hold, so every score would be NaN "
                "(expected weights like 1 or 2.5)"
            )
        return self

    def of(self, criterion: str) -> float:
        """The criterion's weight; 0 for one the policy does not weigh."""
        return float(getattr(self, criterion) or 0.0)

    @property
    def weighed(self) -> tuple[str, ...]:
        """The criteria a pair is scored on, in order: all but ``qualities`` when the policy leaves it out."""
        return tuple(name for name in CRITERIA if getattr(self, name) is not None)

    @model_serializer(mode="wrap")
    def _unset_qualities_is_left_out(self, handler: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
        """A policy that does not weigh ``qualities`` keeps the version (digest) it had before the key."""
        data = handler(self)
        if self.qualities is None:
            data.pop("qualities", None)
        return data


class Constraints(_Model):
    """Hard constraints: a pair that breaks one is never proposed. Each can be switched off."""

    capacity: bool = True
    reporting_line: bool = True
    different_department: bool = False
    min_level_gap: int | None = Field(default=1, ge=0)
    shared_language: bool = True
    no_rematch: bool = True
    max_timezone_hours: float | None = Field(default=None, ge=0)

    @field_validator("min_level_gap", "max_timezone_hours", mode="before")
    @classmethod
    def _false_is_off(cls, value: object) -> object:
        if value is False:
            return None
        if value is True:
            raise ValueError("expected a number, or false to switch this constraint off")
        return value


DEFAULT_REPLACE_IN: tuple[str, ...] = ("matched", "kickoff")
"""Where ``match replace`` may give a pair another mentor when a policy says nothing (those it has)."""


class MatchingPolicy(_Model):
    """How mentors and mentees are paired, and which proposals need the coordinator."""

    mode: Literal["optimal", "stable"] = "optimal"
    weights: Weights = Field(default_factory=Weights)
    constraints: Constraints = Field(default_factory=Constraints)
    min_score: float = Field(default=0.4, ge=0, le=1)
    auto_approve_at: float | None = Field(default=None, ge=0, le=1)
    replace_in: list[str] | None = None

    @field_validator("auto_approve_at", mode="before")
    @classmethod
    def _false_is_never(cls, value: object) -> object:
        return None if value is False else value

    @model_serializer(mode="wrap")
    def _unset_replace_in_is_left_out(self, handler: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
        """A policy that does not name ``replace_in`` keeps the version (digest) it had before the key."""
        data = handler(self)
        if self.replace_in is None:
            data.pop("replace_in", None)
        return data


class _PhaseLike(Protocol):
    @property
    def initial(self) -> bool: ...
    @property
    def terminal(self) -> bool: ...


class _PolicyLike(Protocol):
    @property
    def matching(self) -> MatchingPolicy: ...
    @property
    def phases(self) -> Mapping[str, _PhaseLike]: ...


def replace_phases(policy: _PolicyLike) -> tuple[str, ...]:
    """The phases in which ``match replace`` may give a pair another mentor."""
    named = policy.matching.replace_in
    if named is None:
        return tuple(name for name in DEFAULT_REPLACE_IN if name in policy.phases)
    return tuple(named)


def matching_problems(policy: _PolicyLike) -> list[tuple[tuple[str | int, ...], str]]:
    """``matching.replace_in`` names phases a pair has a mentor in: known, neither initial nor terminal."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for i, name in enumerate(policy.matching.replace_in or ()):
        loc = ("matching", "replace_in", i)
        phase = policy.phases.get(name)
        if phase is None:
            problems.append((loc, unknown_name("phase", name, policy.phases)))
        elif phase.initial or phase.terminal:
            which = "the initial phase" if phase.initial else "a terminal phase"
            problems.append(
                (loc, f"{shown(name)} is {which} (expected a phase in which a pair has a mentor and is open)")
            )
    return problems
