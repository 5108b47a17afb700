"""One function per operation that changes the program: import, open, advance (one or many).

Each is one transaction: load, decide (lifecycle and rules), write the phase
change with its audit entry and outbox rows, commit. An error anywhere rolls
everything back, so nothing is ever half-written. Recording what happened
(meetings, trainings, survey answers) is in :mod:`engine.recording`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, Engine, Row, insert, select, update

from engine.clock import Clock
from engine.domain.cadence import Standing, next_due
from engine.domain.changes import Cause, Change, Mover, creation_entry, effects_of_entering, phase_change
from engine.domain.lifecycle import Lifecycle
from engine.domain.participants import Participant
from engine.domain.programs import refusal
from engine.domain.relationships import AuditEntry, Relationship
from engine.errors import NotFoundError, ParticipantsError, RefusedError
from engine.policy.model import Policy
from engine.services.facts import NO_MEETINGS, load_facts
from engine.store import repository as repo
from engine.store.database import UnitOfWork
from engine.store.repository import RelationshipRow
from engine.store.tables import participants, relationships


@dataclass(frozen=True)
class ImportSummary:
    """What a participants import did."""

    created: int
    updated: int
    unchanged: int
    relationships_opened: list[int]


def import_participants(
    store: Engine, policy: Policy, clock: Clock, people: Sequence[Participant], *, actor: str
) -> ImportSummary:
    """Add or update participants (matched by external id, else email); open a relationship per new mentee."""
    now = clock.now()
    with UnitOfWork(store) as uow:
        existing = {_key(row): row for row in uow.conn.execute(select(participants)).mappings()}
        _refuse_taken_emails(existing, people)
        created, updated, unchanged, new_mentees = 0, 0, 0, []
        for person in people:
            values = person.model_dump(exclude={"key"})
            row = existing.get(person.key)
            if row is None:
                new_id = _inserted_id(
                    uow.conn.execute(insert(participants).values(**values, created_at=now, updated_at=now))
                )
                created += 1
                if person.role == "mentee":
                    new_mentees.append((new_id, person))
            elif any(_comparable(row[k]) != _comparable(v) for k, v in values.items()):
                uow.conn.execute(
                    update(participants)
                    .where(participants.c.id == row["id"])
                    .values(**values, updated_at=now)
                )
                updated += 1
            else:
                unchanged += 1
        opened = [_open_relationship(uow, policy, mentee_id, p, actor, now) for mentee_id, p in new_mentees]
        repo.record_policy_version(uow.conn, policy, now)
        uow.commit()
    return ImportSummary(created, updated, unchanged, opened)


def _inserted_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _refuse_taken_emails(existing: dict[str, Any], people: Sequence[Participant]) -> None:
    """A new participant whose email another participant already has would break the import midway."""
    owners = {row["email"]: key for key, row in existing.items()}
    clashes = [
        f"participant {p.key}: email {p.email} already belongs to participant {owners[p.email]}"
        for p in people
        if p.key not in existing and owners.get(p.email, p.key) != p.key
    ]
    if clashes:
        raise ParticipantsError("two participants cannot share an email; nothing was imported", clashes)


def _key(row: Any) -> str:
    return str(row["external_id"] or row["email"])


def _comparable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple | list) else value


def _open_relationship(
    uow: UnitOfWork, policy: Policy, mentee_id: int, person: Participant, actor: str, now: datetime
) -> int:
    initial = policy.initial_phase
    rel_id = _inserted_id(
        uow.conn.execute(
            insert(relationships).values(
                mentee_id=mentee_id,
                mentor_id=None,
                policy_name=policy.policy,
                phase=initial,
                phase_entered_at=now,
                due_at=next_due(policy, Standing(initial, now)),
                version=1,
                audit_seq=0,
                audit_head="",
                created_at=now,
            )
        )
    )
    cause = Cause(actor, "create", None, {"mentee_id": mentee_id, "mentee": person.key})
    entry = creation_entry(rel_id, cause, policy, now)
    uow.conn.execute(
        update(relationships)
        .where(relationships.c.id == rel_id)
        .values(audit_seq=1, audit_head=entry["hash"])
    )
    repo.append(uow.conn, [entry], effects_of_entering(rel_id, 1, initial, policy, now))
    return rel_id


def open_relationships(
    store: Engine, policy: Policy, clock: Clock, mentee_ids: Sequence[int], *, actor: str
) -> list[int]:
    """Open a relationship per mentee in one transaction, writing what an import writes for each."""
    now = clock.now()
    with UnitOfWork(store) as uow:
        found = repo.participants_by_id(uow.conn, mentee_ids)
        missing = [m for m in mentee_ids if m not in found or found[m].role != "mentee"]
        if missing:
            raise NotFoundError(f"no mentee with id {', '.join(map(str, missing[:10]))}")
        mentees = [(m, _key(found[m]._mapping)) for m in mentee_ids]
        opened = _open_relationships(uow, policy, mentees, actor, now)
        repo.record_policy_version(uow.conn, policy, now)
        uow.commit()
    return opened


def _open_relationships(
    uow: UnitOfWork, policy: Policy, mentees: Sequence[tuple[int, str]], actor: str, now: datetime
) -> list[int]:
    """In bulk, the rows :func:`_open_relationship` writes for each (mentee id, mentee key)."""
    initial = policy.initial_phase
    due = next_due(policy, Standing(initial, now))
    rel_ids = repo.insert_relationships(
        uow.conn,
        [
            {"mentee_id": mentee_id, "mentor_id": None, "policy_name": policy.policy, "phase": initial,
             "phase_entered_at": now, "due_at": due, "version": 1, "audit_seq": 0, "audit_head": "",
             "created_at": now}
            for mentee_id, _ in mentees
        ],
    )  # fmt: skip
    causes = [
        Cause(actor, "create", None, {"mentee_id": mentee_id, "mentee": key}) for mentee_id, key in mentees
    ]
    mover = Mover(policy, now)
    entries = [mover.creation(i, cause) for i, cause in zip(rel_ids, causes, strict=True)]
    repo.set_chain_heads(uow.conn, [(e["relationship_id"], e["seq"], e["hash"]) for e in entries])
    effects = [row for rel_id in rel_ids for row in mover.effects(rel_id, 1, initial)]
    repo.append(uow.conn, entries, effects)
    return rel_ids


@dataclass(frozen=True)
class AdvanceRequest:
    """An operator's command to fire a trigger on one relationship."""

    relationship_id: int
    trigger: str
    actor: str
    reason: str | None = None
    mentor: str | None = None
    data: dict[str, Any] | None = None


