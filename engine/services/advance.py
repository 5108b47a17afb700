"""Moving relationships on: fire a trigger on one relationship, or on many at once.

Each is one transaction: load, decide (lifecycle and rules), write the phase
change with its audit entry and outbox rows, commit. An error anywhere rolls
everything back, so nothing is ever half-written. Importing participants and
opening relationships is in :mod:`engine.services.participants`; recording what
happened (meetings, trainings, survey answers) in :mod:`engine.services.recording`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.domain.change_rows import Change
from engine.domain.changes import Cause, Mover, phase_change
from engine.domain.lifecycle import Lifecycle
from engine.domain.programs import refusal
from engine.domain.relationships import AuditEntry, Relationship
from engine.errors import InputError, NotFoundError, RefusedError
from engine.errors import field as named
from engine.policy.model import Policy
from engine.services.collector import collector_paused
from engine.services.facts import NO_MEETINGS, load_facts
from engine.store import audit, records
from engine.store import participants as people_store
from engine.store import relationships as rel_store
from engine.store.database import UnitOfWork
from engine.store.relationships import RelationshipRow

if TYPE_CHECKING:
    from sqlalchemy import Engine, Row

    from engine.clock import Clock
    from engine.matching.manual import Overrides
    from engine.services.pairing import PairCheck


@dataclass(frozen=True)
class AdvanceRequest:
    """An operator's command to fire a trigger on one relationship."""

    relationship_id: int
    trigger: str
    actor: str
    reason: str | None = None
    mentor: str | None = None
    data: dict[str, Any] | None = None
    overrides: tuple[str, ...] = ()
    """Hard constraints of matching the coordinator overrules for ``mentor`` (with ``reason``)."""


def advance(store: Engine, lifecycle: Lifecycle, clock: Clock, request: AdvanceRequest) -> AuditEntry:
    """Fire one trigger on one relationship, or raise RefusedError saying why; returns the new entry."""
    now = clock.now()
    with UnitOfWork(store) as uow:
        rel = rel_store.relationship(uow.conn, request.relationship_id, lock=True)
        if rel is None:
            raise NotFoundError(f"no relationship {request.relationship_id}")
        _check_program(rel, lifecycle.policy)
        mentor_id, data = _mentor_for(uow, lifecycle.policy, rel, request, now)
        facts = load_facts(uow, lifecycle.policy, [rel], now, request.reason, {rel.id: mentor_id})[rel.id]
        move = lifecycle.fire(rel.phase, request.trigger, facts)
        cause = Cause(
            request.actor,
            request.trigger,
            request.reason,
            {**data, **(request.data or {}), "requires": [c.name for c in move.edge.requires]},
        )
        change = phase_change(
            rel,
            move.dest,
            cause,
            lifecycle.policy,
            now,
            mentor_id=mentor_id,
            last_meeting_at=_last_meeting(uow, rel.id),
        )
        _write(uow, lifecycle.policy, [change], now)
        uow.commit()
    return AuditEntry.model_construct(id=0, **change.entry)


def _mentor_for(
    uow: UnitOfWork, policy: Policy, rel: Relationship, request: AdvanceRequest, now: datetime
) -> tuple[int | None, dict[str, Any]]:
    """The mentor ``request`` attaches to ``rel`` and what the entry says of them, checked against every
    hard constraint of matching (those ``request.overrides`` names excepted)."""
    ref = request.mentor
    if ref is None:
        if request.overrides:
            raise InputError(f"{named('override')} applies to a mentor chosen by hand ({named('mentor')})")
        return rel.mentor_id, {}
    from engine.matching.manual import overrides  # a mentor chosen by hand: matching's checks (numpy)
    from engine.services.pairing import PairCheck, mentor_data

    allowed = overrides(request.overrides, request.reason)
    # Locked so that two pairs matched at once cannot both take a mentor's last place.
    mentor = people_store.participant_by_ref(uow.conn, ref, lock=True)
    if mentor is None:
        raise NotFoundError(_no_mentor(ref))
    mentor_id = int(mentor.id)
    if rel.mentor_id == mentor_id:
        return mentor_id, mentor_data(mentor)  # nothing new is decided
    if rel.mentor_id is not None:
        raise RefusedError(_has_mentor(rel.id, rel.mentor_id))
    taken = rel_store.active_mentee_count(uow.conn, mentor_id, policy.terminal_phases)
    pairs = PairCheck.load(uow.conn, policy, now, [rel.mentee_id], [mentor_id])
    broken = pairs.check(rel.mentee_id, mentor, ref, taken, allowed)
    return mentor_id, {**mentor_data(mentor), **allowed.data(broken)}


