"""A transition's ``after:`` timer: how long, and which clock it reads.

``after: 14 days`` counts from the pair's latest entry into the phase, as it
always has. ``after: program.duration`` counts the time the pair has spent in
the phase over all its stays (a pause neither consumes nor restarts the
program). The long form says which clock a timer reads::

    after: {duration: 2 months, since: first_entry | latest_entry | time_in_phase}

``latest_entry`` is the start of the current stay; ``first_entry`` the first
entry into the phase; ``time_in_phase`` the time spent in it, in this stay and
the earlier ones. Both counting clocks start over once a timer that reads
them has run out and taken the pair out of the phase, so a pair renewed after
its review has a new program ahead of it. A plain ``after:`` reads the default
clock of its duration: ``time_in_phase`` for ``program.duration``,
``latest_entry`` for any other; the long form with that default is the same
policy as the plain one (the same digest).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema

from engine.policy.durations import Duration
from engine.policy.fields import PolicyModel, validate_duration
from engine.policy.problems import shown

PROGRAM_DURATION = "program.duration"
FIRST_ENTRY, LATEST_ENTRY, TIME_IN_PHASE = "first_entry", "latest_entry", "time_in_phase"
CLOCKS = (FIRST_ENTRY, LATEST_ENTRY, TIME_IN_PHASE)
Since = Literal["first_entry", "latest_entry", "time_in_phase"]


def _duration_text(value: object) -> str:
    if value == PROGRAM_DURATION:
        return PROGRAM_DURATION
    try:
        return str(validate_duration(value))
    except ValueError as exc:
        text = str(exc)
        hint = (
            f"{text[:-1]}, or {PROGRAM_DURATION})"
            if text.endswith(")")
            else f"{text} (or {PROGRAM_DURATION})"
        )
        raise ValueError(hint) from None


def default_since(duration: str) -> str:
    """The clock a timer of ``duration`` reads unless it says otherwise."""
    return TIME_IN_PHASE if duration == PROGRAM_DURATION else LATEST_ENTRY


class Timer(PolicyModel):
    """The long form of ``after:``: a duration and the clock it is counted on."""

    duration: Annotated[str, PlainValidator(_duration_text)]
    since: Since | None = None

    @property
    def clock(self) -> str:
        return self.since or default_since(self.duration)


def _after(value: object) -> str | Timer:
    if isinstance(value, Timer):
        return value
    if isinstance(value, Mapping):
        return Timer.model_validate(value)
    if isinstance(value, list):
        raise ValueError(
            f"{shown(value)} is a list (expected a duration, {PROGRAM_DURATION}, "
            "or {duration: ..., since: ...})"
        )
    return _duration_text(value)


def _written(value: str | Timer) -> str | dict[str, str]:
    """As the policy's normalised form has it: plain text unless the clock is not the default."""
    if isinstance(value, str):
        return value
    if value.clock == default_since(value.duration):
        return value.duration
    return {"duration": value.duration, "since": value.clock}


AfterText = Annotated[
    str | Timer,
    PlainValidator(_after),
    PlainSerializer(_written),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "examples": [PROGRAM_DURATION, "3 months"]},
                {
                    "type": "object",
                    "required": ["duration"],
                    "additionalProperties": False,
                    "properties": {
                        "duration": {"type": "string", "examples": [PROGRAM_DURATION, "2 months"]},
                        "since": {"enum": list(CLOCKS)},
                    },
                },
            ]
        }
    ),
]


def timer_of(value: str | Timer | None, program_duration: Duration) -> tuple[Duration | None, str]:
    """The duration of an ``after:`` (``None``: no timer) and the clock it reads."""
    if value is None:
        return None, LATEST_ENTRY
    text, clock = (value, default_since(value)) if isinstance(value, str) else (value.duration, value.clock)
    return (program_duration if text == PROGRAM_DURATION else validate_duration(text)), clock


def runs_out(
    after: Duration,
    clock: str,
    entered: datetime,
    spent_before: timedelta = timedelta(0),
    first_entered: datetime | None = None,
) -> datetime:
    """When a timer of ``after`` on ``clock`` runs out, for a pair whose stay began at ``entered``.

    ``spent_before`` is the time spent in the phase in earlier stays, ``first_entered`` the
    first entry (both since the clock last started over).
    """
    if clock == TIME_IN_PHASE:
        return after.after(entered - spent_before)
    if clock == FIRST_ENTRY and first_entered is not None:
        return after.after(first_entered)
    return after.after(entered)
