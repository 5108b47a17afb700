"""A mentee's journey: a new relationship after an early close or for the next cohort, after the last one.

``relationships open PERSON`` opens one in the policy's initial phase for a
mentee who has none open, with the first entry of its chain naming the
relationship before it (``previous_id`` on the row and in the entry's data), so
``history`` can show where the journey came from and matching sees the mentee
again. The demo's rematches take this path too (:func:`open_again_many`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.domain.erasure import reference
from engine.errors import NotFoundError, RefusedError
from engine.policy.model import Policy
from engine.services.opening import open_relationships_in
from engine.store import audit
from engine.store import participants as people_store
from engine.store.database import UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy import Engine, Row

    from engine.clock import Clock


@dataclass(frozen=True)
class Opened:
    """A relationship opened again for a mentee: its id, the mentee's key, the relationship before it."""

    relationship_id: int
    mentee: str
    previous_id: int | None
    phase: str


def open_again(
    store: Engine, policy: Policy, clock: Clock, ref: str, *, actor: str, reason: str | None = None
) -> Opened:
    """Open a new relationship for the mentee ``ref`` (id, external id or email); refused if one is open."""
    with UnitOfWork(store) as uow:
        row = people_store.participant_by_ref(uow.conn, ref, lock=True)
        if row is None:
            raise NotFoundError(f"no participant {ref!r} (give an id, external id or email)")
        opened = _open(uow, policy, clock, [int(row.id)], actor, reason)[0]
        uow.commit()
    return opened


def open_again_many(
    store: Engine,
    policy: Policy,
    clock: Clock,
    mentee_ids: Sequence[int],
    *,
    actor: str,
    reason: str | None = None,
) -> list[int]:
    """:func:`open_again` for many mentees (by participant id) in one transaction, all or nothing."""
    with UnitOfWork(store) as uow:
        opened = _open(uow, policy, clock, mentee_ids, actor, reason)
        uow.commit()
    return [o.relationship_id for o in opened]


def _open(
    uow: UnitOfWork, policy: Policy, clock: Clock, mentee_ids: Sequence[int], actor: str, reason: str | None
) -> list[Opened]:
    now = clock.now()
    found = people_store.participants_by_id(uow.conn, mentee_ids, lock=True)
    missing = [m for m in mentee_ids if m not in found]
    if missing:
        raise NotFoundError(f"no participant with id {', '.join(map(str, missing[:10]))}")
    still_open = people_store.open_relationships_of_mentees(
        uow.conn, mentee_ids, policy.policy, policy.terminal_phases
    )
    problems = [_refusal(found[m], still_open.get(m)) for m in mentee_ids]
    if any(problems):
        raise RefusedError("no relationship was opened", [p for p in problems if p])
    keys = [(m, reference(found[m].external_id, m)) for m in mentee_ids]
    previous = people_store.latest_relationships(uow.conn, mentee_ids)
    ids = open_relationships_in(uow, policy, keys, actor, now, previous=previous, reason=reason)
    audit.record_policy_version(uow.conn, policy, now)
    return [
        Opened(rel_id, key, previous.get(m), policy.initial_phase)
        for rel_id, (m, key) in zip(ids, keys, strict=True)
    ]


def _refusal(person: Row[Any], open_id: int | None) -> str | None:
    name, key = person.name, person.external_id or person.email
    if person.role != "mentee":
        return f"{name} ({key}) is a {person.role}, not a mentee"
    if person.status == "left":
        return f"{name} ({key}) has left the organisation"
    if open_id is not None:
        return f"{name} ({key}) already has relationship {open_id} open (close it first)"
    return None
