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

from engine.domain.change_rows import Change
from engine.domain.changes import Mover
from engine.domain.effects import outbox_row
from engine.domain.lifecycle import Lifecycle
from engine.domain.surveys import REMINDER
from engine.domain.ticking import Notice, decide, has_stay_notices, tick_reads
from engine.errors import ConflictError
from engine.policy.model import Policy
from engine.policy.survey_plans import SEND
from engine.services.collector import collector_paused
from engine.services.facts import NO_MEETINGS, load_facts
from engine.store import audit, due, records
from engine.store import relationships as rel_store
from engine.store.database import Rehearsal, UnitOfWork
from engine.store.due import Wait
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
    purged: dict[str, int] = field(default_factory=dict)  # per kind, what the retention purge erased
    invited: int = 0  # people the cadence invited to group sessions (engine.services.sessions)

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
            dict(Counter(self.purged) + Counter(other.purged)),
            self.invited + other.invited,
        )

    def stranded_phases(self) -> dict[str, int]:
        """How many relationships were left in each phase the policy no longer has."""
        return dict(Counter(self.stranded.values()))


def due_ids(
    store: Engine, now: datetime, *, policy_name: str, limit: int | None = None,
    rehearsal: Rehearsal | None = None,
) -> list[int]:  # fmt: skip
    """The relationships of the policy ``policy_name`` whose ``due_at`` has passed, the longest-waiting
    first (through the ``due_at`` index; the policy is a filter on the rows it finds)."""
    with UnitOfWork(store, write=False, within=rehearsal) as uow:
        return due.due_ids(uow.conn, now, policy_name=policy_name, limit=limit)


def tick_batch(
    store: Engine, lifecycle: Lifecycle, now: datetime, ids: Sequence[int], *, actor: str = "cadence",
    rehearsal: Rehearsal | None = None,
) -> TickSummary:  # fmt: skip
    """Handle these relationships (those still due) in one transaction; on a conflict, retried up to twice.

    Within a ``rehearsal`` the transaction is a savepoint of the rehearsal's, rolled back with it.
    """
    for attempt in range(3):
        try:
            with collector_paused():  # the batch's rows are freed on return, before the collector runs
                return _tick_batch(store, lifecycle, now, ids, actor, rehearsal)
        except ConflictError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _tick_batch(
    store: Engine, lifecycle: Lifecycle, now: datetime, ids: Sequence[int], actor: str,
    rehearsal: Rehearsal | None,
) -> TickSummary:  # fmt: skip
    """The batch in one transaction: its due pairs decided, then those it moved that are due again at
    once (see :data:`PASSES`), in the same transaction, instead of in another pass of the tick."""
    summary = TickSummary()
    with UnitOfWork(store, within=rehearsal) as uow:
        for _ in range(PASSES):
            ids = _tick_rows(uow, lifecycle, now, ids, actor, summary)
            if not ids:
                break
        uow.commit()
    return summary


def _tick_rows(
    uow: UnitOfWork, lifecycle: Lifecycle, now: datetime, ids: Sequence[int], actor: str,
    summary: TickSummary,
) -> list[int]:  # fmt: skip
    """Decide and write what is due for those of ``ids`` still due; the ids of the pairs it moved that
    are due again at once."""
    policy = lifecycle.policy
    rels = _in_policy_phases(due.lock_due(uow.conn, ids, now, policy.policy), policy, summary)
    meetings = records.meeting_stats(uow.conn, [r.id for r in rels])
    answers = records.survey_answers(uow.conn, rels)
    facts = load_facts(
        uow, policy, rels, now, None, meetings_of=meetings, answers_of=answers, reads=tick_reads(lifecycle)
    )
    stays = audit.stay_starts(uow.conn, [r.id for r in rels if has_stay_notices(policy, r, now)])
    # a pair that entered its phase at this moment was moved already: no trigger moves it twice
    fired = audit.triggers_at(uow.conn, [r.id for r in rels if r.phase_entered_at == now], now)
    mover, changes, notices, waits = Mover(policy, now), [], [], []
    for rel in rels:
        last = meetings.get(rel.id, NO_MEETINGS)[2]
        decision = decide(
            lifecycle, rel, facts[rel.id], last, stay=stays.get(rel.id), answers=answers.get(rel.id, ()),
            moved_by=fired.get(rel.id, frozenset()),
        )  # fmt: skip
        if decision.move is not None and decision.cause is not None:
            cause = replace(decision.cause, actor=actor)
            changes.append(mover.change(rel, decision.move.dest, cause, last_meeting_at=last))
            trigger = decision.move.trigger
            summary.advanced[trigger] = summary.advanced.get(trigger, 0) + 1
            summary.deadlines_fired += decision.cause.reason is not None
        else:
            notices += [(rel.id, n) for n in decision.notices]
            waits.append(Wait(rel.id, rel.version, decision.due_at))
    summary.examined += len(rels)
    _write(uow, policy, now, changes, waits, _fresh(uow, notices, now), summary)
    return [
        c.update.relationship_id for c in changes if c.update.due_at is not None and c.update.due_at <= now
    ]