def _no_mentor(ref: str) -> str:
    return f"{named('mentor')}: no participant {ref!r} (give an id, external id or email)"


def _has_mentor(rel_id: int, mentor_id: int) -> str:
    return (
        f"relationship {rel_id} already has mentor {mentor_id} "
        "(to correct a match: `mentorflow match replace`)"
    )


def _last_meeting(uow: UnitOfWork, rel_id: int) -> datetime | None:
    return records.meeting_stats(uow.conn, [rel_id]).get(rel_id, NO_MEETINGS)[2]


def _write(uow: UnitOfWork, policy: Policy, changes: list[Change], now: datetime) -> None:
    rel_store.apply_moves(
        uow.conn,
        [c.update for c in changes],
        [c.entry for c in changes],
        [row for c in changes for row in c.effects],
    )
    audit.record_policy_version(uow.conn, policy, now)


@dataclass
class BatchResult:
    """What a batch advance did: the relationships moved, and those refused with the reason."""

    moved: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)


def advance_many(
    store: Engine,
    lifecycle: Lifecycle,
    clock: Clock,
    ids: Sequence[int],
    trigger: str,
    *,
    actor: str,
    reason: str | None = None,
    mentors: Mapping[int, int] | None = None,
) -> BatchResult:
    """Fire ``trigger`` on many relationships in one transaction; those it may not move are skipped.

    A relationship of another policy, or in a phase the policy no longer has, is refused.
    ``mentors`` attaches a mentor (participant id) per relationship id, checked as
    :func:`advance` checks ``mentor``: a mentor, not another pair's, under capacity.
    """
    now = clock.now()
    with collector_paused():  # the batch's rows are freed on return, before the collector runs again
        return _advance_batch(store, lifecycle, now, ids, trigger, actor, reason, mentors or {})


def _advance_batch(
    store: Engine, lifecycle: Lifecycle, now: datetime, ids: Sequence[int], trigger: str, actor: str,
    reason: str | None, mentors: Mapping[int, int],
) -> BatchResult:  # fmt: skip
    result = BatchResult()
    policy = lifecycle.policy
    with UnitOfWork(store) as uow:
        found = rel_store.relationship_rows(uow.conn, list(ids))
        rels = list(found.values())
        assignment = _Assignment.load(uow, policy, mentors, now, found)
        reads = lifecycle.reads(trigger)
        facts = load_facts(uow, policy, rels, now, reason, assignment.wanted, reads=reads)
        fire, movable = lifecycle.firing(trigger), _Movable(policy)
        moves: list[tuple[RelationshipRow, str, Cause, int | None]] = []
        causes: dict[tuple[int | None, int], Cause] = {}  # by mentor and move (the lifecycle keeps it)
        # Without mentors to attach, what moves a row (its destination and cause) depends only on its
        # policy, its phase and its facts object (the facts kept alive meanwhile): decided once for each.
        decided: dict[tuple[str, str, int], tuple[str, Cause]] = {}
        alike, moved = not assignment.wanted, result.moved
        for rel in rels:
            if alike:
                known = decided.get((rel.policy_name, rel.phase, id(facts[rel.id])))
                if known is not None:
                    moves.append((rel, known[0], known[1], None))
                    moved.append(rel.id)
                    continue
            try:
                movable(rel)
                if assignment.wanted:
                    assignment.check(rel)
                move = fire(rel.phase, facts[rel.id])
            except (RefusedError, NotFoundError) as exc:
                result.refused[rel.id] = exc.message
                continue
            mentor_id = assignment.take(rel) if assignment.wanted else None
            cause = causes.get((mentor_id, id(move)))
            if cause is None:  # one per mentor and edge: the entries of a batch share their data
                data = {**assignment.data(mentor_id), "requires": [c.name for c in move.edge.requires]}
                cause = causes[(mentor_id, id(move))] = Cause(actor, trigger, reason, data)
            # a move starts a stay at now: no earlier meeting counts towards its silence
            moves.append((rel, move.dest, cause, mentor_id))
            moved.append(rel.id)
            if alike:
                decided[(rel.policy_name, rel.phase, id(facts[rel.id]))] = (move.dest, cause)
        rel_store.write_moves(uow.conn, Mover(policy, now).rows(moves, rel_store.rendering(uow.conn)))
        audit.record_policy_version(uow.conn, policy, now)
        uow.commit()
    if len(found) < len(ids):  # some id unknown (or repeated)
        result.refused.update((i, "no such relationship") for i in set(ids).difference(found))
    return result


