"""Importing participants: all or nothing, idempotent, and every relationship born with its audit entry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from engine.clock import SimulatedClock
from engine.domain.audit import GENESIS
from engine.errors import InputError
from engine.policy.model import Policy
from engine.services import participants as services
from engine.services import queries
from engine.store.tables import audit_entries, outbox, participants, policy_versions, relationships

from .support import count, example_people, footprint, import_examples


def test_import_creates_participants_relationships_and_creation_entries(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    people = example_people()
    mentees = [p for p in people if p.role == "mentee"]

    summary = services.import_participants(store, policy, clock, people, actor="hr@example.com")

    assert (summary.created, summary.updated, summary.unchanged) == (len(people), 0, 0)
    assert len(summary.relationships_opened) == len(mentees) == 14
    assert count(store, participants) == len(people)
    assert count(store, relationships) == len(mentees)
    assert count(store, audit_entries) == len(mentees)
    assert count(store, outbox) == 0  # intake has no on_enter actions
    with store.connect() as conn:
        rels = conn.execute(select(relationships).order_by(relationships.c.id)).mappings().all()
        entries = conn.execute(select(audit_entries).order_by(audit_entries.c.id)).mappings().all()
        recorded = conn.execute(select(policy_versions.c.digest, policy_versions.c.name)).all()
    assert {r["phase"] for r in rels} == {"intake"}
    assert all(r["mentor_id"] is None and r["version"] == 1 and r["audit_seq"] == 1 for r in rels)
    assert all(r["phase_entered_at"] == clock.now() for r in rels)
    for rel, entry in zip(rels, entries, strict=True):
        assert entry["relationship_id"] == rel["id"]
        assert (entry["seq"], entry["trigger"], entry["from_phase"], entry["to_phase"]) == (
            1,
            "create",
            None,
            "intake",
        )
        assert entry["actor"] == "hr@example.com"
        assert entry["prev_hash"] == GENESIS
        assert entry["hash"] == rel["audit_head"]
        assert entry["policy_version"] == policy.digest
    assert recorded == [(policy.digest, "default")]
    assert queries.verify(store).problems == []


def test_names_and_lists_survive_the_round_trip(store: Engine, policy: Policy, clock: SimulatedClock) -> None:
    import_examples(store, policy, clock)

    with store.connect() as conn:
        zoe = conn.execute(select(participants).where(participants.c.external_id == "E1101")).mappings().one()

    assert zoe["name"] == "Zoë Çelik"
    assert zoe["wants"] == ["software architecture", "code review", "public speaking"]
    assert zoe["languages"] == ["nl", "en", "tr"]
    assert zoe["capacity"] == 1 and zoe["trained"] is False


def test_reimport_is_idempotent(store: Engine, policy: Policy, clock: SimulatedClock) -> None:
    import_examples(store, policy, clock)
    before = footprint(store)
    clock.advance(timedelta(days=1))

    again = services.import_participants(store, policy, clock, example_people(), actor="hr")

    assert (again.created, again.updated, again.unchanged) == (0, 0, 20)
    assert again.relationships_opened == []
    assert footprint(store) == before


def test_reimport_counts_and_writes_updated_fields(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    import_examples(store, policy, clock)
    people = example_people()
    changed = {
        "E1001": {"department": "Architecture"},
        "E1101": {"wants": ("python",), "level": 3},
    }
    edited = [p.model_copy(update=changed.get(p.key, {})) for p in people]

    summary = services.import_participants(store, policy, clock, edited, actor="hr")

    assert (summary.created, summary.updated, summary.unchanged) == (0, 2, 18)
    assert summary.relationships_opened == []
    with store.connect() as conn:
        rows = {
            r["external_id"]: r
            for r in conn.execute(
                select(participants).where(participants.c.external_id.in_(["E1001", "E1101"]))
            ).mappings()
        }
    assert rows["E1001"]["department"] == "Architecture"
    assert rows["E1101"]["wants"] == ["python"]
    assert rows["E1101"]["level"] == 3


def test_reimport_with_a_new_mentee_opens_only_its_relationship(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    first = import_examples(store, policy, clock)
    newcomer = example_people()[-1].model_copy(
        update={"external_id": "E1999", "email": "new.hire@example.com", "name": "New Hire"}
    )

    summary = services.import_participants(store, policy, clock, [*example_people(), newcomer], actor="hr")

    assert (summary.created, summary.unchanged) == (1, 20)
    assert len(summary.relationships_opened) == 1
    assert summary.relationships_opened[0] not in first
    assert count(store, audit_entries) == len(first) + 1


def test_import_is_all_or_nothing(store: Engine, policy: Policy, clock: SimulatedClock) -> None:
    import_examples(store, policy, clock)
    before = footprint(store)
    people = example_people()
    # A new mentee first (it would open a relationship), then a row whose email belongs to someone else.
    newcomer = people[-1].model_copy(
        update={"external_id": "E1999", "email": "new.hire@example.com", "name": "New Hire"}
    )
    impostor = people[0].model_copy(update={"external_id": "E2999"})  # Jeroen's email, another id

    with pytest.raises(InputError) as caught:
        services.import_participants(store, policy, clock, [newcomer, impostor], actor="hr")

    assert "E2999" in str(caught.value) and "jeroen.vandenbergh@example.com" in str(caught.value)
    assert footprint(store) == before
