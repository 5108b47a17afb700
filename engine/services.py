"""One function per operation that changes the program: import, advance, record.

Each is one transaction: load, decide (lifecycle and rules), write the phase
change with its audit entry and outbox rows, commit. An error anywhere rolls
everything back, so nothing is ever half-written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, Engine, insert, select, update

from engine.changes import Cause, Change, creation_entry, effects_of_entering, phase_change
from engine.clock import Clock
from engine.domain import MEETING_KINDS, AuditEntry, Relationship
from engine.errors import InputError, NotFoundError, RefusedError
from engine.lifecycle import Lifecycle
from engine.participants import Participant
from engine.policy import Policy
from engine.rules import Standing, next_due
from engine.store import repository as repo
from engine.store.database import UnitOfWork
from engine.store.tables import meetings, participants, relationships, survey_responses
from engine.vocabulary import Facts


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
        repo.record_policy_version(
            uow.conn, policy.policy, str(policy.version), policy.digest, policy.normalised(), now
        )
        uow.commit()
    return ImportSummary(created, updated, unchanged, opened)


def _inserted_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


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


@dataclass(frozen=True)
class AdvanceRequest:
    """An operator's command to fire a trigger on one relationship."""

    relationship_id: int
    trigger: str
    actor: str
    reason: str | None = None
    mentor: str | None = None


def advance(store: Engine, lifecycle: Lifecycle, clock: Clock, request: AdvanceRequest) -> AuditEntry:
    """Fire one trigger on one relationship, or raise RefusedError saying why; returns the new entry."""
    now = clock.now()
    with UnitOfWork(store) as uow:
        rel = repo.relationship(uow.conn, request.relationship_id, lock=True)
        if rel is None:
            raise NotFoundError(f"no relationship {request.relationship_id}")
        mentor_id, data = _mentor_for(uow, lifecycle.policy, rel, request.mentor)
        facts = _facts(uow, [rel], now, request.reason, {rel.id: mentor_id})[rel.id]
        move = lifecycle.fire(rel.phase, request.trigger, facts)
        cause = Cause(
            request.actor,
            request.trigger,
            request.reason,
            {**data, "requires": [c.name for c in move.edge.requires]},
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
    mentor = repo.participant_by_ref(uow.conn, ref)
    if mentor is None:
        raise NotFoundError(f"--mentor: no participant {ref!r} (give an id, external id or email)")
    if mentor.role != "mentor":
        raise RefusedError(f"--mentor: {mentor.name} ({ref}) is a {mentor.role}, not a mentor")
    if rel.mentor_id is not None and rel.mentor_id != mentor.id:
        raise RefusedError(f"relationship {rel.id} already has mentor {rel.mentor_id}")
    if rel.mentor_id is None:
        terminal = [name for name, phase in policy.phases.items() if phase.terminal]
        taken = repo.active_mentee_count(uow.conn, mentor.id, terminal)
        if taken >= mentor.capacity:
            raise RefusedError(
                f"--mentor: {mentor.name} is at capacity ({taken} of {mentor.capacity} mentees)"
            )
    return int(mentor.id), {"mentor_id": int(mentor.id), "mentor": mentor.external_id or mentor.email}


def _facts(
    uow: UnitOfWork,
    rels: Sequence[Relationship],
    now: datetime,
    reason: str | None,
    mentors: dict[int, int | None] | None = None,
) -> dict[int, Facts]:
    """What the conditions need to know, loaded in bulk for a batch of relationships."""
    ids = [r.id for r in rels]
    mentor_of = {r.id: (mentors or {}).get(r.id, r.mentor_id) for r in rels}
    trained = repo.trained_mentors(uow.conn, [m for m in mentor_of.values() if m is not None])
    meetings_of = repo.meeting_stats(uow.conn, ids)
    answered = repo.survey_respondents(uow.conn, rels)
    facts = {}
    for rel in rels:
        held, kickoff, _ = meetings_of.get(rel.id, (0, False, None))
        mentor = mentor_of[rel.id]
        facts[rel.id] = Facts(
            now=now,
            phase_entered_at=rel.phase_entered_at,
            mentor_id=mentor,
            mentor_trained=mentor in trained,
            kickoff_held=kickoff,
            meetings_held=held,
            surveys_answered=answered.get(rel.id, frozenset()),
            reason=reason,
        )
    return facts


def _last_meeting(uow: UnitOfWork, rel_id: int) -> datetime | None:
    return repo.meeting_stats(uow.conn, [rel_id]).get(rel_id, (0, False, None))[2]


def _write(uow: UnitOfWork, policy: Policy, changes: list[Change], now: datetime) -> None:
    repo.apply_moves(
        uow.conn,
        [c.update for c in changes],
        [c.entry for c in changes],
        [row for c in changes for row in c.effects],
    )
    repo.record_policy_version(
        uow.conn, policy.policy, str(policy.version), policy.digest, policy.normalised(), now
    )


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
) -> BatchResult:
    """Fire ``trigger`` on many relationships in one transaction; those it may not move are skipped."""
    now = clock.now()
    result = BatchResult()
    with UnitOfWork(store) as uow:
        rels = list(repo.relationships_by_id(uow.conn, list(ids)).values())
        facts = _facts(uow, rels, now, reason)
        last_meeting = {rid: s[2] for rid, s in repo.meeting_stats(uow.conn, [r.id for r in rels]).items()}
        changes = []
        for rel in rels:
            try:
                move = lifecycle.fire(rel.phase, trigger, facts[rel.id])
            except RefusedError as exc:
                result.refused[rel.id] = exc.message
                continue
            cause = Cause(actor, trigger, reason, {"requires": [c.name for c in move.edge.requires]})
            changes.append(
                phase_change(
                    rel, move.dest, cause, lifecycle.policy, now, last_meeting_at=last_meeting.get(rel.id)
                )
            )
            result.moved.append(rel.id)
        _write(uow, lifecycle.policy, changes, now)
        uow.commit()
    result.refused.update((i, "no such relationship") for i in set(ids) - {r.id for r in rels})
    return result


