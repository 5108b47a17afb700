"""The tick's decision for one due relationship: move it, or which notices it sends, and when to look again.

Pure: it takes the pair's row, its facts and ``now`` and reads neither the
clock nor the store; :mod:`engine.services.tick` loads what it needs and writes
what it decides. The check-in rule it applies is :mod:`engine.domain.cadence`'s,
the survey rule :mod:`engine.domain.surveys`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol
from weakref import WeakKeyDictionary

from engine.domain.audit import iso
from engine.domain.cadence import Standing, due_nudges, quiet_since
from engine.domain.cadence import next_moment as next_look
from engine.domain.change_rows import Recording
from engine.domain.changes import Cause
from engine.domain.lifecycle import Lifecycle, Move
from engine.domain.phase_time import earlier
from engine.domain.surveys import Answered, answered_in_stay, has_answered, sent_in_stay, survey_notices
from engine.policy.model import Cadence, Policy
from engine.policy.survey_plans import SurveyPlan
from engine.policy.surveys import RESPONDENTS
from engine.policy.vocabulary import ACTIONS, Facts

Answer = tuple[str, str, datetime]
"""A survey answered in the stay: (survey, respondent, answered at)."""


class Due(Recording, Protocol):
    """What the tick reads of a due relationship's row."""


@dataclass(frozen=True)
class Notice:
    """A message the tick causes without a phase change, keyed by its cause."""

    action: str
    recipient: str
    key: str
    params: dict[str, Any]


@dataclass
class Decision:
    """What the tick does with one relationship."""

    move: Move | None = None
    cause: Cause | None = None
    notices: list[Notice] = field(default_factory=list)
    due_at: datetime | None = None


def decide(
    lifecycle: Lifecycle,
    rel: Due,
    facts: Facts,
    last_meeting: datetime | None,
    *,
    stay: int | None = None,
    answers: Sequence[Answer] = (),
    moved_by: frozenset[str] = frozenset(),
) -> Decision:
    """The tick's decision for one due relationship at ``facts.now``: pure, no store.

    ``stay`` is the seq of the audit entry that began the pair's stay in its phase
    (the notices of a stay are keyed by it; ``None``: the chain head, when nothing
    was recorded since), ``answers`` the surveys answered in the stay, ``moved_by`` the triggers that
    already moved the pair at this moment: none moves it twice (a guard against a cycle of moves).
    """
    move = _auto_move(lifecycle, rel.phase, facts, moved_by)
    if move is not None:
        return Decision(move, Cause("cadence", move.trigger, None, _requires(move)))
    policy, now = lifecycle.policy, facts.now
    phase = policy.phases[rel.phase]
    decision = Decision()
    entry = f"rel:{rel.id}:entry:{rel.audit_seq if stay is None else stay}"
    answered = answered_in_stay(answers)
    plans = policy.survey_plans.get(rel.phase, ())
    deadline = phase.deadline
    if deadline is not None and deadline.after.after(rel.phase_entered_at) <= now:
        since = deadline.after.after(rel.phase_entered_at)
        if deadline.fire is not None and deadline.fire not in moved_by:
            why = f"{rel.phase} deadline of {deadline.after} passed on {since:%Y-%m-%d}"
            fired = lifecycle.try_fire(rel.phase, deadline.fire, replace(facts, reason=why))
            if fired is not None:
                return Decision(fired, Cause("cadence", fired.trigger, why, {"deadline": iso(since)}))
        if deadline.action is not None:
            # "since": the entry into the phase (the texts say "in phase X since ..."); who answered is done
            done = surveyed(plans, rel.phase_entered_at, now, answered)
            found = _notices(
                deadline.action, f"{entry}:deadline", rel.phase, "deadline", rel.phase_entered_at
            )
            decision.notices += [n for n in found if n.recipient not in done]
    if phase.cadence is not None:
        decision.notices += _silence(rel, phase.cadence, last_meeting, now)
    decision.notices += [
        Notice(n.action, n.recipient, f"{entry}:{n.key_tail}", n.params)
        for n in survey_notices(plans, rel.phase, rel.phase_entered_at, now, answered, _respondents(rel))
    ]
    decision.due_at = next_moment(policy, rel, last_meeting, now, answered)
    return decision


