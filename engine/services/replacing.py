"""Correcting a match: a pair gets another mentor, in one transaction and one audit entry.

``match replace`` may act where the policy allows it (``matching.replace_in``,
by default ``matched`` and ``kickoff``). The new mentor is held to the same hard
constraints as a manual match (:mod:`engine.services.pairing`), overrides
included. The relationship row takes the new mentor, which frees the old
mentor's place (capacity counts the open relationships a mentor is attached
to). The entry (trigger ``replace_mentor``, from and to the current phase)
records both mentors, the reason and any override; the ``on_enter`` messages of
the current phase addressed to the mentor are written again for the new one,
keyed by this entry, and those not yet sent to the old mentor are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.domain.changes import Cause, Mover
from engine.domain.erasure import reference
from engine.domain.programs import refusal
from engine.domain.relationships import AuditEntry, Relationship
from engine.errors import InputError, NotFoundError, RefusedError
from engine.errors import field as named
from engine.matching.manual import overrides
from engine.policy.matching import replace_phases
from engine.policy.model import Policy
from engine.policy.vocabulary import REPLACE_MENTOR
from engine.services.pairing import PairCheck, mentor_data
from engine.store import audit
from engine.store import outbox as outbox_store
from engine.store import participants as people_store
from engine.store import relationships as rel_store
from engine.store.database import UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from engine.clock import Clock

MENTOR = "mentor"


@dataclass(frozen=True)
class ReplaceRequest:
    """A coordinator's correction: relationship, the new mentor (id, external id or email), and why."""

    relationship_id: int
    mentor: str
    reason: str
    actor: str
    overrides: tuple[str, ...] = ()


def replace_mentor(store: Engine, policy: Policy, clock: Clock, request: ReplaceRequest) -> AuditEntry:
    """Give the relationship another mentor, or raise (RefusedError, NotFoundError, InputError) saying why."""
    if not request.reason.strip():
        raise InputError(f"{named('reason')}: say why the mentor is replaced")
    allowed = overrides(request.overrides, request.reason)
    now = clock.now()
    with UnitOfWork(store) as uow:
        rel = rel_store.relationship(uow.conn, request.relationship_id, lock=True)
        if rel is None:
            raise NotFoundError(
                f"no relationship {request.relationship_id} (see `mentorflow relationships list`)"
            )
        _check_replaceable(rel, policy)
        assert rel.mentor_id is not None
        ref = request.mentor
        mentor = people_store.participant_by_ref(uow.conn, ref, lock=True)
        if mentor is None:
            raise NotFoundError(
                f"{named('mentor')}: no participant {ref!r} (give an id, external id or email)"
            )
        if int(mentor.id) == rel.mentor_id:
            raise RefusedError(
                f"{named('mentor')}: {mentor.name} ({ref}) is already the mentor of relationship {rel.id}"
            )
        taken = rel_store.active_mentee_count(uow.conn, int(mentor.id), policy.terminal_phases)
        pairs = PairCheck.load(uow.conn, policy, now, [rel.mentee_id], [int(mentor.id)])
        broken = pairs.check(rel.mentee_id, mentor, ref, taken, allowed)
        old = people_store.participants_by_id(uow.conn, [rel.mentor_id])[rel.mentor_id]
        data: dict[str, Any] = {
            "old_mentor_id": int(old.id),
            "old_mentor": reference(old.external_id, int(old.id)),
            **mentor_data(mentor),
            **allowed.data(broken),
        }
        mover = Mover(policy, now)
        recorded = mover.facts(rel, [Cause(request.actor, REPLACE_MENTOR, request.reason.strip(), data)])
        entry = recorded.entries[0]
        effects = [
            row
            for row in mover.effects(rel.id, entry["seq"], rel.phase)
            if row["params"].get("recipient") == MENTOR
        ]
        note = f"not sent: the mentor was replaced (relationship {rel.id}, entry {entry['seq']})"
        outbox_store.skip_unsent(uow.conn, rel.id, {row["action"] for row in effects}, MENTOR, note)
        update = recorded.update._replace(mentor_id=int(mentor.id))
        rel_store.apply_moves(uow.conn, [update], [entry], effects)
        audit.record_policy_version(uow.conn, policy, now)
        uow.commit()
    return AuditEntry.model_construct(id=0, **entry)


def _check_replaceable(rel: Relationship, policy: Policy) -> None:
    """Refuse a relationship of another program, a closed one, one without a mentor, or a phase the
    policy does not allow corrections in."""
    refused = refusal(rel.id, rel.policy_name, rel.phase, policy)
    if refused is not None:
        raise RefusedError(refused)
    if rel.phase in policy.terminal_phases:
        raise RefusedError(
            f"relationship {rel.id} is {rel.phase!r}, a terminal phase: its mentor stays as it was"
        )
    allowed = replace_phases(policy)
    if rel.phase not in allowed:
        where = ", ".join(map(repr, allowed)) or "no phase"
        raise RefusedError(
            f"relationship {rel.id} is in {rel.phase!r}: policy {policy.policy!r} allows replacing a mentor "
            f"only in {where} (its matching.replace_in)"
        )
    if rel.mentor_id is None:
        raise RefusedError(
            f"relationship {rel.id} has no mentor yet (match it first: `mentorflow advance {rel.id} match`)"
        )