def advance(store: Engine, lifecycle: Lifecycle, clock: Clock, request: AdvanceRequest) -> AuditEntry:
    """Fire one trigger on one relationship, or raise RefusedError saying why; returns the new entry."""
    now = clock.now()
    with UnitOfWork(store) as uow:
        rel = repo.relationship(uow.conn, request.relationship_id, lock=True)
        if rel is None:
            raise NotFoundError(f"no relationship {request.relationship_id}")
        _check_program(rel, lifecycle.policy)
        mentor_id, data = _mentor_for(uow, lifecycle.policy, rel, request.mentor)
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
    uow: UnitOfWork, policy: Policy, rel: Relationship, ref: str | None
) -> tuple[int | None, dict[str, Any]]:
    if ref is None:
        return rel.mentor_id, {}
    # Locked so that two pairs matched at once cannot both take a mentor's last place.
    mentor = repo.participant_by_ref(uow.conn, ref, lock=True)
    if mentor is None:
        raise NotFoundError(_no_mentor(ref))
    mentor_id = int(mentor.id)
    refusal = _mentor_refusal(
        rel, mentor, ref, lambda: repo.active_mentee_count(uow.conn, mentor_id, policy.terminal_phases)
    )
    if refusal is not None:
        raise RefusedError(refusal)
    return mentor_id, _mentor_data(mentor)


def _no_mentor(ref: str) -> str:
    return f"--mentor: no participant {ref!r} (give an id, external id or email)"


def _mentor_refusal(
    rel: Relationship | RelationshipRow, mentor: Row[Any], ref: str, taken: Callable[[], int]
) -> str | None:
    """Why ``mentor`` may not be attached to ``rel``, or ``None``; ``taken`` counts their open pairs."""
    if mentor.role != "mentor":
        return f"--mentor: {mentor.name} ({ref}) is a {mentor.role}, not a mentor"
    if rel.mentor_id is not None and rel.mentor_id != mentor.id:
        return f"relationship {rel.id} already has mentor {rel.mentor_id}"
    if rel.mentor_id is None:
        count = taken()
        if count >= mentor.capacity:
            return f"--mentor: {mentor.name} is at capacity ({count} of {mentor.capacity} mentees)"
    return None