def _respondents(rel: Due) -> tuple[str, ...]:
    """Who is asked a survey: the mentee, and the mentor once there is one."""
    return RESPONDENTS if rel.mentor_id is not None else ("mentee",)


def _auto_move(lifecycle: Lifecycle, phase: str, facts: Facts, moved_by: frozenset[str]) -> Move | None:
    triggers = dict.fromkeys(e.trigger for e in lifecycle.auto_edges_from(phase))
    for trigger in (t for t in triggers if t not in moved_by):
        move = lifecycle.try_fire(phase, trigger, facts)
        if move is not None and move.edge.auto:
            return move
    return None


def _requires(move: Move) -> dict[str, Any]:
    return {"requires": [call.name for call in move.edge.requires], "auto": True}


def surveyed(
    plans: Sequence[SurveyPlan], entered: datetime, now: datetime, answered: Answered
) -> frozenset[str]:
    """Who has answered every survey sent so far in a stay that began at ``entered`` (none sent: nobody).

    A deadline notice of a phase that sends a survey skips them: the survey's own reminders chase the others.
    """
    sent = sent_in_stay(plans, entered, now)
    if not sent:
        return frozenset()
    return frozenset(
        who for who in RESPONDENTS if all(has_answered(answered, s, who, at) for s, at in sent.items())
    )


def _silence(rel: Due, cadence: Cadence, last_meeting: datetime | None, now: datetime) -> list[Notice]:
    """The check-in nudges due at ``now`` (:mod:`engine.domain.cadence`), keyed by the silence they end.

    Their ``since`` is the start of that silence (the last meeting, or the entry into the phase), which the
    texts show as "no meeting recorded since ...", not the moment the nudge fell due.
    """
    quiet = quiet_since(Standing(rel.phase, rel.phase_entered_at, last_meeting))
    cause = f"rel:{rel.id}:quiet:{iso(quiet)}"
    return [
        notice
        for nudge in due_nudges(cadence, quiet, now)
        for notice in _notices(nudge.action, cause, rel.phase, "check-in", quiet)
    ]


def _notices(action: str, cause: str, phase: str, kind: str, since: datetime) -> list[Notice]:
    params = {"phase": phase, "kind": kind, "since": iso(since)}
    return [
        Notice(action, who, f"{cause}:{action}:{who}", {**params, "recipient": who})
        for who in ACTIONS[action].recipients
    ]


def next_moment(
    policy: Policy,
    rel: Due,
    last_meeting: datetime | None,
    now: datetime,
    answered: Answered | None = None,
) -> datetime | None:
    """The next time after ``now`` the tick must look at ``rel`` (see :mod:`engine.domain.cadence`)."""
    before = earlier(rel.phase_clock, rel.phase)
    standing = Standing(rel.phase, rel.phase_entered_at, last_meeting, before.spent, before.first_entered)
    return next_look(policy, standing, now, answered, _respondents(rel))


def tick_reads(lifecycle: Lifecycle) -> frozenset[str]:
    """The stored facts :func:`decide` may read (see ``FACT_SOURCES``): those of the conditions of the
    triggers it tries, the auto transitions' and the deadlines' ``fire``. Worked out once per lifecycle."""
    known = _READS.get(lifecycle)
    if known is None:
        policy = lifecycle.policy
        tried = {edge.trigger for edge in policy.edges if edge.auto}
        tried |= {p.deadline.fire for p in policy.phases.values() if p.deadline and p.deadline.fire}
        known = _READS[lifecycle] = frozenset().union(*(lifecycle.reads(t) for t in sorted(tried)))
    return known


_READS: WeakKeyDictionary[Lifecycle, frozenset[str]] = WeakKeyDictionary()
"""The facts each lifecycle's tick reads, kept as long as the lifecycle."""


def has_stay_notices(policy: Policy, rel: Due, now: datetime) -> bool:
    """Whether a notice keyed by the pair's stay may be due (a passed deadline, a survey sent or reminded).

    Only those pairs need the entry that began their stay looked up in the audit chain.
    """
    entered = rel.phase_entered_at
    deadline = policy.phases[rel.phase].deadline
    if deadline is not None and deadline.after.after(entered) <= now:
        return True
    firsts = (plan.first_moment(entered) for plan in policy.survey_plans.get(rel.phase, ()))
    return any(first is not None and first <= now for first in firsts)
