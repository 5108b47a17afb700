"""Pure decisions about one relationship: when it is next due, and what is overdue.

This module is the one home of the check-in rule: a pair is *quiet since* the
later of its phase entry and its last meeting; a phase's ``cadence`` nudges it
``remind_after`` that (a reminder to the pair) and, if set, ``escalate_after``
that (the coordinator is told). The tick's notices, their ``since`` (the start
of the silence, :func:`quiet_since`, which the reminder and escalation texts show
as "no meeting recorded since"), its ``due_at``, the overdue list of
``status`` and ``insights`` (whose ``since`` is that same start, and ``due`` the
moment the nudge fell due) and the stalls of ``insights`` all come from
:func:`quiet_since` and :func:`nudges`. The moments the tick looks at a pair are
listed once, in :func:`_moments`, for both :func:`next_due` and :func:`next_moment`.

Every rule takes ``now`` (or a standing taken at some moment) and the policy;
none reads the clock or the database, so a plain unit test reaches each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used, so `status` can read overdue items without the policy models
    from engine.domain.surveys import Answered
    from engine.policy.model import Cadence, Edge, Policy
    from engine.policy.outline import CadenceRule, Outline

REMIND = "remind"
ESCALATE = "escalate"


@dataclass(frozen=True)
class Standing:
    """Where a relationship stands: its phase, since when, and its last meeting."""

    phase: str
    phase_entered_at: datetime
    last_meeting_at: datetime | None = None
    time_before: timedelta = timedelta(0)  # spent in the phase in earlier stays (engine.domain.phase_time)
    first_entered_at: datetime | None = None  # the first entry into the phase, if it was earlier


def runs_out_at(edge: Edge, standing: Standing) -> datetime:
    """When the pair may take ``edge`` (its ``after:`` run out, on the clock it reads; else its entry)."""
    from engine.policy.timers import runs_out

    if edge.after is None:
        return standing.phase_entered_at
    return runs_out(
        edge.after, edge.since, standing.phase_entered_at, standing.time_before, standing.first_entered_at
    )


@dataclass(frozen=True)
class Overdue:
    """Something the policy expected by now that has not happened.

    ``since`` is when the wait began, as the notices say it: for a check-in the start of the silence (the
    last meeting, or the entry into the phase: :func:`quiet_since`), for a deadline the entry into the
    phase. ``due`` is the moment it fell due: the nudge's, or the deadline's.
    """

    kind: str  # "deadline" | "check-in"
    phase: str
    since: datetime
    due: datetime
    action: str

    def describe(self) -> str:
        if self.kind == "deadline":
            what = f"in the phase since {self.since:%Y-%m-%d}, deadline passed {self.due:%Y-%m-%d}"
        else:
            what = f"no meeting logged since {self.since:%Y-%m-%d}, overdue since {self.due:%Y-%m-%d}"
        return f"{self.phase}: {what} ({self.action})"


@dataclass(frozen=True)
class Nudge:
    """A check-in notice a cadence schedules for a quiet pair: its action, and the moment it is due."""

    action: str  # REMIND | ESCALATE
    at: datetime


def quiet_since(standing: Standing) -> datetime:
    """Since when the pair has been without a meeting in its phase: the later of entry and last meeting."""
    last = standing.last_meeting_at
    if last is None or last < standing.phase_entered_at:
        return standing.phase_entered_at
    return last


def nudges(cadence: Cadence | CadenceRule, quiet: datetime) -> list[Nudge]:
    """The nudges of a silence that began at ``quiet``: the reminder, then the escalation if any."""
    found = [Nudge(REMIND, cadence.remind_after.after(quiet))]
    if cadence.escalate_after is not None:
        found.append(Nudge(ESCALATE, cadence.escalate_after.after(quiet)))
    return found


def due_nudges(cadence: Cadence | CadenceRule, quiet: datetime, now: datetime) -> list[Nudge]:
    """The nudges due at ``now`` (their moment reached) of a silence that began at ``quiet``."""
    return [nudge for nudge in nudges(cadence, quiet) if nudge.at <= now]


def outlasted(cadence: Cadence, start: datetime, stop: datetime) -> list[Nudge]:
    """The nudges a silence from ``start`` to ``stop`` lasted longer than (a meeting at ``stop`` was late)."""
    return [nudge for nudge in nudges(cadence, start) if nudge.at < stop]


HEARTBEAT = timedelta(days=7)
"""How long a pair that waits only for an event (a training, a meeting) goes unexamined at most."""


def next_due(policy: Policy, standing: Standing) -> datetime | None:
    """The first moment the cadence tick must look at a pair that has just entered its phase (one that
    has already passed means at once); ``None`` only when the phase is terminal."""
    from engine.policy.surveys import RESPONDENTS

    if policy.phases[standing.phase].terminal:
        return None
    entered = standing.phase_entered_at
    return min(_moments(policy, standing, entered, {}, RESPONDENTS), default=entered + HEARTBEAT)


def next_moment(
    policy: Policy,
    standing: Standing,
    now: datetime,
    answered: Answered | None = None,
    respondents: Sequence[str] | None = None,
) -> datetime:
    """The next time after ``now`` the tick must look at a pair in a phase of ``policy`` (given who
    ``answered`` a survey in this stay, of ``respondents``: both by default), or a weekly look when nothing
    is scheduled."""
    from engine.policy.surveys import RESPONDENTS

    who = RESPONDENTS if respondents is None else respondents
    moments = _moments(policy, standing, now, answered or {}, who)
    return min((m for m in moments if m > now), default=now + HEARTBEAT)


def _moments(
    policy: Policy, standing: Standing, now: datetime, answered: Answered, respondents: Sequence[str]
) -> list[datetime]:
    """The moments the tick has something to do for the pair in its stay: an auto transition it may take
    (its ``after:`` run out, else its entry), the deadline, the check-in nudges, and the next survey sent
    or reminded after ``now``."""
    from engine.domain.surveys import next_survey_moment

    phase = policy.phases[standing.phase]
    entered = standing.phase_entered_at
    moments = [
        runs_out_at(edge, standing) for edge in policy.edges if edge.source == standing.phase and edge.auto
    ]
    if phase.deadline is not None:
        moments.append(phase.deadline.after.after(entered))
    if phase.cadence is not None:
        moments += [nudge.at for nudge in nudges(phase.cadence, quiet_since(standing))]
    plans = policy.survey_plans.get(standing.phase)
    if plans:
        survey = next_survey_moment(plans, entered, now, answered, respondents)
        moments += [survey] if survey is not None else []
    return moments


def overdue(policy: Policy | Outline, standing: Standing, now: datetime) -> list[Overdue]:
    """What is overdue for this relationship at ``now`` under ``policy``: a passed deadline, and the
    latest check-in nudge due (an escalation, else a reminder)."""
    phase = policy.phases.get(standing.phase)
    if phase is None:
        return []
    found: list[Overdue] = []
    deadline = phase.deadline
    if deadline is not None:
        entered = standing.phase_entered_at
        at = deadline.after.after(entered)
        if at <= now:
            action = deadline.action or f"fire {deadline.fire}"
            found.append(Overdue("deadline", standing.phase, entered, at, action))
    if phase.cadence is not None:
        quiet = quiet_since(standing)
        due = due_nudges(phase.cadence, quiet, now)
        if due:
            found.append(Overdue("check-in", standing.phase, quiet, due[-1].at, due[-1].action))
    return found