def _mentor_data(mentor: Row[Any]) -> dict[str, Any]:
    return {"mentor_id": int(mentor.id), "mentor": mentor.external_id or mentor.email}


def _last_meeting(uow: UnitOfWork, rel_id: int) -> datetime | None:
    return repo.meeting_stats(uow.conn, [rel_id]).get(rel_id, NO_MEETINGS)[2]


def _write(uow: UnitOfWork, policy: Policy, changes: list[Change], now: datetime) -> None:
    repo.apply_moves(
        uow.conn,
        [c.update for c in changes],
        [c.entry for c in changes],
        [row for c in changes for row in c.effects],
    )
    repo.record_policy_version(uow.conn, policy, now)


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
    :func:`advance` checks ``--mentor``: a mentor, not another pair's, under capacity.
    """
    now = clock.now()
    result = BatchResult()
    with UnitOfWork(store) as uow:
        rels = list(repo.relationship_rows(uow.conn, list(ids)).values())
        assignment = _Assignment.load(uow, lifecycle.policy, mentors or {})
        mentor_of, reads = assignment.mentor_of(rels), lifecycle.reads(trigger)
        facts = load_facts(uow, lifecycle.policy, rels, now, reason, mentor_of, reads=reads)
        fire, mover = lifecycle.firing(trigger), Mover(lifecycle.policy, now)
        changes = []
        for rel in rels:
            try:
                _check_program(rel, lifecycle.policy)
                assignment.check(rel)
                move = fire(rel.phase, facts[rel.id])
            except (RefusedError, NotFoundError) as exc:
                result.refused[rel.id] = exc.message
                continue
            mentor_id, data = assignment.take(rel)
            cause = Cause(actor, trigger, reason, {**data, "requires": [c.name for c in move.edge.requires]})
            # a move starts a stay at now: no earlier meeting counts towards its silence
            changes.append(mover.change(rel, move.dest, cause, mentor_id=mentor_id))
            result.moved.append(rel.id)
        _write(uow, lifecycle.policy, changes, now)
        uow.commit()
    result.refused.update((i, "no such relationship") for i in set(ids) - {r.id for r in rels})
    return result


def _check_program(rel: Relationship | RelationshipRow, policy: Policy) -> None:
    """Raise as :func:`advance` does when ``rel`` is not a relationship ``policy`` may move."""
    refused = refusal(rel.id, rel.policy_name, rel.phase, policy)
    if refused is not None:
        raise RefusedError(refused)


@dataclass
class _Assignment:
    """The mentors a batch attaches, and how many open pairs each has, for the capacity check."""

    wanted: Mapping[int, int]
    mentors: dict[int, Row[Any]]
    taken: dict[int, int]

    @classmethod
    def load(cls, uow: UnitOfWork, policy: Policy, wanted: Mapping[int, int]) -> _Assignment:
        if not wanted:
            return cls(wanted, {}, {})
        # Locked, as advance locks its mentor, so that two batches cannot both fill a mentor's last place.
        mentors = repo.participants_by_id(uow.conn, wanted.values(), lock=True)
        return cls(wanted, mentors, repo.active_mentee_counts(uow.conn, mentors, policy.terminal_phases))

    def mentor_of(self, rels: Sequence[RelationshipRow]) -> dict[int, int | None]:
        return {r.id: self.wanted.get(r.id, r.mentor_id) for r in rels}

    def check(self, rel: RelationshipRow) -> None:
        """Raise as :func:`advance` does when the wanted mentor may not be attached to ``rel``."""
        if rel.id not in self.wanted:
            return
        mentor_id = self.wanted[rel.id]
        mentor, ref = self.mentors.get(mentor_id), str(mentor_id)
        if mentor is None:
            raise NotFoundError(_no_mentor(ref))
        refusal = _mentor_refusal(rel, mentor, ref, lambda: self.taken.get(mentor_id, 0))
        if refusal is not None:
            raise RefusedError(refusal)

    def take(self, rel: RelationshipRow) -> tuple[int | None, dict[str, Any]]:
        """Attach the wanted mentor to ``rel`` (now moved): its id and what the audit entry says."""
        if rel.id not in self.wanted:
            return None, {}
        mentor_id = self.wanted[rel.id]
        if rel.mentor_id is None:
            self.taken[mentor_id] = self.taken.get(mentor_id, 0) + 1
        return mentor_id, _mentor_data(self.mentors[mentor_id])