class _Movable:
    """:func:`_check_program` of many relationships: a policy name and phase found movable once is
    not looked at again (a refusal names the relationship, so each is worded as it comes)."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._movable: set[tuple[str, str]] = set()

    def __call__(self, rel: RelationshipRow) -> None:
        if (rel.policy_name, rel.phase) not in self._movable:
            _check_program(rel, self.policy)
            self._movable.add((rel.policy_name, rel.phase))


def _check_program(rel: Relationship | RelationshipRow, policy: Policy) -> None:
    """Raise as :func:`advance` does when ``rel`` is not a relationship ``policy`` may move."""
    refused = refusal(rel.id, rel.policy_name, rel.phase, policy)
    if refused is not None:
        raise RefusedError(refused)


@dataclass
class _Assignment:
    """The mentors a batch attaches, how many open pairs each has, and the constraints they are held to."""

    wanted: Mapping[int, int]
    mentors: dict[int, Row[Any]]
    taken: dict[int, int]
    mentees: dict[int, int] = field(default_factory=dict)
    pairs: PairCheck | None = None
    allowed: Overrides | None = None
    """What a batch overrules: nothing."""

    @classmethod
    def load(
        cls, uow: UnitOfWork, policy: Policy, wanted: Mapping[int, int], now: datetime,
        rows: Mapping[int, RelationshipRow],
    ) -> _Assignment:  # fmt: skip
        """The mentors ``wanted`` attaches to these ``rows`` (the batch's, read), and what checks them."""
        from engine.matching.manual import Overrides
        from engine.services.pairing import PairCheck

        if not wanted:
            return cls(wanted, {}, {})
        # Locked, as advance locks its mentor, so that two batches cannot both fill a mentor's last place.
        mentors = people_store.participants_by_id(uow.conn, wanted.values(), lock=True)
        taken = rel_store.active_mentee_counts(uow.conn, mentors, policy.terminal_phases)
        mentees = rel_store.mentees(rows, wanted)
        pairs = PairCheck.load(uow.conn, policy, now, mentees.values(), mentors)
        return cls(wanted, mentors, taken, mentees, pairs, Overrides())

    def check(self, rel: RelationshipRow) -> None:
        """Raise as :func:`advance` does when the wanted mentor may not be attached to ``rel``."""
        if rel.id not in self.wanted:
            return
        mentor_id = self.wanted[rel.id]
        mentor, ref = self.mentors.get(mentor_id), str(mentor_id)
        if mentor is None:
            raise NotFoundError(_no_mentor(ref))
        if rel.mentor_id == mentor_id:
            return
        if rel.mentor_id is not None:
            raise RefusedError(_has_mentor(rel.id, rel.mentor_id))
        assert self.pairs is not None and self.allowed is not None
        taken = self.taken.get(mentor_id, 0)
        self.pairs.check(self.mentees[rel.id], mentor, ref, taken, self.allowed, mentor_id)

    def take(self, rel: RelationshipRow) -> int | None:
        """Attach the wanted mentor to ``rel`` (now moved): its id (``None``: no mentor attached)."""
        if rel.id not in self.wanted:
            return None
        mentor_id = self.wanted[rel.id]
        if rel.mentor_id is None:
            self.taken[mentor_id] = self.taken.get(mentor_id, 0) + 1
        return mentor_id

    def data(self, mentor_id: int | None) -> dict[str, Any]:
        """What the audit entry of a move that attaches ``mentor_id`` says about them."""
        from engine.services.pairing import mentor_data

        return {} if mentor_id is None else mentor_data(self.mentors[mentor_id])
