"""A policy's outline: what the light reading commands (``status``, ``relationships list``) need of it.

Its name, its program's time zone, its phases in order and, per phase, the deadline
and check-in cadence that :func:`engine.domain.cadence.overdue` reads, and its
``retention:`` as a purge reads it (what ``status`` counts as due for purging). An outline is
taken from a policy that loaded (and so passed every check); it is kept as JSON so a
later command can read it back without importing the models of the whole policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.policy.durations import Duration
from engine.policy.retention_periods import RetentionRules, retention_rules

if TYPE_CHECKING:
    from engine.policy.model import Policy

FORMAT = 2  # bump when the outline's fields change


@dataclass(frozen=True)
class DeadlineRule:
    """A phase's deadline: how long after entry, and what it does then."""

    after: Duration
    action: str | None = None
    fire: str | None = None


@dataclass(frozen=True)
class CadenceRule:
    """A phase's check-in cadence: when a quiet pair is reminded, and escalated."""

    remind_after: Duration
    escalate_after: Duration | None = None


@dataclass(frozen=True)
class PhaseRules:
    """What the light commands read of one phase."""

    deadline: DeadlineRule | None = None
    cadence: CadenceRule | None = None


@dataclass(frozen=True)
class Outline:
    """A loaded policy's name, program time zone and phases (in the policy's order)."""

    policy: str
    timezone: str
    phases: Mapping[str, PhaseRules]
    retention: RetentionRules | None = None


def outline_of(policy: Policy) -> Outline:
    """The outline of a policy that loaded."""
    phases: dict[str, PhaseRules] = {}
    for name, phase in policy.phases.items():
        deadline = cadence = None
        if phase.deadline is not None:
            deadline = DeadlineRule(phase.deadline.after, phase.deadline.action, phase.deadline.fire)
        if phase.cadence is not None:
            cadence = CadenceRule(phase.cadence.remind_after, phase.cadence.escalate_after)
        phases[name] = PhaseRules(deadline, cadence)
    return Outline(policy.policy, policy.program.timezone, phases, retention_rules(policy))


def to_json(outline: Outline) -> dict[str, Any]:
    """The outline as plain JSON data (durations as months and seconds, exactly)."""
    found: dict[str, Any] = {
        "format": FORMAT,
        "policy": outline.policy,
        "timezone": outline.timezone,
        "phases": [[name, _rules_json(rules)] for name, rules in outline.phases.items()],
    }
    if outline.retention is not None:
        kept = outline.retention
        found["retention"] = {
            "periods": [[kind, _duration_json(period)] for kind, period in kept.periods.items()],
            "closed": sorted(kept.closed_phases),
        }
    return found


def from_json(data: Any) -> Outline | None:
    """The outline ``to_json`` wrote; ``None`` for anything else (another format, a damaged file)."""
    try:
        if data["format"] != FORMAT:
            return None
        phases = {str(name): _rules(rules) for name, rules in data["phases"]}
        policy = str(data["policy"])
        return Outline(policy, str(data["timezone"]), phases, _retention(policy, data.get("retention")))
    except (KeyError, TypeError, ValueError):
        return None


def _rules_json(rules: PhaseRules) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if rules.deadline is not None:
        deadline = rules.deadline
        found["deadline"] = [_duration_json(deadline.after), deadline.action, deadline.fire]
    if rules.cadence is not None:
        cadence = rules.cadence
        escalate = None if cadence.escalate_after is None else _duration_json(cadence.escalate_after)
        found["cadence"] = [_duration_json(cadence.remind_after), escalate]
    return found


def _rules(data: dict[str, Any]) -> PhaseRules:
    deadline = cadence = None
    if "deadline" in data:
        after, action, fire = data["deadline"]
        deadline = DeadlineRule(_duration(after), _optional_text(action), _optional_text(fire))
    if "cadence" in data:
        remind, escalate = data["cadence"]
        cadence = CadenceRule(_duration(remind), None if escalate is None else _duration(escalate))
    return PhaseRules(deadline, cadence)


def _retention(policy: str, data: Any) -> RetentionRules | None:
    if data is None:
        return None
    periods = {str(kind): _duration(period) for kind, period in data["periods"]}
    return RetentionRules(policy, periods, frozenset(str(phase) for phase in data["closed"]))


def _duration_json(duration: Duration) -> list[int]:
    return [duration.months, duration.seconds]


def _duration(data: Any) -> Duration:
    months, seconds = data
    if not isinstance(months, int) or not isinstance(seconds, int):
        raise TypeError("a duration is two whole numbers")
    return Duration(months, seconds)


def _optional_text(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError("expected text")
    return value
