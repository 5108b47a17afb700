"""Pure decisions about one relationship: when it is next due, and what is overdue.

Every rule takes ``now`` (or a standing taken at some moment) and the policy;
none reads the clock or the database, so a plain unit test reaches each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from engine.policy.model import Policy


@dataclass(frozen=True)
class Standing:
    """Where a relationship stands: its phase, since when, and its last meeting."""

    phase: str
    phase_entered_at: datetime
    last_meeting_at: datetime | None = None


@dataclass(frozen=True)
class Overdue:
    """Something the policy expected by now that has not happened."""

    kind: str  # "deadline" | "check-in"
    phase: str
    since: datetime
    action: str

    def describe(self) -> str:
        what = "phase deadline passed" if self.kind == "deadline" else "no meeting logged"
        return f"{self.phase}: {what} since {self.since:%Y-%m-%d} ({self.action})"


def _quiet_since(standing: Standing) -> datetime:
    last = standing.last_meeting_at
    if last is None or last < standing.phase_entered_at:
        return standing.phase_entered_at
    return last


HEARTBEAT = timedelta(days=7)
"""How long a pair that waits only for an event (a training, a meeting) goes unexamined at most."""


def next_due(policy: Policy, standing: Standing) -> datetime | None:
    """The next moment the cadence tick must look at this relationship; ``None`` only when terminal."""
    phase = policy.phases[standing.phase]
    if phase.terminal:
        return None
    entered = standing.phase_entered_at
    moments: list[datetime] = []
    if phase.deadline is not None:
        moments.append(phase.deadline.after.after(entered))
    for edge in policy.edges:
        if edge.source == standing.phase and edge.auto:
            moments.append(edge.after.after(entered) if edge.after else entered)
    if phase.cadence is not None:
        moments.append(phase.cadence.remind_after.after(_quiet_since(standing)))
    for plan in policy.survey_plans.get(standing.phase, ()):  # a timed survey, or its first reminder
        first = plan.first_moment(entered)
        moments += [first] if first is not None else []
    return min(moments, default=entered + HEARTBEAT)


def overdue(policy: Policy, standing: Standing, now: datetime) -> list[Overdue]:
    """What is overdue for this relationship at ``now`` under ``policy``."""
    phase = policy.phases.get(standing.phase)
    if phase is None:
        return []
    found: list[Overdue] = []
    deadline = phase.deadline
    if deadline is not None:
        at = deadline.after.after(standing.phase_entered_at)
        if at <= now:
            action = deadline.action or f"fire {deadline.fire}"
            found.append(Overdue("deadline", standing.phase, at, action))
    cadence = phase.cadence
    if cadence is not None:
        quiet = _quiet_since(standing)
        if cadence.escalate_after is not None and cadence.escalate_after.after(quiet) <= now:
            found.append(Overdue("check-in", standing.phase, cadence.escalate_after.after(quiet), "escalate"))
        elif cadence.remind_after.after(quiet) <= now:
            found.append(Overdue("check-in", standing.phase, cadence.remind_after.after(quiet), "remind"))
    return found
