"""The cadence tick: what is due for each relationship, decided and written in batches.

For every relationship whose ``due_at`` has passed, the tick fires the first
``auto`` transition whose conditions hold; otherwise it acts on a passed phase
deadline (remind, escalate, or fire a trigger) and on silence in a phase with a
check-in cadence (remind the pair after ``remind_after`` without a logged
meeting, tell the coordinator after ``escalate_after``: the rule of
:mod:`engine.domain.cadence`); it sends the timed surveys and the survey
reminders the policy asks for (:mod:`engine.domain.surveys`). Every notice is
an outbox row (:func:`engine.domain.effects.outbox_row`) whose
idempotency key names its cause (a phase's notices name the audit entry that
began the stay, so a meeting recorded meanwhile changes nothing), so a rerun at
the same moment finds nothing new to do and sends nothing twice. One batch is one
transaction: a tick killed halfway leaves each relationship either fully
handled or untouched.

A tick acts on the relationships of its policy (by name) only: another
program's are ticked by their own policy. One of its relationships in a phase
the policy no longer has is left untouched, and counted as stranded.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.domain.audit import iso
from engine.domain.cadence import Standing, due_nudges, quiet_since
from engine.domain.cadence import next_moment as next_look
from engine.domain.changes import Cause, Change, Mover
from engine.domain.effects import outbox_row
from engine.domain.lifecycle import Lifecycle, Move
from engine.domain.surveys import (
    REMINDER,
    Answered,
    answered_in_stay,
    survey_notices,
)
from engine.errors import ConflictError
from engine.policy.model import Cadence, Policy
from engine.policy.survey_plans import SEND
from engine.policy.surveys import RESPONDENTS
from engine.policy.vocabulary import ACTIONS, Facts
from engine.services.facts import NO_MEETINGS, load_facts
from engine.store import audit, due, records
from engine.store import relationships as rel_store
from engine.store.database import UnitOfWork
from engine.store.records import SurveyAnswerRow
from engine.store.relationships import RelationshipRow

if TYPE_CHECKING:
    from sqlalchemy import Engine


@dataclass
class TickSummary:
    """What one tick (or one batch of it) did."""

    examined: int = 0
    advanced: dict[str, int] = field(default_factory=dict)
    reminders: int = 0
    escalations: int = 0
    deadlines_fired: int = 0
    conflicts: int = 0
    surveys_sent: int = 0  # timed sends (a survey sent on entering a phase goes with the phase change)
    survey_reminders: int = 0
    stranded: dict[int, str] = field(default_factory=dict)  # untouched: their phase left the policy

    def merged(self, other: TickSummary) -> TickSummary:
        return TickSummary(
            self.examined + other.examined,
            dict(Counter(self.advanced) + Counter(other.advanced)),
            self.reminders + other.reminders,
            self.escalations + other.escalations,
            self.deadlines_fired + other.deadlines_fired,
            self.conflicts + other.conflicts,
            self.surveys_sent + other.surveys_sent,
            self.survey_reminders + other.survey_reminders,
            {**self.stranded, **other.stranded},  # by id: a pair seen by two passes counts once
        )

    def stranded_phases(self) -> dict[str, int]:
        """How many relationships were left in each phase the policy no longer has."""
        return dict(Counter(self.stranded.values()))


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
    rel: RelationshipRow,
    facts: Facts,
    last_meeting: datetime | None,
    *,
    stay: int | None = None,
    answers: Sequence[SurveyAnswerRow] = (),
) -> Decision:
    """The tick's decision for one due relationship at ``facts.now``: pure, no store.

    ``stay`` is the seq of the audit entry that began the pair's stay in its phase
    (the notices of a stay are keyed by it; ``None``: the chain head, when nothing
    was recorded since), ``answers`` the surveys answered in the stay.
    """
    move = _auto_move(lifecycle, rel.phase, facts)
    if move is not None:
        return Decision(move, Cause("cadence", move.trigger, None, _requires(move)))
    policy, now = lifecycle.policy, facts.now
    phase = policy.phases[rel.phase]
    decision = Decision()
    entry = f"rel:{rel.id}:entry:{rel.audit_seq if stay is None else stay}"
    deadline = phase.deadline
    if deadline is not None and deadline.after.after(rel.phase_entered_at) <= now:
        since = deadline.after.after(rel.phase_entered_at)
        if deadline.fire is not None:
            why = f"{rel.phase} deadline of {deadline.after} passed on {since:%Y-%m-%d}"
            fired = lifecycle.try_fire(rel.phase, deadline.fire, replace(facts, reason=why))
            if fired is not None:
                return Decision(fired, Cause("cadence", fired.trigger, why, {"deadline": iso(since)}))
        if deadline.action is not None:
            decision.notices += _notices(deadline.action, f"{entry}:deadline", rel.phase, "deadline", since)
    if phase.cadence is not None:
        decision.notices += _silence(rel, phase.cadence, last_meeting, now)
    answered = answered_in_stay(answers)
    plans = policy.survey_plans.get(rel.phase, ())
    decision.notices += [
        Notice(n.action, n.recipient, f"{entry}:{n.key_tail}", n.params)
        for n in survey_notices(plans, rel.phase, rel.phase_entered_at, now, answered, _respondents(rel))
    ]
    decision.due_at = next_moment(policy, rel, last_meeting, now, answered)
    return decision


def _respondents(rel: RelationshipRow) -> tuple[str, ...]:
    """Who is asked a survey: the mentee, and the mentor once there is one."""
    return RESPONDENTS if rel.mentor_id is not None else ("mentee",)


def _auto_move(lifecycle: Lifecycle, phase: str, facts: Facts) -> Move | None:
    for trigger in dict.fromkeys(edge.trigger for edge in lifecycle.auto_edges_from(phase)):
        move = lifecycle.try_fire(phase, trigger, facts)
        if move is not None and move.edge.auto:
            return move
    return None


def _requires(move: Move) -> dict[str, Any]:
    return {"requires": [call.name for call in move.edge.requires], "auto": True}


def _silence(
    rel: RelationshipRow, cadence: Cadence, last_meeting: datetime | None, now: datetime
) -> list[Notice]:
    """The check-in nudges due at ``now`` (:mod:`engine.domain.cadence`), keyed by the silence they end."""
    quiet = quiet_since(Standing(rel.phase, rel.phase_entered_at, last_meeting))
    cause = f"rel:{rel.id}:quiet:{iso(quiet)}"
    return [
        notice
        for nudge in due_nudges(cadence, quiet, now)
        for notice in _notices(nudge.action, cause, rel.phase, "check-in", nudge.at)
    ]


def _notices(action: str, cause: str, phase: str, kind: str, since: datetime) -> list[Notice]:
    params = {"phase": phase, "kind": kind, "since": iso(since)}
    return [
        Notice(action, who, f"{cause}:{action}:{who}", {**params, "recipient": who})
        for who in ACTIONS[action].recipients
    ]


def next_moment(
    policy: Policy,
    rel: RelationshipRow,
    last_meeting: datetime | None,
    now: datetime,
    answered: Answered | None = None,
) -> datetime | None:
    """The next time after ``now`` the tick must look at ``rel`` (see :mod:`engine.domain.cadence`)."""
    standing = Standing(rel.phase, rel.phase_entered_at, last_meeting)
    return next_look(policy, standing, now, answered, _respondents(rel))


def due_ids(store: Engine, now: datetime, *, policy_name: str, limit: int | None = None) -> list[int]:
    """The relationships of the policy ``policy_name`` whose ``due_at`` has passed, the longest-waiting
    first (through the ``due_at`` index; the policy is a filter on the rows it finds)."""
    with UnitOfWork(store, write=False) as uow:
        return due.due_ids(uow.conn, now, policy_name=policy_name, limit=limit)


def tick_batch(
    store: Engine, lifecycle: Lifecycle, now: datetime, ids: Sequence[int], *, actor: str = "cadence"
) -> TickSummary:
    """Handle these relationships (those still due) in one transaction; on a conflict, retried up to twice."""
    for attempt in range(3):
        try:
            return _tick_batch(store, lifecycle, now, ids, actor)
        except ConflictError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _tick_batch(
    store: Engine, lifecycle: Lifecycle, now: datetime, ids: Sequence[int], actor: str
) -> TickSummary:
    summary = TickSummary()
    policy = lifecycle.policy
    with UnitOfWork(store) as uow:
        rels = _in_policy_phases(due.lock_due(uow.conn, ids, now, policy.policy), policy, summary)
        meetings = records.meeting_stats(uow.conn, [r.id for r in rels])
        answers = records.survey_answers(uow.conn, rels)
        facts = load_facts(uow, policy, rels, now, None, meetings_of=meetings, answers_of=answers)
        stays = audit.stay_starts(uow.conn, [r.id for r in rels if _has_notices(policy, r, now)])
        mover, changes, notices, waits = Mover(policy, now), [], [], []
        for rel in rels:
            last = meetings.get(rel.id, NO_MEETINGS)[2]
            decision = decide(
                lifecycle, rel, facts[rel.id], last, stay=stays.get(rel.id), answers=answers.get(rel.id, ())
            )
            if decision.move is not None and decision.cause is not None:
                cause = replace(decision.cause, actor=actor)
                changes.append(mover.change(rel, decision.move.dest, cause, last_meeting_at=last))
                trigger = decision.move.trigger
                summary.advanced[trigger] = summary.advanced.get(trigger, 0) + 1
                summary.deadlines_fired += decision.cause.reason is not None
            else:
                notices += [(rel.id, n) for n in decision.notices]
                waits.append({"b_id": rel.id, "b_version": rel.version, "due_at": decision.due_at})
        summary.examined = len(rels)
        _write(uow, lifecycle.policy, now, changes, waits, _fresh(uow, notices, now), summary)
        uow.commit()
    return summary


def _in_policy_phases(
    rels: list[RelationshipRow], policy: Policy, summary: TickSummary
) -> list[RelationshipRow]:
    """The rows in a phase of ``policy``; the others are stranded: noted in ``summary``, left untouched."""
    known = [rel for rel in rels if rel.phase in policy.phases]
    if len(known) < len(rels):
        summary.stranded.update((rel.id, rel.phase) for rel in rels if rel.phase not in policy.phases)
    return known


def _has_notices(policy: Policy, rel: RelationshipRow, now: datetime) -> bool:
    """Whether a notice keyed by the pair's stay may be due (a passed deadline, a survey sent or reminded).

    Only those pairs need the entry that began their stay looked up in the audit chain.
    """
    entered = rel.phase_entered_at
    deadline = policy.phases[rel.phase].deadline
    if deadline is not None and deadline.after.after(entered) <= now:
        return True
    firsts = (plan.first_moment(entered) for plan in policy.survey_plans.get(rel.phase, ()))
    return any(first is not None and first <= now for first in firsts)


def _fresh(uow: UnitOfWork, notices: list[tuple[int, Notice]], now: datetime) -> list[dict[str, Any]]:
    """Outbox rows for the notices not sent before (their key is not in the outbox yet)."""
    known = due.known_keys(uow.conn, [n.key for _, n in notices])
    return [outbox_row(rel_id, n.key, n.action, n.params, now) for rel_id, n in notices if n.key not in known]


def _write(
    uow: UnitOfWork, policy: Policy, now: datetime, changes: list[Change], waits: list[dict[str, Any]],
    rows: list[dict[str, Any]], summary: TickSummary,
) -> None:  # fmt: skip
    rel_store.apply_moves(
        uow.conn,
        [c.update for c in changes],
        [c.entry for c in changes],
        [e for c in changes for e in c.effects],
    )
    if changes:
        audit.record_policy_version(uow.conn, policy, now)
    if waits and due.set_due(uow.conn, waits) != len(waits):
        raise ConflictError("a relationship changed while the tick handled it")
    rel_store.append(uow.conn, [], rows)
    actions = Counter(r["action"] for r in rows)
    summary.reminders, summary.escalations = actions["remind"], actions["escalate"]
    summary.surveys_sent, summary.survey_reminders = actions[SEND], actions[REMINDER]


PASSES = 6
"""Passes per tick. A pass moves each pair it finds, or sets its ``due_at`` past ``now``; a pair it
moved can be due again at once (a trained mentor's pair: matched, then kickoff, whose ``start``
waits for no time), so another pass follows one that moved pairs, and a second tick at the same
moment finds nothing due."""


BATCH_SIZE = 500
"""Relationships per batch, so per transaction, unless the caller says otherwise."""

TickBatches = Callable[[list[list[int]]], TickSummary]
"""Ticks the batches of one pass, each with :func:`tick_batch` (one after another, or side by side),
and adds up their summaries."""


def batches(ids: Sequence[int], size: int) -> list[list[int]]:
    """``ids`` in batches of ``size``, in order."""
    return [list(ids[start : start + size]) for start in range(0, len(ids), size)]


def added(summaries: Iterable[TickSummary]) -> TickSummary:
    """The summaries added up."""
    total = TickSummary()
    for summary in summaries:
        total = total.merged(summary)
    return total


def in_turn(store: Engine, lifecycle: Lifecycle, now: datetime) -> TickBatches:
    """Ticks a pass's batches one after another, in this thread."""
    return lambda parts: added(tick_batch(store, lifecycle, now, part) for part in parts)


def run_tick(
    store: Engine,
    lifecycle: Lifecycle,
    now: datetime,
    *,
    batch_size: int = BATCH_SIZE,
    tick_batches: TickBatches | None = None,
) -> TickSummary:
    """One cadence tick: the relationships of the lifecycle's policy due at ``now``, in batches, pass
    after pass (see :data:`PASSES`).

    ``tick_batches`` ticks the batches of a pass: by default :func:`in_turn`; the cadence flow passes
    one that submits a Prefect task per batch.
    """
    tick = tick_batches or in_turn(store, lifecycle, now)
    summary = TickSummary()
    for _ in range(PASSES):
        ids = due_ids(store, now, policy_name=lifecycle.policy.policy)
        if not ids:
            break
        done = tick(batches(ids, batch_size))
        summary = summary.merged(done)
        if not done.advanced:
            break  # nothing moved: every pair examined now waits for a later moment
    return summary
