"""Field types shared by the models of policy files: names, durations and cadences as operators write them.

Both the policy (:mod:`engine.policy`) and its surveys (:mod:`engine.surveys`)
are built from these, so a duration reads and normalises the same way wherever
it appears, and every model refuses unknown keys and loose types alike.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainSerializer, PlainValidator, WithJsonSchema

from engine.policy.durations import Duration, parse_cadence, parse_duration
from engine.policy.problems import shown

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"


class PolicyModel(BaseModel):
    """A part of a policy file: unknown keys are errors, and so are loosely typed values."""

    # strict: `initial: yes` or `auto: "true"` is an error, never silently true
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, strict=True, defer_build=True
    )


def validate_duration(value: object) -> Duration:
    """A duration from YAML (``14 days``), or a ValueError saying what to write."""
    if isinstance(value, Duration):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(f'{value} is not a duration: say which unit (try "{value} days" or "{value} weeks")')
    if not isinstance(value, str):
        raise ValueError(f'{shown(value)} is not a duration (try "2w" or "14 days")')
    return parse_duration(value)


def _cadence(value: object) -> Duration:
    if isinstance(value, Duration):
        return value
    if not isinstance(value, str):
        raise ValueError(f'{shown(value)} is not a cadence (try "every 2 weeks" or "weekly")')
    return parse_cadence(value)


_DURATION_SCHEMA = {"type": "string", "examples": ["14 days", "2 weeks", "6 months", "36h"]}
DurationText = Annotated[
    Duration,
    PlainValidator(validate_duration),
    PlainSerializer(str, return_type=str),
    WithJsonSchema(_DURATION_SCHEMA),
]
CadenceText = Annotated[
    Duration,
    PlainValidator(_cadence),
    PlainSerializer(lambda d: f"every {d}", return_type=str),
    WithJsonSchema({"type": "string", "examples": ["every 2 weeks", "monthly"]}),
]
