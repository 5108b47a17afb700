"""The ``matching:`` section of a policy: criteria weights, hard constraints, thresholds, mode.

Every key has a default, so a policy without a ``matching:`` section (like the
shipped ``default.yaml``) matches with the defaults below. Scores are on a
0..1 scale: the weighted mean of the criteria, so ``min_score`` and
``auto_approve_at`` read the same whatever the weights are.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CRITERIA: tuple[str, ...] = ("skills", "goals_and_interests", "compatibility", "language", "timezone")
CRITERION_LABELS = {
    "skills": "skills",
    "goals_and_interests": "goals and interests",
    "compatibility": "compatibility",
    "language": "language",
    "timezone": "time zone",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Weights(_Model):
    """How much each criterion counts; 0 leaves a criterion out."""

    skills: float = Field(default=3.0, ge=0)
    goals_and_interests: float = Field(default=2.0, ge=0)
    compatibility: float = Field(default=2.0, ge=0)
    language: float = Field(default=1.0, ge=0)
    timezone: float = Field(default=1.0, ge=0)

    @model_validator(mode="after")
    def _something_counts(self) -> Weights:
        if not any(self.of(name) > 0 for name in CRITERIA):
            raise ValueError("at least one criterion needs a weight above 0")
        return self

    def of(self, criterion: str) -> float:
        return float(getattr(self, criterion))


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


class MatchingPolicy(_Model):
    """How mentors and mentees are paired, and which proposals need the coordinator."""

    mode: Literal["optimal", "stable"] = "optimal"
    weights: Weights = Field(default_factory=Weights)
    constraints: Constraints = Field(default_factory=Constraints)
    min_score: float = Field(default=0.4, ge=0, le=1)
    auto_approve_at: float | None = Field(default=None, ge=0, le=1)

    @field_validator("auto_approve_at", mode="before")
    @classmethod
    def _false_is_never(cls, value: object) -> object:
        return None if value is False else value
