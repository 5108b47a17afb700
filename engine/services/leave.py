"""Leavers and leave: what a participant's status (active, leave, left) does to their open relationships.

The policy says it (``on_leave:`` / ``on_left:``, :mod:`engine.policy.leavers`):
a participant on leave has each open pair moved by the policy's pause trigger
where the policy allows it from the pair's phase, and the coordinator is told
of the others; one who left has each pair closed with the reason (which frees
a mentor's places), and the coordinator is told where the policy cannot close
it; one who returns has the pairs their leave paused resumed. Each status change
is an entry in the participant's own chain (field ``status``), and each pair
moved an entry in its audit chain, in one transaction with the status itself.
The import of a ``status`` column takes the same path (:func:`apply_status`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.domain.change_rows import Change
from engine.domain.changes import Cause, Mover
from engine.domain.effects import outbox_row
from engine.domain.erasure import reference
from engine.domain.lifecycle import Lifecycle
from engine.errors import InputError, NotFoundError, RefusedError
from engine.errors import field as named
from engine.policy.leavers import NOTHING, LeaveRule, leave_rule, left_rule
from engine.policy.model import Policy
from engine.services.facts import load_facts
from engine.store import audit
from engine.store import participant_entries as entry_store
from engine.store import participants as people_store
from engine.store import relationships as rel_store
from engine.store.database import UnitOfWork
from engine.store.relationships import RelationshipRow

if TYPE_CHECKING:
    from sqlalchemy import Engine, Row

    from engine.clock import Clock

CAUSES = {"leave": "leave", "left": "left", "active": "return"}
"""The cause of the participant entry each new status writes."""


@dataclass(frozen=True)
class Consequence:
    """What a status change does to one relationship: ``paused (pause)``, ``coordinator told (...)``."""

    relationship_id: int
    what: str

    def __str__(self) -> str:
        return f"relationship {self.relationship_id}: {self.what}"


@dataclass
class StatusChange:
    """A participant's status change and what it does (or, in a dry run, would do) to their pairs."""

    participant_id: int
    key: str
    name: str
    before: str
    after: str
    consequences: list[Consequence] = field(default_factory=list)


def change_status(
    store: Engine,
    policy: Policy,
    clock: Clock,
    ref: str,
    status: str,
    *,
    reason: str | None,
    actor: str,
    on: datetime | None = None,
) -> StatusChange:
    """Put a participant on leave (``leave``), mark them gone (``left``) or back (``active``)."""
    now = clock.now()
    if status in ("leave", "left") and not (reason or "").strip():
        raise InputError(f"{named('reason')}: say why (it is recorded on each relationship it moves)")
    if on is not None and on > now:
        raise InputError(
            f"{named('on')}: {on:%Y-%m-%d} is in the future (record the leave on the day it starts)"
        )
    with UnitOfWork(store) as uow:
        row = people_store.participant_by_ref(uow.conn, ref, lock=True)
        if row is None:
            raise NotFoundError(f"no participant {ref!r} (give an id, external id or email)")
        if row.status == status:
            raise RefusedError(f"{row.name} ({_key(row)}) is already {_shown(status)}")
        if status == "active" and row.status == "left":
            raise RefusedError(f"{row.name} ({_key(row)}) has left; import them again with status active")
        change = apply_status(uow, policy, row, status, reason, actor, now, on=on)
        uow.commit()
    return change


