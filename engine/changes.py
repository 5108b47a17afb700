"""Building one phase change: the row update, its audit entry and its outbox rows.

Pure functions over plain data: the services load the relationship, the
lifecycle decides the move, and these functions shape what is written, so a
single advance and a batch of thousands write exactly the same things.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.audit import GENESIS, entry_hash
from engine.domain import Relationship
from engine.policy import Policy
from engine.rules import Standing, next_due


@dataclass(frozen=True)
class Cause:
    """Who moves a relationship and why: recorded in the audit entry."""

    actor: str
    trigger: str
    reason: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Change:
    """Everything one phase change writes, in one transaction."""

    update: dict[str, Any]
    entry: dict[str, Any]
    effects: list[dict[str, Any]]


def audit_entry(
    rel_id: int,
    seq: int,
    prev_hash: str,
    source: str | None,
    dest: str,
    cause: Cause,
    policy: Policy,
    now: datetime,
) -> dict[str, Any]:
    """An audit entry with its hash, chained to ``prev_hash``."""
    entry: dict[str, Any] = {
        "relationship_id": rel_id,
        "seq": seq,
        "at": now,
        "actor": cause.actor,
        "trigger": cause.trigger,
        "from_phase": source,
        "to_phase": dest,
        "reason": cause.reason,
        "policy_name": policy.policy,
        "policy_version": policy.digest,
        "data": cause.data,
        "prev_hash": prev_hash,
    }
    entry["hash"] = entry_hash(entry)
    return entry


def effects_of_entering(
    rel_id: int, seq: int, dest: str, policy: Policy, now: datetime
) -> list[dict[str, Any]]:
    """The outbox rows the ``on_enter`` actions of ``dest`` cause, each with its idempotency key."""
    rows = []
    for call in policy.phases[dest].on_enter:
        params = call.param.model_dump(mode="json") if call.param is not None else {}
        rows.append(
            {
                "relationship_id": rel_id,
                "idempotency_key": f"rel:{rel_id}:entry:{seq}:{call.name}",
                "action": call.name,
                "params": {**params, "phase": dest},
                "created_at": now,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "delivered_at": None,
                "last_error": None,
            }
        )
    return rows


def phase_change(
    rel: Relationship,
    dest: str,
    cause: Cause,
    policy: Policy,
    now: datetime,
    *,
    mentor_id: int | None = None,
    last_meeting_at: datetime | None = None,
) -> Change:
    """The change that moves ``rel`` to ``dest`` now."""
    seq = rel.audit_seq + 1
    entry = audit_entry(rel.id, seq, rel.audit_head, rel.phase, dest, cause, policy, now)
    standing = Standing(dest, now, last_meeting_at)
    update = {
        "b_id": rel.id,
        "b_version": rel.version,
        "phase": dest,
        "phase_entered_at": now,
        "due_at": None if policy.phases[dest].terminal else next_due(policy, standing),
        "mentor_id": mentor_id if mentor_id is not None else rel.mentor_id,
        "audit_seq": seq,
        "audit_head": entry["hash"],
    }
    return Change(update, entry, effects_of_entering(rel.id, seq, dest, policy, now))


def creation_entry(rel_id: int, cause: Cause, policy: Policy, now: datetime) -> dict[str, Any]:
    """The first link of a relationship's chain: its creation in the initial phase."""
    return audit_entry(rel_id, 1, GENESIS, None, policy.initial_phase, cause, policy, now)
