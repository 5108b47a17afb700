"""indexes for the queries of the tick, delivery, matching and the report

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

Each index matches the WHERE and ORDER BY of a query the engine issues, so none
of them reads a whole table (``tests/integration/test_query_plans.py`` checks
the plans on SQLite and PostgreSQL):

- ``relationships (policy_name, due_at, id) WHERE due_at IS NOT NULL``: the
  tick's due query, in its order; it replaces the index on ``due_at`` alone,
  which read every program's due pairs to find one program's;
- ``relationships (policy_name, phase)``: a program's pairs waiting for a mentor,
  its standings;
- ``relationships (mentee_id)`` and ``(mentor_id)``: the pairs a person had
  (matching's constraints, a mentor's load);
- ``outbox (next_attempt_at, id) WHERE next_attempt_at IS NOT NULL``: the rows
  delivery claims, in its order; only rows still to send have a next attempt, so
  the rows sent before are not in it;
- ``outbox (relationship_id)``: a pair's unsent rows (leave, a mentor replaced);
- ``audit_entries (trigger, relationship_id, at)``: the retractions and recordings read by
  trigger, for the pairs a tick handles (a pair's own entries are not read to find none).

On PostgreSQL the upgrade holds writes to these tables while it builds the
indexes (a migration runs in one transaction, so not ``CONCURRENTLY``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_PARTIAL = {
    "ix_relationships_policy_name_due_at_id": ("relationships", ["policy_name", "due_at", "id"], "due_at"),
    "ix_outbox_next_attempt_at_id": ("outbox", ["next_attempt_at", "id"], "next_attempt_at"),
}
_PLAIN = {
    "ix_relationships_policy_name_phase": ("relationships", ["policy_name", "phase"]),
    "ix_relationships_mentee_id": ("relationships", ["mentee_id"]),
    "ix_relationships_mentor_id": ("relationships", ["mentor_id"]),
    "ix_outbox_relationship_id": ("outbox", ["relationship_id"]),
    "ix_audit_entries_trigger_relationship_id_at": ("audit_entries", ["trigger", "relationship_id", "at"]),
}


def upgrade() -> None:
    for name, (table, columns, present) in _PARTIAL.items():
        where = sa.text(f"{present} IS NOT NULL")
        op.create_index(name, table, columns, sqlite_where=where, postgresql_where=where)
    for name, (table, columns) in _PLAIN.items():
        op.create_index(name, table, columns)
    op.drop_index("ix_relationships_due_at", table_name="relationships")


def downgrade() -> None:
    op.create_index("ix_relationships_due_at", "relationships", ["due_at"])
    tables = {name: table for name, (table, *_) in _PARTIAL.items()}
    tables.update((name, table) for name, (table, _) in _PLAIN.items())
    for name, table in tables.items():
        op.drop_index(name, table_name=table)