def apply_status(
    uow: UnitOfWork,
    policy: Policy,
    row: Row[Any],
    status: str,
    reason: str | None,
    actor: str,
    now: datetime,
    *,
    on: datetime | None = None,
    write: bool = True,
) -> StatusChange:
    """Set ``row``'s status, move or flag their open pairs; with ``write=False`` only say what it would do."""
    pid, key = int(row.id), _key(row)
    change = StatusChange(pid, key, row.name, row.status, status)
    seq = int(row.audit_seq) + 1
    if write:
        people_store.set_status(uow.conn, pid, status, now)
        seq = entry_store.record_participant_change(uow.conn, pid, actor, ["status"], CAUSES[status], now)[
            "seq"
        ]
    ids = people_store.open_relationship_ids(uow.conn, pid, policy.policy, policy.terminal_phases)
    rels = list(rel_store.relationship_rows(uow.conn, ids, lock=write).values())
    if status == "active":
        rels = [r for r in rels if _paused_by_leave(uow, r, pid)]
    trigger, otherwise = _rule(policy, status, row.status)
    ref = reference(row.external_id, pid)  # the chain names them by ids, never by address
    reason = reason or f"participant {ref} is {_shown(status)}"
    data = {"participant": ref, "status": status, "leave_of": pid}
    if on is not None:
        data["since"] = on.date().isoformat()
    changes = _moves(uow, policy, rels, trigger, Cause(actor, trigger or "", reason, data), now)
    effects = _tell(change, rels, changes, trigger, otherwise, f"participant:{pid}:entry:{seq}", now)
    if write:
        moves = list(changes.values())
        rel_store.apply_moves(uow.conn, [c.update for c in moves], [c.entry for c in moves], [])
        rel_store.append(uow.conn, [], [*(e for c in moves for e in c.effects), *effects])
        audit.record_policy_version(uow.conn, policy, now)
    return change


def _tell(
    change: StatusChange,
    rels: list[RelationshipRow],
    changes: dict[int, Change],
    trigger: str | None,
    otherwise: str,
    cause_key: str,
    now: datetime,
) -> list[dict[str, Any]]:
    """Note what happens to each pair; the outbox rows that tell the coordinator of those not moved."""
    effects = []
    for rel in rels:
        moved = changes.get(rel.id)
        if moved is not None:
            change.consequences.append(Consequence(rel.id, f"{moved.update.phase} ({trigger})"))
        elif otherwise != NOTHING:
            change.consequences.append(
                Consequence(rel.id, f"stays {rel.phase}; coordinator told ({otherwise})")
            )
            params = {
                "phase": rel.phase,
                "recipient": "coordinator",
                "participant": change.key,
                "status": change.after,
            }
            key = f"{cause_key}:{otherwise}:rel:{rel.id}"
            effects.append(outbox_row(rel.id, key, otherwise, params, now))
    return effects


def _rule(policy: Policy, status: str, before: str) -> tuple[str | None, str]:
    """(the trigger to fire, the action where it may not fire) for a change to ``status``."""
    if status == "active":
        rule: LeaveRule = leave_rule(policy)
        return (rule.resume if before == "leave" else None), NOTHING
    chosen = leave_rule(policy) if status == "leave" else left_rule(policy)
    return chosen.fire, chosen.otherwise


def _moves(
    uow: UnitOfWork,
    policy: Policy,
    rels: list[RelationshipRow],
    trigger: str | None,
    cause: Cause,
    now: datetime,
) -> dict[int, Change]:
    """The changes ``trigger`` makes to the pairs it may move now, keyed by relationship."""
    if trigger is None or not rels or trigger not in {t.trigger for t in policy.transitions}:
        return {}
    lifecycle = Lifecycle(policy)
    facts = load_facts(uow, policy, rels, now, cause.reason, reads=lifecycle.reads(trigger))
    fire, mover = lifecycle.firing(trigger), Mover(policy, now)
    changes: dict[int, Change] = {}
    for rel in rels:
        try:
            move = fire(rel.phase, facts[rel.id])
        except RefusedError:
            continue
        data = {**cause.data, "requires": [c.name for c in move.edge.requires]}
        changes[rel.id] = mover.change(rel, move.dest, Cause(cause.actor, trigger, cause.reason, data))
    return changes


def _paused_by_leave(uow: UnitOfWork, rel: RelationshipRow, participant_id: int) -> bool:
    """Did this participant's leave move the pair into its current stay?"""
    entries = audit.history(uow.conn, rel.id)
    moves = [e for e in entries if e.from_phase != e.to_phase or e.seq == 1]
    last = moves[-1] if moves else None
    return (
        last is not None
        and (last.data or {}).get("leave_of") == participant_id
        and last.data.get("status") == "leave"
    )


def _key(row: Row[Any]) -> str:
    return str(row.external_id or row.email)


def _shown(status: str) -> str:
    return {"leave": "on leave", "left": "gone (left)", "active": "active"}[status]
