"""The cadence tick: what is due for each relationship, decided and written in batches.

For every relationship whose ``due_at`` has passed, the tick fires the first
``auto`` transition whose conditions hold; otherwise it acts on a passed phase
deadline (remind, escalate, or fire a trigger) and on silence in a phase with a
check-in cadence (remind the pair after ``remind_after`` without a logged
meeting, tell the coordinator after ``escalate_after``); it sends the timed
surveys and the survey reminders the policy asks for
(:mod:`engine.survey_schedule`). Every notice is an outbox row whose
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
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, select, update

from engine.domain.audit import iso
from engine.domain.cadence import HEARTBEAT
from engine.domain.changes import Cause, Change, Mover
from engine.domain.lifecycle import Lifecycle, Move
from engine.domain.surveys import (
    REMINDER,
    SEND,
    Answered,
    answered_in_stay,
    next_survey_moment,
    survey_notices,
)
from engine.errors import ConflictError
from engine.policy.model import Policy
from engine.policy.surveys import RESPONDENTS
from engine.policy.vocabulary import ACTIONS, Facts
from engine.services.facts import NO_MEETINGS, load_facts
from engine.store import repository as repo
from engine.store.database import UnitOfWork
from engine.store.repository import RelationshipRow, SurveyAnswerRow
from engine.store.tables import outbox, relationships


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


def _quiet_since(rel: RelationshipRow, last_meeting: datetime | None) -> datetime:
    if last_meeting is None or last_meeting < rel.phase_entered_at:
        return rel.phase_entered_at
    return last_meeting


def _silence(
    rel: RelationshipRow, cadence: Any, last_meeting: datetime | None, now: datetime
) -> list[Notice]:
    quiet = _quiet_since(rel, last_meeting)
    cause = f"rel:{rel.id}:quiet:{iso(quiet)}"
    notices = []
    if cadence.remind_after.after(quiet) <= now:
        notices += _notices("remind", cause, rel.phase, "check-in", cadence.remind_after.after(quiet))
    if cadence.escalate_after is not None and cadence.escalate_after.after(quiet) <= now:
        notices += _notices("escalate", cause, rel.phase, "check-in", cadence.escalate_after.after(quiet))
    return notices


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
    """The next time after ``now`` the tick must look at ``rel``: a deadline, a check-in nudge, a survey
    sent or reminded (given who ``answered`` in this stay), or a weekly look when nothing is scheduled."""
    phase = policy.phases[rel.phase]
    entered = rel.phase_entered_at
    moments = [
        edge.after.after(entered)
        for edge in policy.edges
        if edge.source == rel.phase and edge.auto and edge.after
    ]
    if phase.deadline is not None:
        moments.append(phase.deadline.after.after(entered))
    if phase.cadence is not None:
        quiet = _quiet_since(rel, last_meeting)
        moments.append(phase.cadence.remind_after.after(quiet))
        if phase.cadence.escalate_after is not None:
            moments.append(phase.cadence.escalate_after.after(quiet))
    plans = policy.survey_plans.get(rel.phase)
    if plans:
        survey = next_survey_moment(plans, entered, now, answered or {}, _respondents(rel))
        moments += [survey] if survey is not None else []
    return min((m for m in moments if m > now), default=now + HEARTBEAT)


def due_ids(store: Engine, now: datetime, *, policy_name: str, limit: int | None = None) -> list[int]:
    """The relationships of the policy ``policy_name`` whose ``due_at`` has passed, the longest-waiting
    first (through the ``due_at`` index; the policy is a filter on the rows it finds)."""
    query = (
        select(relationships.c.id)
        .where(relationships.c.due_at <= now, relationships.c.policy_name == policy_name)
        .order_by(relationships.c.due_at, relationships.c.id)
        .limit(limit)
    )
    with UnitOfWork(store, write=False) as uow:
        return list(uow.conn.execute(query).scalars())


def tick_batch(
    store: Engine, lifecycle: Lifecycle, now: datetime, ids: Sequence[int], *, actor: str = "cadence"
) -> TickSummary:
    """Handle these relationships (those still due) in one transaction; retried once on a conflict."""
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
        rels = _in_policy_phases(_lock_due(uow, ids, now, policy.policy), policy, summary)
        meetings = repo.meeting_stats(uow.conn, [r.id for r in rels])
        answers = repo.survey_answers(uow.conn, rels)
        facts = load_facts(uow, policy, rels, now, None, meetings_of=meetings, answers_of=answers)
        stays = repo.stay_starts(uow.conn, [r.id for r in rels if _has_notices(policy, r, now)])
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


def _lock_due(uow: UnitOfWork, ids: Sequence[int], now: datetime, policy_name: str) -> list[RelationshipRow]:
    """The rows of ``ids`` of the policy ``policy_name`` still due, locked; on PostgreSQL rows another
    worker holds are skipped."""
    found: list[RelationshipRow] = []
    columns = [relationships.c[name] for name in RelationshipRow._fields]
    for part in repo.chunks(list(ids)):
        query = (
            select(*columns)
            .where(
                relationships.c.id.in_(part),
                relationships.c.due_at <= now,
                relationships.c.policy_name == policy_name,
            )
            .order_by(relationships.c.id)
        )
        if uow.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        found += [RelationshipRow._make(row) for row in uow.conn.execute(query)]
    return found


def _fresh(uow: UnitOfWork, notices: list[tuple[int, Notice]], now: datetime) -> list[dict[str, Any]]:
    """Outbox rows for the notices not sent before (their key is not in the outbox yet)."""
    keys = [n.key for _, n in notices]
    known: set[str] = set()
    for start in range(0, len(keys), repo.CHUNK):
        part = keys[start : start + repo.CHUNK]
        known.update(
            uow.conn.execute(
                select(outbox.c.idempotency_key).where(outbox.c.idempotency_key.in_(part))
            ).scalars()
        )
    return [
        {
            "relationship_id": rel_id, "idempotency_key": n.key, "action": n.action, "params": n.params,
            "created_at": now, "status": "pending", "attempts": 0, "next_attempt_at": now,
            "delivered_at": None, "last_error": None,
        }
        for rel_id, n in notices
        if n.key not in known
    ]  # fmt: skip


def _write(
    uow: UnitOfWork, policy: Policy, now: datetime, changes: list[Change], waits: list[dict[str, Any]],
    rows: list[dict[str, Any]], summary: TickSummary,
) -> None:  # fmt: skip
    repo.apply_moves(
        uow.conn,
        [c.update for c in changes],
        [c.entry for c in changes],
        [e for c in changes for e in c.effects],
    )
    if changes:
        repo.record_policy_version(uow.conn, policy, now)
    if waits:
        statement = (
            update(relationships)
            .where(relationships.c.id == bindparam("b_id"), relationships.c.version == bindparam("b_version"))
            .values(due_at=bindparam("due_at"))
        )
        if uow.conn.execute(statement, waits).rowcount != len(waits):
            raise ConflictError("a relationship changed while the tick handled it")
    repo.append(uow.conn, [], rows)
    actions = Counter(r["action"] for r in rows)
    summary.reminders, summary.escalations = actions["remind"], actions["escalate"]
    summary.surveys_sent, summary.survey_reminders = actions[SEND], actions[REMINDER]


PASSES = 6
"""Passes per tick. A pass moves each pair it finds, or sets its ``due_at`` past ``now``; a pair it
moved can be due again at once (a trained mentor's pair: matched, then kickoff, whose ``start``
waits for no time), so another pass follows one that moved pairs, and a second tick at the same
moment finds nothing due."""


def run_tick(store: Engine, lifecycle: Lifecycle, now: datetime, *, batch_size: int = 500) -> TickSummary:
    """One cadence tick without Prefect: the relationships of the lifecycle's policy due at ``now``, in
    batches, pass after pass."""
    summary = TickSummary()
    for _ in range(PASSES):
        ids = due_ids(store, now, policy_name=lifecycle.policy.policy)
        if not ids:
            break
        done = TickSummary()
        for start in range(0, len(ids), batch_size):
            done = done.merged(tick_batch(store, lifecycle, now, ids[start : start + batch_size]))
        summary = summary.merged(done)
        if not done.advanced:
            break  # nothing moved: every pair examined now waits for a later moment
    return summary
