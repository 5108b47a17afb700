"""Opening relationships: a mentee's pair begun in the policy's initial phase, its chain started.

An import opens one per new mentee, a coordinator's rematch one per mentee back in intake
(:mod:`engine.services.journeys`), a batch of mentees one each (:func:`open_relationships`). Each
relationship's first audit entry (``create``) names its mentee and sets the goals of the mentee's
profile as its goal records (:func:`engine.services.goals.created_goals`); its ``on_enter`` messages go
to the outbox in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.domain.cadence import Standing, next_due
from engine.domain.changes import Cause, Mover
from engine.domain.erasure import reference
from engine.errors import NotFoundError
from engine.policy.model import Policy
from engine.services.goals import created_goals
from engine.store import audit
from engine.store import participants as people_store
from engine.store import relationships as rel_store
from engine.store.database import UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from engine.clock import Clock


def open_relationships(
    store: Engine, policy: Policy, clock: Clock, mentee_ids: Sequence[int], *, actor: str
) -> list[int]:
    """Open a relationship per mentee in one transaction, writing what an import writes for each."""
    now = clock.now()
    with UnitOfWork(store) as uow:
        found = people_store.participants_by_id(uow.conn, mentee_ids)
        missing = [m for m in mentee_ids if m not in found or found[m].role != "mentee"]
        if missing:
            raise NotFoundError(f"no mentee with id {', '.join(map(str, missing[:10]))}")
        mentees = [(m, reference(found[m].external_id, m)) for m in mentee_ids]
        opened = open_relationships_in(uow, policy, mentees, actor, now)
        audit.record_policy_version(uow.conn, policy, now)
        uow.commit()
    return opened


def open_relationships_in(
    uow: UnitOfWork,
    policy: Policy,
    mentees: Sequence[tuple[int, str]],
    actor: str,
    now: datetime,
    *,
    previous: Mapping[int, int] | None = None,
    reason: str | None = None,
    goals: Mapping[int, Sequence[str]] | None = None,
) -> list[int]:
    """A relationship per (mentee id, mentee key) in the initial phase, its chain begun with the goals of
    the mentee's profile (``goals``: those of each mentee, where the caller has them), its outbox rows,
    each linked to its ``previous`` one; in the caller's transaction."""
    initial, before = policy.initial_phase, previous or {}
    due = next_due(policy, Standing(initial, now))
    rel_ids = rel_store.insert_relationships(
        uow.conn,
        [
            {"mentee_id": mentee_id, "mentor_id": None, "policy_name": policy.policy, "phase": initial,
             "phase_entered_at": now, "due_at": due, "version": 1, "audit_seq": 0, "audit_head": "",
             "created_at": now, "previous_id": before.get(mentee_id)}
            for mentee_id, _ in mentees
        ],
    )  # fmt: skip
    mentee_of = dict(zip(rel_ids, (m for m, _ in mentees), strict=True))
    set_now = created_goals(uow, policy, now, mentee_of, actor, profiles=goals)
    causes = [
        Cause(
            actor,
            "create",
            reason,
            _creation_data(mentee_id, key, before.get(mentee_id), set_now.get(rel_id)),
        )
        for rel_id, (mentee_id, key) in zip(rel_ids, mentees, strict=True)
    ]
    mover = Mover(policy, now)
    entries = [mover.creation(i, cause) for i, cause in zip(rel_ids, causes, strict=True)]
    rel_store.set_chain_heads(uow.conn, [(e["relationship_id"], e["seq"], e["hash"]) for e in entries])
    effects = [row for rel_id in rel_ids for row in mover.effects(rel_id, 1, initial)]
    rel_store.append(uow.conn, entries, effects)
    return rel_ids


def _creation_data(
    mentee_id: int, key: str, previous_id: int | None, goals: list[dict[str, object]] | None
) -> dict[str, Any]:
    """What a creation entry records: the mentee, the relationship before it, the goals of the file it
    sets (a first relationship of a mentee without goals records what it always did)."""
    data: dict[str, Any] = {"mentee_id": mentee_id, "mentee": key}
    if previous_id is not None:
        data["previous_id"] = previous_id
    if goals:
        data["goals"] = goals
    return data
