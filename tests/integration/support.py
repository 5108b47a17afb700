"""Helpers of the contract suite: the example participants, and what the store holds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, Table, func, select

from engine import services
from engine.clock import Clock
from engine.domain import AuditEntry
from engine.lifecycle import Lifecycle
from engine.participants import Participant, parse_participants_csv
from engine.policy import Policy
from engine.store.tables import audit_entries, outbox, participants, relationships

EXAMPLES = Path(__file__).parents[2] / "examples" / "participants.csv"

TRAINED_MENTOR = "E1001"  # Jeroen van den Bergh: trained, capacity 3
UNTRAINED_MENTOR = "E1003"  # Søren Ødegaard: not trained, capacity 3
SINGLE_MENTOR = "E1006"  # Anouk Jansen: trained, capacity 1
A_MENTEE = "E1102"  # Thijs Bakker


def example_people() -> list[Participant]:
    return parse_participants_csv(EXAMPLES)


def import_examples(store: Engine, policy: Policy, clock: Clock) -> list[int]:
    """Import examples/participants.csv; returns the relationships opened, one per mentee."""
    return services.import_participants(
        store, policy, clock, example_people(), actor="hr"
    ).relationships_opened


def fire(
    store: Engine,
    lifecycle: Lifecycle,
    clock: Clock,
    rel_id: int,
    trigger: str,
    *,
    mentor: str | None = None,
    reason: str | None = None,
    actor: str = "coordinator@example.com",
) -> AuditEntry:
    request = services.AdvanceRequest(rel_id, trigger, actor, reason=reason, mentor=mentor)
    return services.advance(store, lifecycle, clock, request)


def count(store: Engine, table: Table, rel_id: int | None = None) -> int:
    query = select(func.count()).select_from(table)
    if rel_id is not None:
        query = query.where(table.c.relationship_id == rel_id)
    with store.connect() as conn:
        return int(conn.execute(query).scalar_one())


@dataclass(frozen=True)
class Footprint:
    """What a write would change: the relationship rows' versions, and the audit and outbox rows."""

    versions: dict[int, int]
    audit: int
    outbox: int
    participants: int


def footprint(store: Engine) -> Footprint:
    with store.connect() as conn:
        versions = dict(conn.execute(select(relationships.c.id, relationships.c.version)).all())
    return Footprint(versions, count(store, audit_entries), count(store, outbox), count(store, participants))


def outbox_rows(store: Engine, rel_id: int) -> list[dict[str, object]]:
    query = select(outbox).where(outbox.c.relationship_id == rel_id).order_by(outbox.c.id)
    with store.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]
