"""participant history: a status per participant, a hash chain of participant entries, rematches

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

Participants get a ``status`` (active, leave, left) and the head of their own
audit chain (``audit_seq``, ``audit_head``); ``participant_entries`` holds that
chain, append-only like ``audit_entries``; a relationship opened again for a
mentee names the one before it (``previous_id``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.store.tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=10), nullable=False, server_default="active")
        )
        batch_op.add_column(sa.Column("audit_seq", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("audit_head", sa.String(length=64), nullable=False, server_default=""))
    with op.batch_alter_table("relationships", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_relationships_previous_id_relationships"), "relationships", ["previous_id"], ["id"]
        )
    op.create_table(
        "participant_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", engine.store.tables.UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("cause", sa.String(length=64), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_participant_entries_participant_id_participants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participant_entries")),
        sa.UniqueConstraint("participant_id", "seq", name=op.f("uq_participant_entries_participant_id_seq")),
    )
    _forbid_entry_changes()


def _forbid_entry_changes() -> None:
    """Participant entries are append-only in the database itself, as audit entries are."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION mentorflow_participant_entries_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'participant entries are append-only'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER participant_entries_append_only BEFORE UPDATE OR DELETE ON participant_entries "
            "FOR EACH ROW EXECUTE FUNCTION mentorflow_participant_entries_append_only()"
        )
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER participant_entries_no_{event.lower()} BEFORE {event} ON participant_entries "
            "BEGIN SELECT RAISE(ABORT, 'participant entries are append-only'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS participant_entries_append_only ON participant_entries")
        op.execute("DROP FUNCTION IF EXISTS mentorflow_participant_entries_append_only()")
    op.drop_table("participant_entries")
    with op.batch_alter_table("relationships", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_relationships_previous_id_relationships"), type_="foreignkey")
        batch_op.drop_column("previous_id")
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_column("audit_head")
        batch_op.drop_column("audit_seq")
        batch_op.drop_column("status")
