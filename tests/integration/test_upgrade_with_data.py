"""Upgrading a database that holds a program: every migration since 0003 keeps its rows and its history."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, func, select

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy
from engine.services import queries, recording
from engine.store.database import initialise, migrate, schema_revision
from engine.store.tables import audit_entries, meetings, participants, relationships
from tests.integration.support import TRAINED_MENTOR, fire, import_examples


def _counts(store: Engine) -> dict[str, int]:
    with store.connect() as conn:
        return {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (participants, relationships, audit_entries, meetings)
        }


def test_an_upgrade_from_0003_keeps_every_row_and_the_history_verifies(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rels = import_examples(store, policy, clock)
    for rel in rels[:2]:
        fire(store, lifecycle, clock, rel, "match", mentor=TRAINED_MENTOR)
        fire(store, lifecycle, clock, rel, "schedule_kickoff")
        clock.advance(timedelta(days=1))
        recording.record_meeting(store, policy, clock, rel, "kickoff", None, actor="pair")
    before, heads = _counts(store), queries.verify(store).digest

    migrate(store, "downgrade", "0003")  # the schema of the last release, rows and all
    assert schema_revision(store) == "0003"
    initialise(store)  # what `mentorflow init` does after an upgrade

    assert _counts(store) == before
    report = queries.verify(store)
    assert report.problems == [] and report.digest == heads