def record_meeting(
    store: Engine,
    policy: Policy,
    clock: Clock,
    rel_id: int,
    kind: str,
    held_on: datetime | None,
    *,
    actor: str,
    notes: str | None = None,
) -> None:
    """Record a meeting as held; the relationship becomes due so the tick reconsiders it."""
    if kind not in MEETING_KINDS:
        raise InputError(
            f"--kind: {kind!r} is not a meeting kind (expected one of: {', '.join(MEETING_KINDS)})"
        )
    now = clock.now()
    held = held_on or now
    if held > now:
        raise InputError(f"--on: {held:%Y-%m-%d} is in the future; record a meeting once it was held")
    with UnitOfWork(store) as uow:
        rel = _existing(uow, rel_id)
        phase = policy.phases.get(rel.phase)
        if phase is not None and phase.terminal:
            raise RefusedError(f"relationship {rel_id} is {rel.phase}; no meetings can be recorded")
        if rel.mentor_id is None:
            raise RefusedError(f"relationship {rel_id} has no mentor yet; record meetings once it is matched")
        uow.conn.execute(
            meetings.insert().values(
                relationship_id=rel_id,
                kind=kind,
                held_on=held,
                recorded_at=now,
                recorded_by=actor,
                notes=notes,
            )
        )
        _make_due(uow, [rel_id], now)
        uow.commit()


def record_training(store: Engine, clock: Clock, mentor_ref: str) -> list[int]:
    """Record that a mentor finished the mentor training; their pairs become due."""
    now = clock.now()
    with UnitOfWork(store) as uow:
        mentor = repo.participant_by_ref(uow.conn, mentor_ref)
        if mentor is None or mentor.role != "mentor":
            raise NotFoundError(f"no mentor {mentor_ref!r} (give an id, external id or email)")
        uow.conn.execute(
            update(participants).where(participants.c.id == mentor.id).values(trained=True, updated_at=now)
        )
        rel_ids = list(
            uow.conn.execute(
                select(relationships.c.id).where(relationships.c.mentor_id == mentor.id)
            ).scalars()
        )
        _make_due(uow, rel_ids, now)
        uow.commit()
    return rel_ids


def record_survey(
    store: Engine, clock: Clock, rel_id: int, survey: str, respondent: str, answers: dict[str, Any]
) -> None:
    """Record a survey response of the mentor or the mentee."""
    if respondent not in ("mentor", "mentee"):
        raise InputError(f"--by: {respondent!r} is not a respondent (expected mentor or mentee)")
    now = clock.now()
    with UnitOfWork(store) as uow:
        _existing(uow, rel_id)
        uow.conn.execute(
            survey_responses.insert().values(
                relationship_id=rel_id, survey=survey, respondent=respondent, answered_at=now, answers=answers
            )
        )
        _make_due(uow, [rel_id], now)
        uow.commit()


def _existing(uow: UnitOfWork, rel_id: int) -> Relationship:
    rel = repo.relationship(uow.conn, rel_id)
    if rel is None:
        raise NotFoundError(f"no relationship {rel_id}")
    return rel


def _make_due(uow: UnitOfWork, rel_ids: list[int], now: datetime) -> None:
    for part in repo.chunks(rel_ids):
        uow.conn.execute(
            update(relationships)
            .where(relationships.c.id.in_(part), relationships.c.due_at.is_not(None))
            .values(due_at=now)
        )