def _in_policy_phases(
    rels: list[RelationshipRow], policy: Policy, summary: TickSummary
) -> list[RelationshipRow]:
    """The rows in a phase of ``policy``; the others are stranded: noted in ``summary``, left untouched."""
    known = [rel for rel in rels if rel.phase in policy.phases]
    if len(known) < len(rels):
        summary.stranded.update((rel.id, rel.phase) for rel in rels if rel.phase not in policy.phases)
    return known


def _fresh(uow: UnitOfWork, notices: list[tuple[int, Notice]], now: datetime) -> list[dict[str, Any]]:
    """Outbox rows for the notices not sent before (their key is not in the outbox yet)."""
    known = due.known_keys(uow.conn, [n.key for _, n in notices])
    return [outbox_row(rel_id, n.key, n.action, n.params, now) for rel_id, n in notices if n.key not in known]


def _write(
    uow: UnitOfWork, policy: Policy, now: datetime, changes: list[Change], waits: list[Wait],
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
    summary.reminders += actions["remind"]
    summary.escalations += actions["escalate"]
    summary.surveys_sent += actions[SEND]
    summary.survey_reminders += actions[REMINDER]


PASSES = 6
"""Passes per tick, and per batch. A pass moves each pair it finds, or sets its ``due_at`` past ``now``;
a pair it moved can be due again at once (a trained mentor's pair: matched, then kickoff, whose
``start`` waits for no time). Its batch decides it again at once, in the same transaction; and another
pass of the tick follows one that moved pairs, for what became due meanwhile, so a second tick at the
same moment finds nothing due."""


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


def in_turn(
    store: Engine, lifecycle: Lifecycle, now: datetime, rehearsal: Rehearsal | None = None
) -> TickBatches:
    """Ticks a pass's batches one after another, in this thread (within ``rehearsal``, if given)."""
    return lambda parts: added(tick_batch(store, lifecycle, now, p, rehearsal=rehearsal) for p in parts)


def run_tick(
    store: Engine,
    lifecycle: Lifecycle,
    now: datetime,
    *,
    batch_size: int = BATCH_SIZE,
    tick_batches: TickBatches | None = None,
    rehearsal: Rehearsal | None = None,
) -> TickSummary:
    """One cadence tick: the relationships of the lifecycle's policy due at ``now``, in batches, pass
    after pass (see :data:`PASSES`).

    ``tick_batches`` ticks the batches of a pass: by default :func:`in_turn`; the cadence flow passes
    one that submits a Prefect task per batch. Within a ``rehearsal`` (batches in turn only) the tick
    writes what it always writes, and the rehearsal's exit rolls it all back.
    """
    if rehearsal is not None and tick_batches is not None:
        raise ValueError("a rehearsed tick runs its batches in turn, within the rehearsal")
    tick = tick_batches or in_turn(store, lifecycle, now, rehearsal)
    summary = TickSummary()
    for _ in range(PASSES):
        ids = due_ids(store, now, policy_name=lifecycle.policy.policy, rehearsal=rehearsal)
        if not ids:
            break
        done = tick(batches(ids, batch_size))
        summary = summary.merged(done)
        if not done.advanced:
            break  # nothing moved: every pair examined now waits for a later moment
    return summary
