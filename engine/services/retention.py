"""Purging what a policy's ``retention:`` says has expired: the cadence's last step, and ``mentorflow purge``.

A purge works pass after pass, each one transaction over a batch of relationships of the policy
(:data:`BATCH_SIZE`): set-based updates erase the survey answers' free text, the meetings' notes and
the settled messages' personal parts written before their kind's period (counted from when mentorflow
received them: ``answered_at``, ``recorded_at``, ``created_at``), the relationships closed longer than
``closed_relationships`` are forgotten, and the participants who left, all of whose pairs closed longer
than ``left_participants`` ago, are pseudonymised (:mod:`engine.services.erasure`). Each relationship it
erased something of gets one audit entry (trigger ``purge``, actor ``retention``, its phase unchanged)
whose data counts what was erased, by kind: the chain says that text was purged, never the text.
A pass erases what it selected, so the next one finds the rest, and a second purge at the same moment
finds nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from engine.domain.changes import Cause, Mover
from engine.errors import ConflictError
from engine.policy.model import Policy
from engine.policy.retention_periods import (
    CLOSED_RELATIONSHIPS,
    KINDS,
    LEFT_PARTICIPANTS,
    MEETING_NOTES,
    MESSAGE_BODIES,
    SURVEY_TEXT,
    RetentionRules,
    retention_rules,
)
from engine.policy.vocabulary import PURGE
from engine.services.erasure import forget_participants, forget_relationships
from engine.store import audit
from engine.store import relationships as rel_store
from engine.store import retention as retention_store
from engine.store.database import UnitOfWork
from engine.store.relationships import RelationshipRow

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

ACTOR = "retention"
BATCH_SIZE = 500
"""Relationships (and leavers) per pass, so per transaction."""
MAX_PASSES = 2000
"""Passes per purge: a backlog larger than this many batches waits for the next run."""
LEFT_REASON = "left the program; kept no longer than the policy's retention (left_participants)"

_LABELS = {
    SURVEY_TEXT: "survey text(s)",
    MEETING_NOTES: "meeting note(s)",
    MESSAGE_BODIES: "message body(ies)",
    CLOSED_RELATIONSHIPS: "closed relationship(s)",
    LEFT_PARTICIPANTS: "leaver(s)",
}
Purge = Callable[["Connection", Sequence[int], datetime], Counter[int]]
_PURGES: tuple[tuple[str, Purge], ...] = (
    (SURVEY_TEXT, retention_store.purge_survey_text),
    (MEETING_NOTES, retention_store.purge_meeting_notes),
    (MESSAGE_BODIES, retention_store.purge_message_bodies),
)


@dataclass
class PurgeSummary:
    """What a purge (or one pass of it) erased: per kind, how many items (answers, meetings, messages,
    relationships, participants), and how many relationships got a ``purge`` entry."""

    purged: dict[str, int] = field(default_factory=dict)
    relationships: int = 0
    passes: int = 0

    def merged(self, other: PurgeSummary) -> PurgeSummary:
        return PurgeSummary(
            dict(Counter(self.purged) + Counter(other.purged)),
            self.relationships + other.relationships,
            self.passes + other.passes,
        )


def purged_line(purged: Mapping[str, int]) -> str:
    """``3 survey text(s), 1 meeting note(s)``: counts by kind in one line (``nothing`` for none)."""
    said = [f"{purged[kind]} {_LABELS[kind]}" for kind in KINDS if purged.get(kind)]
    return ", ".join(said) or "nothing"


def due_for_purge(store: Engine, rules: RetentionRules, now: datetime) -> dict[str, int]:
    """Per kind the policy limits, how much has expired at ``now`` and waits for the next purge."""
    cutoffs = rules.cutoffs(now)
    with UnitOfWork(store, write=False) as uow:
        found = retention_store.due_counts(uow.conn, cutoffs, rules.policy)
        if (cut := cutoffs.get(CLOSED_RELATIONSHIPS)) is not None:
            found[CLOSED_RELATIONSHIPS] = len(
                retention_store.closed_relationships(uow.conn, rules.policy, rules.closed_phases, cut)
            )
        if (cut := cutoffs.get(LEFT_PARTICIPANTS)) is not None:
            found[LEFT_PARTICIPANTS] = len(
                retention_store.left_participants(uow.conn, rules.policy, rules.closed_phases, cut)
            )
    return {kind: found[kind] for kind in KINDS if kind in found}


def purge_expired(
    store: Engine, policy: Policy, now: datetime, *, batch_size: int = BATCH_SIZE
) -> PurgeSummary:
    """Erase what has expired at ``now`` under the policy's ``retention:``, pass after pass, each one
    transaction (a pass that meets another writer is tried again, up to twice); nothing without it."""
    rules = retention_rules(policy)
    total = PurgeSummary()
    if rules is None:
        return total
    for _ in range(MAX_PASSES):
        done = _retried(store, policy, rules, now, batch_size)
        if done is None:
            break
        total = total.merged(done)
    return total


def _retried(
    store: Engine, policy: Policy, rules: RetentionRules, now: datetime, batch_size: int
) -> PurgeSummary | None:
    for attempt in range(3):
        try:
            return _pass(store, policy, rules, now, batch_size)
        except ConflictError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _pass(
    store: Engine, policy: Policy, rules: RetentionRules, now: datetime, batch_size: int
) -> PurgeSummary | None:
    """One batch purged in one transaction; ``None`` when nothing more has expired."""
    cutoffs = rules.cutoffs(now)
    summary = PurgeSummary(passes=1)
    with UnitOfWork(store) as uow:
        conn = uow.conn
        closed, people = _forgettable(conn, rules, cutoffs, batch_size)
        if people:  # first: what their erasure leaves in their messages is purged with the rest
            pseudonymised = forget_participants(uow, now, people, actor=ACTOR, reason=LEFT_REASON)
            summary.purged[LEFT_PARTICIPANTS] = pseudonymised
        ids = retention_store.due_relationships(conn, cutoffs, rules.policy, batch_size)
        if not (closed or people or ids):
            return None
        rels = rel_store.relationship_rows(conn, sorted(set(ids) - set(closed)), lock=True)
        by_rel = _purged_texts(conn, ids, cutoffs, summary.purged)
        noted = [(rels[rid], by_rel[rid]) for rid in rels if rid in by_rel]
        summary.relationships += _note(conn, policy, now, noted)
        summary.relationships += _forget(uow, now, closed, by_rel, summary.purged)
        uow.commit()
    return summary


def _forgettable(
    conn: Connection, rules: RetentionRules, cutoffs: Mapping[str, datetime | None], batch_size: int
) -> tuple[list[int], list[int]]:
    """(the closed relationships to forget, the leavers to pseudonymise) of this pass."""
    closed: list[int] = []
    people: list[int] = []
    if (cut := cutoffs.get(CLOSED_RELATIONSHIPS)) is not None:
        closed = retention_store.closed_relationships(
            conn, rules.policy, rules.closed_phases, cut, batch_size
        )
    if (cut := cutoffs.get(LEFT_PARTICIPANTS)) is not None:
        people = retention_store.left_participants(conn, rules.policy, rules.closed_phases, cut, batch_size)
    return closed, people


def _purged_texts(
    conn: Connection, ids: list[int], cutoffs: Mapping[str, datetime | None], purged: dict[str, int]
) -> dict[int, dict[str, int]]:
    """Erase the expired survey text, meeting notes and message bodies of ``ids``; what was erased of each
    relationship, by kind (added up in ``purged``)."""
    by_rel: dict[int, dict[str, int]] = {}
    for kind, purge in _PURGES:
        cut = cutoffs.get(kind)
        if cut is None or not ids:
            continue
        for rid, count in purge(conn, ids, cut).items():
            by_rel.setdefault(rid, {})[kind] = count
            purged[kind] = purged.get(kind, 0) + count
    return by_rel


def _note(
    conn: Connection, policy: Policy, now: datetime, purged: list[tuple[RelationshipRow, dict[str, int]]]
) -> int:
    """An entry in the chain of each relationship something was erased of, counting it by kind (the
    relationships' rows were locked before); how many entries."""
    mover = Mover(policy, now)
    recorded = [mover.facts(rel, [Cause(ACTOR, PURGE, None, {"purged": counts})]) for rel, counts in purged]
    rel_store.apply_moves(conn, [r.update for r in recorded], [e for r in recorded for e in r.entries], [])
    if recorded:
        audit.record_policy_version(conn, policy, now)
    return len(recorded)


def _forget(
    uow: UnitOfWork,
    now: datetime,
    closed: list[int],
    by_rel: Mapping[int, dict[str, int]],
    purged: dict[str, int],
) -> int:
    """Forget the closed relationships ``closed`` (their free text, their goals, the reasons in their chains):
    one entry each, counting what else this pass erased of it too; how many entries."""
    groups: dict[tuple[tuple[str, int], ...], list[int]] = {}
    for rid in closed:
        counts = {**by_rel.get(rid, {}), CLOSED_RELATIONSHIPS: 1}
        groups.setdefault(tuple(sorted(counts.items())), []).append(rid)
    forgotten = 0
    for shape, rel_ids in groups.items():
        data = {"purged": dict(shape)}
        done, _, _ = forget_relationships(
            uow, now, rel_ids, actor=ACTOR, trigger=PURGE, goals_of=rel_ids, data=data
        )
        forgotten += done
    if forgotten:
        purged[CLOSED_RELATIONSHIPS] = purged.get(CLOSED_RELATIONSHIPS, 0) + forgotten
    return forgotten
